/**
 * The cluster edge of the operator upgrade: read the InstallPlans, the target CSV and the
 * OpenStackVersion, and approve one InstallPlan. The approval is a JSON patch that first tests the
 * plan's resourceVersion and CSV list as they were judged, so a plan OLM changed in between (a
 * new operator bundled in) is refused by the API server instead of approved unseen.
 */
import * as k8s from '@kubernetes/client-node';
import { OsvError } from '../errors.js';
import { apiError, timeoutOptions, type KubeReader } from '../cluster/kube.js';
import { CLUSTER_SERVICE_VERSION, INSTALL_PLAN, OPENSTACK_VERSION } from '../cluster/resources.js';
import type { InstallPlanSummary, OperatorGateInput } from './gate.js';

export { INSTALL_PLAN, SUBSCRIPTION } from '../cluster/resources.js';

/** What one read of the cluster gives the gate: its inputs, less what the user asked for. */
export type OperatorObjects = Pick<OperatorGateInput, 'installPlans' | 'csvObject' | 'openStackVersion'>;

export interface OperatorTarget {
  /** Where OLM runs the openstack-operator (the Subscription's namespace). */
  readonly operatorNamespace: string;
  readonly csv: string;
  /** Where the OpenStackVersion lives. */
  readonly namespace: string;
  /** Its name; undefined: the one OpenStackVersion of the namespace. */
  readonly openStackVersion?: string;
}

export async function readOperatorObjects(reader: KubeReader, t: OperatorTarget): Promise<OperatorObjects> {
  const [plans, csvObject, osv] = await Promise.all([
    reader.list(INSTALL_PLAN, t.operatorNamespace),
    reader.get(CLUSTER_SERVICE_VERSION, t.operatorNamespace, t.csv),
    t.openStackVersion !== undefined ? reader.get(OPENSTACK_VERSION, t.namespace, t.openStackVersion) : reader.list(OPENSTACK_VERSION, t.namespace).then((l) => l?.items),
  ]);
  if (plans === undefined) {
    throw new OsvError('CLUSTER_UNAVAILABLE', 'the cluster does not serve InstallPlans (operators.coreos.com/v1alpha1): is OLM installed?', { hint: 'operator-upgrade drives an openstack-operator installed by OLM.' });
  }
  let openStackVersion: Record<string, unknown> | undefined;
  if (Array.isArray(osv)) {
    if (osv.length > 1) {
      const names = osv.map((o) => String((o['metadata'] as { name?: string } | undefined)?.name));
      throw new OsvError('USAGE', `${osv.length} OpenStackVersions in ${t.namespace}; pass --openstack-version NAME`, { details: names });
    }
    openStackVersion = osv[0];
  } else openStackVersion = osv as Record<string, unknown> | undefined;
  return { installPlans: plans.items, csvObject, openStackVersion };
}

/**
 * Set `spec.approved: true` on exactly `plan`, only if it still is what was judged (same
 * resourceVersion, same CSV list, not approved). Returns the patched object.
 */
export async function approveInstallPlan(kc: k8s.KubeConfig, plan: InstallPlanSummary, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  if (plan.resourceVersion === undefined) throw new OsvError('CLUSTER_UNAVAILABLE', `InstallPlan ${plan.name} has no resourceVersion; refusing to approve it blind`);
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const body = [
    { op: 'test', path: '/metadata/resourceVersion', value: plan.resourceVersion },
    { op: 'test', path: '/spec/clusterServiceVersionNames', value: plan.csvs },
    { op: 'test', path: '/spec/approved', value: false },
    { op: 'replace', path: '/spec/approved', value: true },
  ];
  try {
    return (await api.patchNamespacedCustomObject(
      { group: INSTALL_PLAN.group, version: INSTALL_PLAN.version, namespace: plan.namespace, plural: INSTALL_PLAN.plural, name: plan.name, body, fieldManager: 'osv-gitops' },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch, timeoutOptions(timeoutMs)),
    )) as Record<string, unknown>;
  } catch (e) {
    const info = apiError(e);
    if (info.status === 409 || info.status === 422) {
      throw new OsvError('CLUSTER_UNAVAILABLE', `InstallPlan ${plan.name} changed since it was read (${info.message}); nothing was approved`, { hint: 'Run operator-upgrade --check again and look at what it holds now.' });
    }
    if (info.status === undefined) throw new OsvError('CLUSTER_UNREACHABLE', `cluster unreachable: approve installplans/${plan.name}: ${info.message}`);
    throw new OsvError('CLUSTER_UNAVAILABLE', `approve installplans/${plan.name} in ${plan.namespace}: ${info.message}`, { hint: 'The approval needs patch on installplans.operators.coreos.com in the operator namespace.' });
  }
}
