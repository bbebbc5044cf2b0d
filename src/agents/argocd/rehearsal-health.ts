/**
 * Health as Argo CD computes it in the rehearsal, on top of the Lua evaluator in
 * `src/health/evaluate.ts`: the Lua customization for `<group>_<kind>` (the scripts we render into
 * argocd-cm), else the built-in check (Jobs, OLM Subscriptions), else no health; the application's health
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
  if (groupOfApiVersion(obj.apiVersion) === 'operators.coreos.com' && obj.kind === 'Subscription') return subscriptionHealth(obj);
  return undefined;
}

/**
 * Argo CD's built-in check of an OLM Subscription (phase 0 folders hold one): Progressing until
 * OLM reports conditions and the state `AtLatestKnown`; Degraded on a failed or missing plan or
 * an unhealthy catalog. test/health/subscription-health.test.ts holds this to Argo CD's own script.
 */
export function subscriptionHealth(obj: KubeObject): ArgoResourceHealth {
  const status = obj['status'] as { conditions?: unknown; state?: unknown } | undefined;
  if (!status || !Array.isArray(status.conditions)) return { status: 'Progressing', message: 'waiting for OLM to install the subscription' };
  const degraded: string[] = [];
  const pending: string[] = [];
  for (const c of status.conditions as { type?: unknown; status?: unknown; reason?: unknown }[]) {
    const type = text(c.type);
    if (type === 'InstallPlanPending' && c.status === 'True') pending.push(type);
    // a missing plan counts whatever its status, unless OLM only lost the reference
    else if (type === 'InstallPlanMissing' && c.reason !== 'ReferencedInstallPlanNotFound') degraded.push(type);
    else if (['CatalogSourcesUnhealthy', 'InstallPlanFailed', 'ResolutionFailed'].includes(type) && c.status === 'True') degraded.push(type);
  }
  const state = status.state;
  if (state === undefined || state === null) pending.push('state unknown');
  else if (state === '' || state === 'UpgradeAvailable' || state === 'UpgradePending') pending.push(`state ${text(state) || "''"}`);
  else if (state === 'UpgradeFailed') degraded.push('state UpgradeFailed');
  if (degraded.length > 0) return { status: 'Degraded', message: [...degraded, ...pending].join(', ') };
  if (pending.length > 0) return { status: 'Progressing', message: pending.join(', ') };
  return { status: 'Healthy', message: `state ${text(state)}` };
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
