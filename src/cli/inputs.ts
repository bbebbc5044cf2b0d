/**
 * The input flags shared by `plan`, `render` and `commit`, and turning them into a plan (or
 * reading a saved one with `--plan`).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { OsvError } from '../errors.js';
import { loadControlPlane, type ControlPlaneInput } from '../inputs/controlplane.js';
import { loadCsv, type CsvInput } from '../inputs/csv.js';
import { loadCustomImages } from '../inputs/custom-images.js';
import { loadNodeSets, type NodeSetInput } from '../inputs/nodesets.js';
import { loadOpenStackVersion } from '../inputs/openstack-version.js';
import { buildPlan, DEFAULT_OPERATOR_NAMESPACE, type OperatorPhaseOptions, type PlanOptions } from '../plan/build.js';
import { parseChannel, readSubscriptionText } from '../olm/subscription.js';
import { parseSavedPlan } from '../plan/saved.js';
import type { UpdatePlan } from '../plan/types.js';
import { readObjects, readTextInput } from '../inputs/yaml.js';
import { csvFromInstallPlan, type InstallPlanCsv } from '../olm/installplan-csv.js';
import { parseAttempt, parseName, parseNamespace, parseReleaseVersion } from '../validate/grammar.js';
import { quoteInput } from '../validate/quote.js';
import { projectRoot } from '../validate/project-root.js';
import type { CliIo } from './io.js';
import type { InputFlags } from './options.js';

export { addInputOptions, type InputFlags } from './options.js';


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
  /** `--subscription`: the user's Subscription file (absolute), pinned in place by phase 0. */
  readonly subscriptionFile?: string;
  /** Its text, read once here: directories mode renders the pinned Subscription from it. */
  readonly subscriptionText?: string;
  /** The manifests render carries through unchanged. */
  readonly controlPlane?: Readonly<Record<string, unknown>>;
  readonly nodeSets: readonly Readonly<Record<string, unknown>>[];
}

/** The plan and the manifests to carry: from the input flags, or a saved plan plus the manifests. */
export function loadUpdate(f: InputFlags, io: CliIo, read: { readonly csv?: CsvInput } = {}): LoadedUpdate {
  // flags first: a bad --target or --namespace is refused before any file is read
  const options = f.plan === undefined ? planOptions(f) : undefined;
  const ex = f.example ? exampleDir() : undefined;
  const pick = (flag: string | undefined, exampleFile: string) => (flag !== undefined ? at(io, flag) : ex ? join(ex, exampleFile) : undefined);
  const cpFile = pick(f.controlplane, 'controlplane.yaml');
  const nsPath = pick(f.nodesets, 'nodesets');
  const controlPlane = cpFile ? loadControlPlane(cpFile) : undefined;
  const nodeSets = nsPath ? loadNodeSets(nsPath) : [];
  const subscriptionFile = f.subscription !== undefined ? at(io, f.subscription) : undefined;
  const subscriptionText = subscriptionFile !== undefined ? readTextInput(subscriptionFile, 'the Subscription') : undefined;
  const operator = subscriptionFile !== undefined && subscriptionText !== undefined && options !== undefined ? operatorOptions(subscriptionFile, f, subscriptionText) : undefined;
  const plan = options === undefined ? readSavedPlan(at(io, f.plan ?? '')) : planFromFlags(f, io, { ...options, ...(operator ? { operator } : {}) }, { controlPlane, nodeSets, csv: read.csv });
  if (subscriptionFile !== undefined && !plan.operatorUpgrade) {
    throw new OsvError('USAGE', '--subscription goes with a plan that has phase 0 operator; this saved plan has none', { hint: 'Make the plan with `osv-gitops plan --subscription FILE --output plan.json`.' });
  }
  if (subscriptionFile === undefined && plan.operatorUpgrade) {
    throw new OsvError('USAGE', `the plan starts with phase 0 operator: pass --subscription with your Subscription ${plan.operatorUpgrade.subscription}`);
  }
  return {
    plan,
    ...(subscriptionFile !== undefined ? { subscriptionFile } : {}),
    ...(subscriptionText !== undefined ? { subscriptionText } : {}),
    ...(controlPlane ? { controlPlane: controlPlane.manifest } : {}),
    nodeSets: nodeSets.map((n) => n.manifest),
  };
}

/** `--subscription` and `--channel`: the user's Subscription, read and validated once here. */
function operatorOptions(file: string, f: InputFlags, text = readTextInput(file, 'the Subscription')): OperatorPhaseOptions {
  const { sub } = readSubscriptionText(text, file);
  return { subscription: sub, ...(f.channel !== undefined ? { channel: parseChannel(f.channel) } : {}) };
}

/** Where `--subscription` lives on the cluster and the CSV it starts from, before any plan is made. */
export function subscriptionAt(f: InputFlags, io: CliIo): { namespace: string; startingCSV?: string } {
  const sub = operatorOptions(at(io, f.subscription ?? ''), f).subscription;
  return { namespace: sub.namespace ?? DEFAULT_OPERATOR_NAMESPACE, ...(sub.startingCSV !== undefined ? { startingCSV: sub.startingCSV } : {}) };
}

/** The operator namespace of `--subscription` (where its InstallPlans are read), before any plan is made. */
export function subscriptionNamespace(f: InputFlags, io: CliIo): string | undefined {
  if (f.subscription === undefined) return undefined;
  return operatorOptions(at(io, f.subscription), f).subscription.namespace ?? DEFAULT_OPERATOR_NAMESPACE;
}

/** `--installplan`: the CSV the InstallPlan installs, with where it came from and what else the plan installs. */
function installPlanCsv(file: string): CsvInput {
  return withInstallPlanNotes(csvFromInstallPlan(readObjects(file, 'the InstallPlan'), file));
}

/** The CSV of an InstallPlan, carrying where it came from and a warning for the CSVs OLM bundled in. */
export function withInstallPlanNotes({ csv, origin, alsoInstalls }: InstallPlanCsv): CsvInput {
  const bundled = alsoInstalls.length
    ? [`the InstallPlan also installs ${alsoInstalls.join(', ')}: phase 0 never approves it (advance --approve-installplan refuses a plan with other CSVs)`]
    : [];
  return { ...csv, origin, warnings: [...csv.warnings, ...bundled] };
}

function planFromFlags(
  f: InputFlags,
  io: CliIo,
  options: PlanOptions,
  loaded: { controlPlane: ControlPlaneInput | undefined; nodeSets: NodeSetInput[]; csv: CsvInput | undefined },
): UpdatePlan {
  const ex = f.example ? exampleDir() : undefined;
  const pick = (flag: string | undefined, exampleFile: string) => (flag !== undefined ? at(io, flag) : ex ? join(ex, exampleFile) : undefined);
  const osvFile = pick(f.openstackVersion, 'openstackversion.yaml');
  if (osvFile === undefined) {
    throw new OsvError('USAGE', 'missing --openstack-version', { hint: 'Try `osv-gitops plan --example`, or see `osv-gitops plan --help`.' });
  }
  if (f.installplan !== undefined && f.csv !== undefined) throw new OsvError('USAGE', '--installplan and --csv both give the target CSV: pass one');
  const csvFile = f.installplan === undefined ? pick(f.csv, 'csv.yaml') : undefined;
  const csv = loaded.csv ?? (f.installplan !== undefined ? installPlanCsv(at(io, f.installplan)) : csvFile ? loadCsv(csvFile) : undefined);
  const customFile = f.customImages !== undefined ? at(io, f.customImages) : undefined;
  return buildPlan(
    {
      openStackVersion: loadOpenStackVersion(osvFile),
      ...(csv ? { csv } : {}),
      ...(loaded.controlPlane ? { controlPlane: loaded.controlPlane } : {}),
      ...(customFile ? { customImages: loadCustomImages(customFile) } : {}),
      nodeSets: loaded.nodeSets,
    },
    options,
  );
}
