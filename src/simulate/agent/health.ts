/**
 * Health as each agent computes it, on top of the evaluators in `src/health/evaluate.ts`:
 * - Flux: a `healthCheckExprs` entry for the object's group and kind when there is one
 *   (`readFluxStatus`), else kstatus's generic rules;
 * - Argo CD: the Lua customization for `<group>_<kind>` (the scripts we render into argocd-cm),
 *   else gitops-engine's built-in check (Jobs), else no health; the application's health is the
 *   worst of its resources in gitops-engine's order.
 */
import type { FluxHealthCheckExpr } from '../../health/cel.js';
import { evaluateArgoHealth, HealthEvaluationError, readFluxStatus, type ArgoHealthStatus } from '../../health/evaluate.js';
import { argoHealthCustomizations } from '../../health/lua.js';
import { groupOfApiVersion, type KubeObject } from './kube.js';

// ---------------------------------------------------------------------------------------------
// Flux
// ---------------------------------------------------------------------------------------------

export type FluxObjectStatus = 'Current' | 'InProgress' | 'Failed' | 'Unknown' | 'NotFound';

export interface FluxObjectHealth {
  readonly status: FluxObjectStatus;
  readonly message: string;
}

interface Condition {
  readonly type?: unknown;
  readonly status?: unknown;
  readonly reason?: unknown;
  readonly message?: unknown;
}

function conditionsOf(obj: KubeObject): Condition[] {
  const status = obj['status'];
  if (typeof status !== 'object' || status === null) return [];
  const conditions = (status as { conditions?: unknown }).conditions;
  return Array.isArray(conditions) ? (conditions.filter((c) => typeof c === 'object' && c !== null) as Condition[]) : [];
}

export function findCondition(obj: KubeObject, type: string): Condition | undefined {
  return conditionsOf(obj).find((c) => c.type === type);
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
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

// ---------------------------------------------------------------------------------------------
// Argo CD
// ---------------------------------------------------------------------------------------------

export interface ArgoResourceHealth {
  readonly status: ArgoHealthStatus;
  readonly message?: string;
}

const LUA_SCRIPTS: Readonly<Record<string, string>> = argoHealthCustomizations();

/** gitops-engine's order, most healthy first: the application takes the worst of its resources. */
const HEALTH_ORDER: readonly ArgoHealthStatus[] = ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'];

export function isWorse(current: ArgoHealthStatus, next: ArgoHealthStatus): boolean {
  return HEALTH_ORDER.indexOf(next) > HEALTH_ORDER.indexOf(current);
}

/**
 * The health Argo CD gives one resource: undefined when it has no health (ConfigMaps, RBAC…),
 * which leaves the application's health alone.
 */
export function argoResourceHealth(obj: KubeObject | undefined, desired: KubeObject): ArgoResourceHealth | undefined {
  if (desired.metadata.annotations?.['argocd.argoproj.io/ignore-healthcheck'] === 'true') return undefined;
  if (obj === undefined) return { status: 'Missing' };
  const script = LUA_SCRIPTS[`${groupOfApiVersion(obj.apiVersion)}_${obj.kind}`];
  if (script !== undefined) {
    const h = evaluateArgoHealth(script, obj);
    if (h.status === '') return undefined;
    return { status: h.status, ...(h.message ? { message: h.message } : {}) };
  }
  if (obj.apiVersion === 'batch/v1' && obj.kind === 'Job') return jobHealth(obj);
  return undefined;
}

/** gitops-engine's built-in Job check. */
export function jobHealth(obj: KubeObject): ArgoResourceHealth {
  const failed = findCondition(obj, 'Failed');
  if (failed?.status === 'True') return { status: 'Degraded', message: text(failed.message) || 'Job failed' };
  const complete = findCondition(obj, 'Complete');
  if (complete?.status === 'True') return { status: 'Healthy', message: text(complete.message) || 'Job completed' };
  if ((obj['spec'] as { suspend?: unknown } | undefined)?.suspend === true) return { status: 'Suspended', message: 'Job is suspended' };
  return { status: 'Progressing', message: 'Job is running' };
}

/** The application's health from its resources' (Healthy when none has health). */
export function aggregateArgoHealth(healths: readonly (ArgoResourceHealth | undefined)[]): ArgoResourceHealth {
  let worst: ArgoResourceHealth = { status: 'Healthy' };
  for (const h of healths) if (h !== undefined && isWorse(worst.status, h.status)) worst = h;
  return worst;
}
