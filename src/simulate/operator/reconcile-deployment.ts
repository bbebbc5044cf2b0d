/**
 * The OpenStackDataPlaneDeployment controller as a pure function (facts §6.1): wait for every
 * nodeset's `SetupReady`, run the services in order (nodesets in parallel, each service taking
 * `durations.deploymentService`), record each finished service's `containerImageFields`, and on
 * completion set `deployed`, the Ready conditions and `deployedVersion` (the OpenStackVersion's
 * `spec.targetVersion` read at that moment). A deployed or failed deployment never runs again.
 */
import { ConditionSet, isRecord, isTrue, readConditions } from './conditions.js';
import { imageOf, jsonNameOfGoField } from './images.js';
import { deploymentNodeSets, deploymentServices, lookupService, serviceCatalog } from './services.js';
import type { Condition, JsonObject, KubeObject, RunningStep, SimulatedDurations } from './types.js';

export const JOB_FAILED_REASON = 'BackoffLimitExceeded';
const MSG_DONE = 'Setup complete';
const MSG_RUNNING = 'Deployment in progress';
const MSG_NOT_STARTED = 'Deployment not started';

export interface ReconcileDeploymentInput {
  readonly deployment: KubeObject;
  readonly nodeSets: readonly KubeObject[];
  readonly version?: KubeObject | undefined;
  /** OpenStackDataPlaneService objects of the namespace (the defaults fill in the rest). */
  readonly services: readonly KubeObject[];
  readonly now: number;
  readonly running?: RunningStep | undefined;
  readonly durations: Pick<SimulatedDurations, 'deploymentService'>;
  /** Fault: the first service's job fails with BackoffLimitExceeded. */
  readonly fail?: boolean;
}

export type DeploymentStage = 'deployed' | 'failed' | 'waiting' | 'running';

export interface ReconcileDeploymentResult {
  readonly status: JsonObject;
  readonly running: RunningStep | undefined;
  readonly wakeAt: number | undefined;
  readonly stage: DeploymentStage;
}

/** `strcase.ToCamel`: `update-services` → `UpdateServices`. */
export function toCamel(name: string): string {
  return name
    .split(/[-_.\s]+/)
    .filter((p) => p !== '')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

export function serviceConditionType(service: string): string {
  return `Service${toCamel(service)}DeploymentReady`;
}

export function isDeploymentFailed(deployment: KubeObject): boolean {
  const c = readConditions(deployment.status).find((x) => x.type === 'DeploymentReady');
  return c?.status === 'False' && c.severity === 'Error' && c.reason === JOB_FAILED_REASON;
}

export function isDeploymentDeployed(deployment: KubeObject): boolean {
  return deployment.status?.['deployed'] === true;
}

/** Job name as the operator builds it: `<service>-<deployment>-<nodeset>` (not truncated here). */
function jobName(service: string, deployment: string, nodeSet: string): string {
  return `${service}-${deployment}-${nodeSet}`;
}

export function reconcileDeployment(input: ReconcileDeploymentInput): ReconcileDeploymentResult {
  const { deployment, now } = input;
  const previousStatus: JsonObject = isRecord(deployment.status) ? deployment.status : {};
  if (isDeploymentDeployed(deployment)) return { status: previousStatus, running: undefined, wakeAt: undefined, stage: 'deployed' };
  if (isDeploymentFailed(deployment)) return { status: previousStatus, running: undefined, wakeAt: undefined, stage: 'failed' };

  const previous = readConditions(previousStatus);
  const status: JsonObject = { ...previousStatus, deployed: false };
  const conds = new ConditionSet(previous);
  if (deployment.metadata.generation !== undefined) status['observedGeneration'] = deployment.metadata.generation;
  const name = deployment.metadata.name;
  const names = deploymentNodeSets(deployment);
  const finish = (stage: DeploymentStage, running?: RunningStep, wakeAt?: number): ReconcileDeploymentResult => {
    status['conditions'] = conds.finish(previous, now);
    return { status, running, wakeAt, stage };
  };

  // wait for every nodeset's SetupReady (the real controller requeues after deploymentRequeueTime)
  for (const n of names) {
    const ns = input.nodeSets.find((x) => x.metadata.name === n);
    if (ns === undefined || !isTrue(ns, 'SetupReady')) {
      const msg = `${MSG_NOT_STARTED}: waiting for OpenStackDataPlaneNodeSet ${n} SetupReady`;
      conds.markFalse('DeploymentReady', 'Requested', 'Info', msg);
      conds.markFalse('Ready', 'Requested', 'Info', msg);
      return finish('waiting');
    }
  }

  const key = `deployment/${deployment.metadata.uid ?? name}`;
  const startedAt = input.running?.key === key ? input.running.startedAt : now;
  const per = Math.max(1, input.durations.deploymentService);
  const finishedCount = Math.floor((now - startedAt) / per);
  const catalog = serviceCatalog(input.services);
  const versionImages = input.version?.status?.['containerImages'];
  const images: Record<string, string> = isRecord(previousStatus['containerImages'])
    ? Object.fromEntries(Object.entries(previousStatus['containerImages']).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};
  const prevNodeSetConditions = isRecord(previousStatus['nodeSetConditions']) ? previousStatus['nodeSetConditions'] : {};
  const nodeSetConditions: Record<string, Condition[]> = {};
  const hashes: Record<string, string> = isRecord(previousStatus['nodeSetHashes']) ? { ...(previousStatus['nodeSetHashes'] as Record<string, string>) } : {};
  let allDone = true;
  let longest = 0;

  for (const [i, n] of names.entries()) {
    const ns = input.nodeSets.find((x) => x.metadata.name === n);
    if (hashes[n] === undefined) hashes[n] = typeof ns?.status?.['configHash'] === 'string' ? ns.status['configHash'] : '';
    const services = deploymentServices(deployment, ns);
    longest = Math.max(longest, services.length);
    const prevList = readConditions({ conditions: prevNodeSetConditions[n] });
    const nsConds = new ConditionSet(prevList);
    const failHere = input.fail === true && i === 0 && services.length > 0 && finishedCount >= 1;
    for (const [j, svc] of services.entries()) {
      const type = serviceConditionType(svc);
      if (failHere && j === 0) {
        const msg = `Deployment error occurred in ${svc} service error backoff limit reached for execution.name ${jobName(svc, name, n)}`;
        nsConds.markFalse(type, JOB_FAILED_REASON, 'Error', msg);
        nsConds.markFalse('NodeSetDeploymentReady', JOB_FAILED_REASON, 'Error', msg);
        nodeSetConditions[n] = nsConds.finish(prevList, now);
        status['nodeSetConditions'] = { ...prevNodeSetConditions, ...nodeSetConditions };
        status['nodeSetHashes'] = hashes;
        conds.markFalse('DeploymentReady', JOB_FAILED_REASON, 'Error', msg);
        conds.markFalse('Ready', JOB_FAILED_REASON, 'Error', msg);
        return finish('failed');
      }
      if (j < finishedCount && !input.fail) {
        const wasDone = prevList.find((c) => c.type === type)?.status === 'True';
        if (!wasDone) {
          // record the images this service deploys, as the version holds them when it finishes
          for (const goField of lookupService(catalog, svc).containerImageFields) {
            const v = imageOf(versionImages, jsonNameOfGoField(goField));
            if (v !== undefined) images[goField] = v;
          }
        }
        nsConds.markTrue(type, MSG_DONE);
      } else if (j === finishedCount || (input.fail && j === 0)) {
        nsConds.markFalse(type, 'Requested', 'Info', MSG_RUNNING);
      } else {
        nsConds.markUnknown(type, MSG_NOT_STARTED);
      }
    }
    const nsDone = !input.fail && finishedCount >= services.length;
    if (nsDone) nsConds.markTrue('NodeSetDeploymentReady', MSG_DONE);
    else nsConds.markFalse('NodeSetDeploymentReady', 'Requested', 'Info', MSG_RUNNING);
    allDone &&= nsDone;
    nodeSetConditions[n] = nsConds.finish(prevList, now);
  }

  status['nodeSetConditions'] = nodeSetConditions;
  status['nodeSetHashes'] = hashes;
  status['containerImages'] = Object.fromEntries(Object.entries(images).sort(([a], [b]) => a.localeCompare(b)));
  if (allDone) {
    status['deployed'] = true;
    const target = input.version?.spec?.['targetVersion'];
    if (typeof target === 'string') status['deployedVersion'] = target;
    conds.markTrue('DeploymentReady', MSG_DONE);
    conds.markTrue('Ready', MSG_DONE);
    return finish('deployed');
  }
  conds.markFalse('DeploymentReady', 'Requested', 'Info', MSG_RUNNING);
  conds.markFalse('Ready', 'Requested', 'Info', MSG_RUNNING);
  const steps = input.fail ? 1 : longest;
  const nextDone = input.fail ? startedAt + per : startedAt + Math.min(finishedCount + 1, steps) * per;
  return finish('running', { key, startedAt }, nextDone);
}
