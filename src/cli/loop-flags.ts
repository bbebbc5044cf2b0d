/**
 * Flags shared by `status`, `advance` and `watch`: where the cluster is (or the dumps), which
 * agent object proves what was applied, and where the Git repository is.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from '../inputs/full-yaml.js';
import type { KubeReader } from '../cluster/kube.js';
import { parseAgentFlag, readClusterSnapshot, readFilesSnapshot, type SnapshotTarget } from '../cluster/read.js';
import { OsvError } from '../errors.js';
import type { ClusterSnapshot, KubeObject } from '../status/snapshot.js';
import { at, str } from '../status/snapshot.js';
import { loadUpdate, type LoadedUpdate } from './inputs.js';
import type { CliIo } from './io.js';
import type { InputFlags, LoopFlags } from './options.js';

export { addClusterOptions, addRepoOptions, type LoopFlags } from './options.js';
import { engineOf, withAgentObject } from '../agents/index.js';

export { engineOf as engineFlag } from '../agents/index.js';


export interface SnapshotSource {
  readonly read: () => Promise<ClusterSnapshot>;
  readonly target: SnapshotTarget;
  readonly reader?: KubeReader;
  readonly describe: string;
}

/**
 * Where snapshots come from: the cluster of the kubeconfig, or the dump folder. The Kubernetes
 * client is loaded only here: it takes most of a second, which `plan` and `render` should not pay.
 */
export async function snapshotSource(flags: LoopFlags, io: CliIo, namespace: string | undefined, log?: (l: string) => void, olmNamespace?: string): Promise<SnapshotSource> {
  const agent = flags.agent !== undefined ? parseAgentFlag(flags.agent, withAgentObject(engineOf(flags.engine))) : undefined;
  // phase 0 reads the InstallPlans and the target CSV where OLM runs the operator
  const csvNamespace = flags.csvNamespace ?? olmNamespace;
  const olm = { ...(csvNamespace ? { csvNamespace } : {}), ...(olmNamespace ? { olmNamespace } : {}) };
  if (flags.fromFiles !== undefined) {
    const dir = resolve(io.cwd, flags.fromFiles);
    const target: SnapshotTarget = { namespace: namespace ?? 'openstack', ...olm, ...(agent ? { agent } : {}) };
    return { read: async () => readFilesSnapshot(dir, target), target, describe: `files ${dir}` };
  }
  const { contextNamespace, KubeReader, loadKubeConfig } = await import('../cluster/kube.js');
  const kc = loadKubeConfig({ ...(flags.kubeconfig ? { kubeconfig: resolve(io.cwd, flags.kubeconfig) } : {}), ...(flags.context ? { context: flags.context } : {}) });
  const timeout = Number(flags.requestTimeout ?? '10');
  if (!Number.isFinite(timeout) || timeout <= 0) throw new OsvError('USAGE', '--request-timeout must be a positive number of seconds');
  const reader = new KubeReader(kc, timeout * 1000, undefined, log);
  const ns = namespace ?? contextNamespace(kc) ?? 'openstack';
  const target: SnapshotTarget = { namespace: ns, ...olm, ...(agent ? { agent } : {}) };
  return { read: () => readClusterSnapshot(reader, target), target, reader, describe: `cluster ${reader.server}` };
}

/** Did the user give plan inputs (or the example, or a saved plan)? */
export function hasPlanInputs(flags: InputFlags): boolean {
  return Boolean(flags.example || flags.plan || flags.openstackVersion);
}

/**
 * A plan from what the cluster (or dump) shows, for `status` without inputs: the live
 * OpenStackVersion, the operator CSV when one was read, the control plane and the nodesets.
 * The objects go through the same loaders as files do, so the rules are the same.
 */
export function planFromSnapshot(snapshot: ClusterSnapshot, flags: InputFlags, io: CliIo): LoadedUpdate {
  const osv = snapshot.openStackVersions;
  if (osv.length !== 1) {
    throw new OsvError('STATUS_NOT_FOUND', osv.length ? `${osv.length} OpenStackVersions in ${snapshot.namespace}; expected one` : `no OpenStackVersion in namespace ${snapshot.namespace} (${snapshot.source})`, {
      hint: 'Pass --namespace, or the plan inputs (--openstack-version, --csv, ... or --plan).',
    });
  }
  const dir = mkdtempSync(join(tmpdir(), 'osv-gitops-status-'));
  try {
    const put = (name: string, objs: readonly KubeObject[]) => {
      writeFileSync(join(dir, name), objs.map((o) => stringify(o)).join('---\n'));
      return join(dir, name);
    };
    const csv = (snapshot.csvs ?? []).filter((c) => (str(at(c, 'metadata.name')) ?? '').startsWith('openstack-operator'));
    const target = flags.target ?? str(at(osv[0], 'spec.targetVersion'));
    const fileFlags: InputFlags = {
      ...flags,
      example: false,
      openstackVersion: put('openstackversion.yaml', osv),
      ...(csv.length === 1 ? { csv: put('csv.yaml', csv) } : {}),
      ...(snapshot.controlPlanes.length === 1 ? { controlplane: put('controlplane.yaml', snapshot.controlPlanes) } : {}),
      ...(snapshot.nodeSets.length ? { nodesets: put('nodesets.yaml', snapshot.nodeSets) } : {}),
      ...(target ? { target } : {}),
      namespace: snapshot.namespace,
      // mid-update the live spec already carries the target's custom images: that is not a mistake
      skipCustomImagesValidation: true,
    };
    return loadUpdate(fileFlags, io);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
