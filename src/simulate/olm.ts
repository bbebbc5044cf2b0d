/**
 * The rehearsal cluster's OLM, for phase 0 `operator`: a client of the API server, like the
 * simulated openstack-operator. It does what OLM does with the openstack-operator Subscription,
 * no more:
 * - a Subscription whose `spec.startingCSV` names a CSV of the catalog other than the installed one
 *   gets an InstallPlan (`spec.clusterServiceVersionNames`, `approval` from the Subscription,
 *   `approved` only when that is Automatic, `status.phase: RequiresApproval`), bundling the
 *   pending upgrades of other operators of the namespace when the rehearsal asks for them;
 * - an approved InstallPlan is installed: the new CSV is created and `Succeeded`, the one it
 *   replaces deleted, the plan `Complete`, the Subscription's `installedCSV` set, and the operator
 *   restarted with the new CSV's environment (`onInstalled`: the simulated operator then announces
 *   the CSV's OPENSTACK_RELEASE_VERSION as `availableVersion`).
 */
import { createHash } from 'node:crypto';
import { apiVersionOf, CLUSTER_SERVICE_VERSION, INSTALL_PLAN, SUBSCRIPTION } from '../cluster/resources.js';
import { OPENSTACK_OPERATOR_PACKAGE } from '../olm/subscription.js';
import { nowTimestamp } from './agent/common.js';
import { ControllerLoop } from './controller-loop.js';
import { KubeClient, type KubeObject } from './agent/kube.js';

export interface SimulatedOlmOptions {
  readonly kubeconfigYaml: string;
  /** Where OLM runs the operator: the Subscription, its InstallPlans and CSVs. */
  readonly namespace: string;
  /** The CSVs the catalog serves (the target CSV object, status dropped). */
  readonly catalog: readonly Readonly<Record<string, unknown>>[];
  /** Other operators' CSVs OLM bundles into the next InstallPlan (a fault to rehearse). */
  readonly bundleWith?: readonly string[];
  /** The operator Deployment rolled out with the new CSV's environment. */
  readonly onInstalled: (csv: Readonly<Record<string, unknown>>) => void;
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

export interface SimulatedOlm {
  stop(): Promise<void>;
}

const FIELD_MANAGER = 'olm-rehearsal';

/**
 * The Subscription conditions OLM keeps: Argo CD's built-in Subscription health reads them (no
 * conditions at all is Progressing for ever; InstallPlanPending=True is Progressing).
 */
function subscriptionConditions(pending: string | undefined): Record<string, unknown>[] {
  const now = nowTimestamp();
  return [
    { type: 'CatalogSourcesUnhealthy', status: 'False', reason: 'AllCatalogSourcesHealthy', message: 'all available catalogsources are healthy', lastTransitionTime: now },
    ...(pending !== undefined ? [{ type: 'InstallPlanPending', status: 'True', reason: pending, lastTransitionTime: now }] : []),
  ];
}

const nameOf = (o: Readonly<Record<string, unknown>>): string => String((o['metadata'] as { name?: unknown } | undefined)?.name ?? '');
const specOf = (o: KubeObject): Record<string, unknown> => (o['spec'] ?? {}) as Record<string, unknown>;
const statusOf = (o: KubeObject): Record<string, unknown> => (o['status'] ?? {}) as Record<string, unknown>;

/** OLM's InstallPlan names are random (`install-abcde`); ours are stable per CSV set, so a rehearsal repeats. */
function installPlanName(csvs: readonly string[]): string {
  return `install-${createHash('sha256').update(csvs.join(',')).digest('hex').slice(0, 5)}`;
}

export async function startSimulatedOlm(opts: SimulatedOlmOptions): Promise<SimulatedOlm> {
  const log = (line: string) => opts.log?.(`[olm] ${line}`);
  const loop = new ControllerLoop(log);
  const kube = new KubeClient(opts.kubeconfigYaml, { log, stopped: loop.stopped });
  const ns = opts.namespace;

  /** Each step checks first, so a tick cut short by an API error is finished by the next one. */
  const install = async (plan: KubeObject, sub: KubeObject, wanted: string): Promise<void> => {
    const bundle = opts.catalog.find((c) => nameOf(c) === wanted)!;
    const csvType = [apiVersionOf(CLUSTER_SERVICE_VERSION), CLUSTER_SERVICE_VERSION.kind] as const;
    const live = await kube.get(...csvType, ns, wanted);
    if (statusOf(live ?? ({} as KubeObject))['phase'] !== 'Succeeded') {
      const { status: _status, ...manifest } = bundle as Record<string, unknown>;
      const meta = (manifest['metadata'] ?? {}) as Record<string, unknown>;
      const created = live ?? (await kube.apply({ ...manifest, metadata: { name: wanted, namespace: ns, ...(meta['annotations'] ? { annotations: meta['annotations'] } : {}) } } as KubeObject, FIELD_MANAGER));
      await kube.writeStatus(created, { phase: 'Succeeded', reason: 'InstallSucceeded', message: 'install strategy completed with no errors', lastTransitionTime: nowTimestamp() });
    }
    if (statusOf(plan)['phase'] !== 'Complete') await kube.writeStatus(plan, { ...statusOf(plan), phase: 'Complete' });
    const installed = statusOf(sub)['installedCSV'];
    if (typeof installed === 'string' && installed !== wanted) {
      const old = await kube.get(...csvType, ns, installed);
      if (old) await kube.delete(old);
    }
    await kube.writeStatus(sub, { ...statusOf(sub), installedCSV: wanted, currentCSV: wanted, state: 'AtLatestKnown', conditions: subscriptionConditions(undefined), lastUpdated: nowTimestamp() });
    log(`InstallPlan ${plan.metadata.name} installed ${wanted}; the operator restarts with its environment`);
    opts.onInstalled(bundle);
  };

  const tick = async (): Promise<void> => {
    const subs = (await kube.list(SUBSCRIPTION, ns)).items.filter((s) => specOf(s)['name'] === OPENSTACK_OPERATOR_PACKAGE);
    for (const sub of subs) {
      const spec = specOf(sub);
      const wanted = typeof spec['startingCSV'] === 'string' ? spec['startingCSV'] : undefined;
      const installed = statusOf(sub)['installedCSV'];
      if (wanted === undefined || wanted === installed) continue;
      if (installed === undefined && (await kube.get(apiVersionOf(CLUSTER_SERVICE_VERSION), CLUSTER_SERVICE_VERSION.kind, ns, wanted))) {
        // a Subscription for what already runs: OLM adopts the installed CSV
        await kube.writeStatus(sub, { installedCSV: wanted, currentCSV: wanted, state: 'AtLatestKnown', conditions: subscriptionConditions(undefined), lastUpdated: nowTimestamp() });
        continue;
      }
      if (!opts.catalog.some((c) => nameOf(c) === wanted)) {
        log(`Subscription ${sub.metadata.name}: the catalog does not serve ${wanted}`);
        continue;
      }
      const plans = (await kube.list(INSTALL_PLAN, ns)).items;
      const plan = plans.find((p) => (specOf(p)['clusterServiceVersionNames'] as unknown[] | undefined)?.includes(wanted));
      if (!plan) {
        const csvs = [wanted, ...(opts.bundleWith ?? [])];
        const approval = spec['installPlanApproval'] === 'Manual' ? 'Manual' : 'Automatic';
        const created = await kube.apply(
          {
            apiVersion: apiVersionOf(INSTALL_PLAN),
            kind: INSTALL_PLAN.kind,
            metadata: { name: installPlanName(csvs), namespace: ns },
            spec: { clusterServiceVersionNames: csvs, approval, approved: approval === 'Automatic' },
          } as KubeObject,
          FIELD_MANAGER,
        );
        await kube.writeStatus(created, { phase: approval === 'Automatic' ? 'Installing' : 'RequiresApproval', catalogSources: [String(spec['source'] ?? 'catalog')] });
        await kube.writeStatus(sub, { ...statusOf(sub), state: 'UpgradePending', conditions: subscriptionConditions(approval === 'Automatic' ? 'Installing' : 'RequiresApproval'), installPlanRef: { name: created.metadata.name, namespace: ns }, lastUpdated: nowTimestamp() });
        log(`Subscription ${sub.metadata.name} asks for ${wanted}: InstallPlan ${created.metadata.name} (${csvs.join(', ')}), approval ${approval}`);
        continue;
      }
      if (specOf(plan)['approved'] === true) await install(plan, sub, wanted);
    }
  };

  loop.start(tick, { kube, types: [SUBSCRIPTION, INSTALL_PLAN], namespace: ns, pollMs: opts.pollMs ?? 200 });
  return { stop: () => loop.stop() };
}
