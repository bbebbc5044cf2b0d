/**
 * The OpenStackDataPlaneNodeSet controller as a pure function (facts §6.2): setup is instant in
 * the simulator (`SetupReady=True`), and `checkDeployment` walks every deployment of the nodeset,
 * oldest first, copying `containerImages`, `deployedConfigHash` and — only for deployments that
 * ran an `update` or `update-services` service — `deployedVersion` from the finished ones.
 *
 * Status written by someone else (a seeded dump) is kept where no deployment says otherwise, so a
 * rehearsal can start from a nodeset that was deployed before the simulator existed.
 */
import { createHash } from 'node:crypto';
import { ConditionSet, isRecord, readConditions } from './conditions.js';
import { isDeploymentDeployed, isDeploymentFailed } from './reconcile-deployment.js';
import { deploymentNodeSets, deploymentServices, lookupService, serviceCatalog } from './services.js';
import type { JsonObject, KubeObject } from './types.js';

const UPDATE_SERVICE_TYPES: ReadonlySet<string> = new Set(['update', 'update-services']);
const MSG_READY = 'NodeSet Ready';
const MSG_SETUP_READY = 'Setup complete';
const MSG_RUNNING = 'Deployment in progress';
const MSG_NOT_STARTED = 'Deployment not started';

export interface ReconcileNodeSetInput {
  readonly nodeSet: KubeObject;
  /** Every deployment of the namespace; those not listing this nodeset are ignored. */
  readonly deployments: readonly KubeObject[];
  readonly services: readonly KubeObject[];
  readonly now: number;
}

export interface ReconcileNodeSetResult {
  readonly status: JsonObject;
}

/** JSON with sorted keys, so the hash does not depend on key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isRecord(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** The simulator's `status.configHash`: a digest of the spec (the real one also covers secrets and IPs). */
export function nodeSetConfigHash(nodeSet: KubeObject): string {
  return createHash('sha256').update(canonical(nodeSet.spec ?? {})).digest('hex').slice(0, 32);
}

function readyTime(d: KubeObject): string {
  return readConditions(d.status).find((c) => c.type === 'DeploymentReady')?.lastTransitionTime ?? '';
}

export function reconcileNodeSet(input: ReconcileNodeSetInput): ReconcileNodeSetResult {
  const { nodeSet, now } = input;
  const name = nodeSet.metadata.name;
  const previousStatus: JsonObject = isRecord(nodeSet.status) ? nodeSet.status : {};
  const previous = readConditions(previousStatus);
  const status: JsonObject = { ...previousStatus };
  const conds = new ConditionSet(previous);
  if (nodeSet.metadata.generation !== undefined) status['observedGeneration'] = nodeSet.metadata.generation;
  const configHash = nodeSetConfigHash(nodeSet);
  status['configHash'] = configHash;
  conds.markTrue('SetupReady', MSG_SETUP_READY);

  const catalog = serviceCatalog(input.services);
  const mine = input.deployments
    .filter((d) => d.metadata.deletionTimestamp === undefined && deploymentNodeSets(d).includes(name))
    .sort(
      (a, b) =>
        readyTime(a).localeCompare(readyTime(b)) ||
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
        a.metadata.name.localeCompare(b.metadata.name),
    );

  if (mine.length > 0) {
    const statuses: JsonObject = {};
    const images: Record<string, string> = isRecord(previousStatus['containerImages'])
      ? Object.fromEntries(Object.entries(previousStatus['containerImages']).filter((e): e is [string, string] => typeof e[1] === 'string'))
      : {};
    let running = false;
    let failedMessage: string | undefined;
    let completed = 0;
    for (const d of mine) {
      const perNodeSet = isRecord(d.status?.['nodeSetConditions']) ? d.status['nodeSetConditions'][name] : undefined;
      statuses[d.metadata.name] = Array.isArray(perNodeSet) ? perNodeSet : [];
      if (isDeploymentFailed(d)) {
        failedMessage ??= readConditions(d.status).find((c) => c.type === 'DeploymentReady')?.message ?? 'deployment failed';
        continue;
      }
      if (!isDeploymentDeployed(d)) {
        running = true;
        continue;
      }
      const nsReady = readConditions({ conditions: perNodeSet }).find((c) => c.type === 'NodeSetDeploymentReady')?.status === 'True';
      const hashes = d.status?.['nodeSetHashes'];
      const hashMatches = isRecord(hashes) && hashes[name] === configHash;
      if (!nsReady || !hashMatches) continue;
      completed++;
      const deployed = d.status?.['containerImages'];
      if (isRecord(deployed)) for (const [k, v] of Object.entries(deployed)) if (typeof v === 'string') images[k] = v;
      status['deployedConfigHash'] = configHash;
      const ranUpdate = deploymentServices(d, nodeSet).some((s) => UPDATE_SERVICE_TYPES.has(lookupService(catalog, s).edpmServiceType));
      const version = d.status?.['deployedVersion'];
      if (ranUpdate && typeof version === 'string' && version !== '') status['deployedVersion'] = version;
    }
    status['deploymentStatuses'] = statuses;
    status['containerImages'] = Object.fromEntries(Object.entries(images).sort(([a], [b]) => a.localeCompare(b)));
    if (running) conds.markFalse('DeploymentReady', 'Requested', 'Info', MSG_RUNNING);
    else if (failedMessage !== undefined) conds.markFalse('DeploymentReady', 'Error', 'Error', failedMessage);
    else if (completed > 0) conds.markTrue('DeploymentReady', MSG_READY);
    else conds.markUnknown('DeploymentReady', MSG_NOT_STARTED);
  } else if (!conds.has('DeploymentReady')) {
    conds.markUnknown('DeploymentReady', MSG_NOT_STARTED);
  }
  conds.mirrorReady(MSG_READY);
  status['conditions'] = conds.finish(previous, now);
  return { status };
}
