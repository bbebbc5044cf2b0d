/**
 * Health as Argo CD computes it in the rehearsal, on top of the Lua evaluator in
 * `src/health/evaluate.ts`: the Lua customization for `<group>_<kind>` (the scripts we render into
 * argocd-cm), else gitops-engine's built-in check (Jobs), else no health; the application's health
 * is the worst of its resources in gitops-engine's order.
 */
import { evaluateArgoHealth, type ArgoHealthStatus } from '../../health/evaluate.js';
import { conditionText as text, findCondition } from '../../simulate/agent/common.js';
import { groupOfApiVersion, type KubeObject } from '../../simulate/agent/kube.js';
import { argoHealthCustomizations } from './health-checks.js';

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
