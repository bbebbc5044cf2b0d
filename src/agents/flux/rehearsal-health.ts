/**
 * Health as Flux's kustomize-controller computes it in the rehearsal, on top of the evaluators in
 * `src/health/evaluate.ts`: a `healthCheckExprs` entry for the object's group and kind when there
 * is one (`readFluxStatus`), else kstatus's generic rules.
 */
import { readFluxStatus, HealthEvaluationError } from '../../health/evaluate.js';
import { conditionsOf, conditionText as text, findCondition } from '../../simulate/agent/common.js';
import { groupOfApiVersion, type KubeObject } from '../../simulate/agent/kube.js';
import type { FluxHealthCheckExpr } from './health-checks.js';

export type FluxObjectStatus = 'Current' | 'InProgress' | 'Failed' | 'Unknown' | 'NotFound';

export interface FluxObjectHealth {
  readonly status: FluxObjectStatus;
  readonly message: string;
}

/** kstatus's generic reading of an object (no CEL entry for its kind). */
export function kstatusOf(obj: KubeObject): FluxObjectHealth {
  const status = obj['status'] as { observedGeneration?: unknown } | undefined;
  const generation = obj.metadata.generation;
  if (typeof status?.observedGeneration === 'number' && typeof generation === 'number' && status.observedGeneration !== generation) {
    return { status: 'InProgress', message: `${obj.kind} generation is ${generation}, but latest observed generation is ${status.observedGeneration}` };
  }
  if (obj.kind === 'Job' && obj.apiVersion === 'batch/v1') {
    if (findCondition(obj, 'Failed')?.status === 'True') return { status: 'Failed', message: `Job failed: ${text(findCondition(obj, 'Failed')?.message)}` };
    if (findCondition(obj, 'Complete')?.status === 'True') return { status: 'Current', message: 'Job Completed' };
    return { status: 'InProgress', message: 'Job in progress' };
  }
  const stalled = findCondition(obj, 'Stalled');
  if (stalled?.status === 'True') return { status: 'Failed', message: text(stalled.message) };
  const reconciling = findCondition(obj, 'Reconciling');
  if (reconciling?.status === 'True') return { status: 'InProgress', message: text(reconciling.message) };
  const ready = findCondition(obj, 'Ready');
  if (ready !== undefined && ready.status !== 'True') return { status: 'InProgress', message: text(ready.message) || 'Ready is not True' };
  return { status: 'Current', message: 'Resource is current' };
}

/** Flux's health verdict for one live object (undefined when it does not exist). */
export function fluxObjectHealth(obj: KubeObject | undefined, exprs: readonly FluxHealthCheckExpr[]): FluxObjectHealth {
  if (obj === undefined) return { status: 'NotFound', message: 'not found' };
  const group = groupOfApiVersion(obj.apiVersion);
  const entry = exprs.find((e) => groupOfApiVersion(e.apiVersion) === group && (e.kind === undefined || e.kind === '' || e.kind === obj.kind));
  if (entry === undefined) return kstatusOf(obj);
  try {
    const res = readFluxStatus(entry, obj);
    if (res.status === 'Unknown') return { status: 'Unknown', message: res.error ?? 'evaluation failed' };
    return { status: res.status, message: res.status === 'Current' ? 'Resource is current' : res.status === 'Failed' ? failedMessage(obj) : 'Resource is in progress' };
  } catch (e) {
    // a parse error stalls the Kustomization in Flux; the caller shows it as a failed check
    return { status: 'Failed', message: e instanceof HealthEvaluationError ? e.message : String(e) };
  }
}

function failedMessage(obj: KubeObject): string {
  const bad = conditionsOf(obj).find((c) => c.status === 'False' && (c.reason === 'Error' || (c as { severity?: unknown }).severity === 'Error'));
  return bad ? `${text(bad.type)}: ${text(bad.message) || text(bad.reason)}` : 'health check failed';
}
