/**
 * The input flags shared by `plan`, `render` and `commit`, and turning them into a plan (or
 * reading a saved one with `--plan`).
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { OsvError } from '../errors.js';
import { loadControlPlane, type ControlPlaneInput } from '../inputs/controlplane.js';
import { loadCsv } from '../inputs/csv.js';
import { loadCustomImages } from '../inputs/custom-images.js';
import { loadNodeSets, type NodeSetInput } from '../inputs/nodesets.js';
import { loadOpenStackVersion } from '../inputs/openstack-version.js';
import { buildPlan, type PlanOptions } from '../plan/build.js';
import { parseSavedPlan } from '../plan/saved.js';
import type { UpdatePlan } from '../plan/types.js';
import { readTextInput } from '../inputs/yaml.js';
import { parseAttempt, parseName, parseNamespace, parseReleaseVersion } from '../validate/grammar.js';
import { quoteInput } from '../validate/quote.js';
import { projectRoot } from '../validate/project-root.js';
import type { CliIo } from './io.js';

export interface InputFlags {
  readonly example?: boolean;
  readonly plan?: string;
  readonly csv?: string;
  readonly openstackVersion?: string;
  readonly customImages?: string;
  readonly nodesets?: string;
  readonly controlplane?: string;
  readonly target?: string;
  readonly namespace?: string;
  readonly dataplaneService?: string;
  readonly updateSystem?: boolean;
  readonly reboot?: boolean;
  readonly batch?: string[];
  readonly skipCustomImagesValidation?: boolean;
  readonly attempt?: string;
  readonly namePrefix?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addInputOptions(cmd: Command, { savedPlan }: { savedPlan: boolean }): Command {
  cmd
    .option('--example', 'use the bundled example (fixtures/example) for every input')
    .option('--csv <file>', 'the openstack-operator ClusterServiceVersion (`oc get csv NAME -o yaml`, a bundle CSV, a List)')
    .option('--openstack-version <file>', 'the OpenStackVersion (`oc get openstackversion -o yaml`, or the spec from your repository)')
    .option('--custom-images <file>', 'the complete customContainerImages for the target version (YAML map; `{}` drops them)')
    .option('--nodesets <file|dir>', 'OpenStackDataPlaneNodeSet manifests: a file or a folder searched recursively')
    .option('--controlplane <file>', 'the OpenStackControlPlane (name, OVN and enabled services are read; spec is carried through)')
    .option('--target <version>', 'the version to update to (default: the available version)')
    .option('--namespace <ns>', 'namespace of the OpenStack objects (default: from the inputs, else "openstack")')
    .option('--dataplane-service <name>', 'data-plane update service: update or update-services', 'update')
    .option('--update-system', 'add a dataplane-system phase (update-system service)')
    .option('--reboot', 'reboot nodes in the dataplane-system phase (reboot-os, edpm_reboot_strategy: force)')
    .option('--batch <nodesets>', 'a nodeset batch, comma-separated; repeat for more batches, the rest form the last batch', collect)
    .option('--skip-custom-images-validation', 'keep unchanged custom images by setting the skip annotation')
    .option('--attempt <n>', 're-run number, gives new data-plane deployment names (-r<n>)', '1')
    .option('--name-prefix <prefix>', 'prefix of data-plane deployment names', 'edpm');
  if (savedPlan) cmd.option('--plan <plan.json>', 'a plan saved with `plan --output` (instead of the input flags)');
  return cmd;
}

export function exampleDir(): string {
  return join(projectRoot(), 'fixtures', 'example');
}

/** The flags that shape the plan, each checked against its grammar before anything is read. */
export function planOptions(f: InputFlags): PlanOptions {
  const service = f.dataplaneService ?? 'update';
  if (service !== 'update' && service !== 'update-services') {
    throw new OsvError('USAGE', `--dataplane-service must be update or update-services, not ${quoteInput(service)}`);
  }
  const attempt = parseAttempt(f.attempt ?? '1');
  return {
    ...(f.target !== undefined ? { target: parseReleaseVersion(f.target, '--target') } : {}),
    ...(f.namespace !== undefined ? { namespace: parseNamespace(f.namespace, '--namespace') } : {}),
    dataplaneService: service,
    updateSystem: f.updateSystem ?? false,
    reboot: f.reboot ?? false,
    ...(f.batch ? { batches: f.batch.map((b) => b.split(',').map((s) => s.trim()).filter(Boolean).map((n) => parseName(n, 'nodeset', '--batch nodeset'))) } : {}),
    skipCustomImagesValidation: f.skipCustomImagesValidation ?? false,
    attempt,
    namePrefix: parseName(f.namePrefix ?? 'edpm', 'namePrefix', '--name-prefix'),
  };
}

/** A plan saved with `plan --output`: size-limited, valid JSON, the right structure, an untouched id. */
export function readSavedPlan(file: string): UpdatePlan {
  const text = readTextInput(file, 'the plan');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new OsvError('PLAN_INVALID', `cannot read the plan: not valid JSON (${e instanceof Error ? e.message : String(e)})`, { location: { file } });
  }
  return parseSavedPlan(data, file);
}

/** Resolve a path flag against the working directory. */
function at(io: CliIo, p: string): string {
  return isAbsolute(p) ? p : resolve(io.cwd, p);
}

export interface LoadedUpdate {
  readonly plan: UpdatePlan;
  /** The manifests render carries through unchanged. */
  readonly controlPlane?: Readonly<Record<string, unknown>>;
  readonly nodeSets: readonly Readonly<Record<string, unknown>>[];
}

/** The plan and the manifests to carry: from the input flags, or a saved plan plus the manifests. */
export function loadUpdate(f: InputFlags, io: CliIo): LoadedUpdate {
  // flags first: a bad --target or --namespace is refused before any file is read
  const options = f.plan === undefined ? planOptions(f) : undefined;
  const ex = f.example ? exampleDir() : undefined;
  const pick = (flag: string | undefined, exampleFile: string) => (flag !== undefined ? at(io, flag) : ex ? join(ex, exampleFile) : undefined);
  const cpFile = pick(f.controlplane, 'controlplane.yaml');
  const nsPath = pick(f.nodesets, 'nodesets');
  const controlPlane = cpFile ? loadControlPlane(cpFile) : undefined;
  const nodeSets = nsPath ? loadNodeSets(nsPath) : [];
  const plan = options === undefined ? readSavedPlan(at(io, f.plan ?? '')) : planFromFlags(f, io, options, { controlPlane, nodeSets });
  return { plan, ...(controlPlane ? { controlPlane: controlPlane.manifest } : {}), nodeSets: nodeSets.map((n) => n.manifest) };
}

function planFromFlags(
  f: InputFlags,
  io: CliIo,
  options: PlanOptions,
  loaded: { controlPlane: ControlPlaneInput | undefined; nodeSets: NodeSetInput[] },
): UpdatePlan {
  const ex = f.example ? exampleDir() : undefined;
  const pick = (flag: string | undefined, exampleFile: string) => (flag !== undefined ? at(io, flag) : ex ? join(ex, exampleFile) : undefined);
  const osvFile = pick(f.openstackVersion, 'openstackversion.yaml');
  if (osvFile === undefined) {
    throw new OsvError('USAGE', 'missing --openstack-version', { hint: 'Try `osv-gitops plan --example`, or see `osv-gitops plan --help`.' });
  }
  const csvFile = pick(f.csv, 'csv.yaml');
  const customFile = f.customImages !== undefined ? at(io, f.customImages) : undefined;
  return buildPlan(
    {
      openStackVersion: loadOpenStackVersion(osvFile),
      ...(csvFile ? { csv: loadCsv(csvFile) } : {}),
      ...(loaded.controlPlane ? { controlPlane: loaded.controlPlane } : {}),
      ...(customFile ? { customImages: loadCustomImages(customFile) } : {}),
      nodeSets: loaded.nodeSets,
    },
    options,
  );
}
