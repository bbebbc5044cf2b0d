/**
 * `plan --subscription FILE` without `--csv`: the target CSV from the cluster, through the
 * InstallPlan OLM prepared for the Subscription (src/olm/installplan-csv.ts reads it). The one
 * InstallPlan of the Subscription's namespace that installs an openstack-operator CSV other than
 * the one the Subscription starts from; with several, the user picks one (never a guess).
 */
import * as k8s from '@kubernetes/client-node';
import { OsvError } from '../errors.js';
import { apiError, timeoutOptions, type KubeReader } from '../cluster/kube.js';
import { INSTALL_PLAN } from '../cluster/resources.js';
import type { SourcedObject } from '../inputs/yaml.js';
import { bundleConfigMapOf, csvFromInstallPlan, operatorCsvOf, type InstallPlanCsv } from './installplan-csv.js';

export interface SubscriptionAt {
  readonly namespace: string;
  /** The CSV the Subscription starts from (what runs now): its InstallPlans are not the upgrade. */
  readonly startingCSV?: string;
}

const nameOf = (o: Record<string, unknown>) => String((o['metadata'] as { name?: unknown } | undefined)?.name ?? '?');

export async function installPlanCsvFromCluster(reader: KubeReader, sub: SubscriptionAt, timeoutMs = 10_000): Promise<InstallPlanCsv> {
  const listed = await reader.list(INSTALL_PLAN, sub.namespace);
  if (!listed) throw new OsvError('CLUSTER_UNAVAILABLE', `the cluster does not serve InstallPlans (operators.coreos.com/v1alpha1): is OLM installed?`, { hint: 'Pass the target CSV with --csv FILE.' });
  const upgrades = listed.items.filter((p) => {
    const csv = operatorCsvOf(p);
    return csv !== undefined && csv !== sub.startingCSV;
  });
  const where = `${sub.namespace}${sub.startingCSV ? ` (the Subscription starts from ${sub.startingCSV})` : ''}`;
  if (upgrades.length === 0) {
    throw new OsvError('INPUT_NOT_FOUND', `no InstallPlan in ${where} installs a new openstack-operator CSV`, {
      hint: 'OLM prepares one when the channel serves a newer CSV and the Subscription asks for it; until then pass the bundle CSV with --csv FILE.',
      details: listed.items.map((p) => `${nameOf(p)}: ${operatorCsvOf(p) ?? '(no openstack-operator CSV)'}`),
    });
  }
  if (upgrades.length > 1) {
    throw new OsvError('USAGE', `${upgrades.length} InstallPlans in ${where} install a new openstack-operator CSV; pass the one of the update with --installplan FILE`, {
      details: upgrades.map((p) => `${nameOf(p)}: ${operatorCsvOf(p)!}`).sort(),
      hint: `oc get installplan -n ${sub.namespace} NAME -o yaml > installplan.yaml`,
    });
  }
  const plan = upgrades[0]!;
  const label = `cluster ${reader.server}`;
  const objects: SourcedObject[] = [{ value: plan, file: label, document: 0, path: '' }];
  const ref = bundleConfigMapOf(plan);
  if (ref) {
    const cm = await readConfigMap(reader.kc, ref, timeoutMs);
    if (cm) objects.push({ value: cm, file: label, document: 0, path: '' });
  }
  return csvFromInstallPlan(objects, label);
}

/** The unpacked bundle's ConfigMap (core API); undefined when it is gone. */
async function readConfigMap(kc: k8s.KubeConfig, ref: { namespace: string; name: string }, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
  try {
    const cm = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ namespace: ref.namespace, name: ref.name }, timeoutOptions(timeoutMs));
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cm.metadata?.name, namespace: cm.metadata?.namespace }, data: cm.data ?? {} };
  } catch (e) {
    const info = apiError(e);
    if (info.status === 404) return undefined;
    if (info.status === undefined) throw new OsvError('CLUSTER_UNREACHABLE', `cluster unreachable: get configmaps/${ref.name} in ${ref.namespace}: ${info.message}`);
    throw new OsvError('CLUSTER_UNAVAILABLE', `get configmaps/${ref.name} in ${ref.namespace}: ${info.message}`);
  }
}
