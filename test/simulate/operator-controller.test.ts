/**
 * The simulated operator against the rehearsal API server, through client-node only: a whole
 * minor update driven by creating the deployments a GitOps agent would apply, with 500s and
 * dropped watches on the way.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATAPLANE_DEPLOYMENT, DATAPLANE_NODESET, OPENSTACK_CONTROLPLANE, OPENSTACK_VERSION, type ResourceType } from '../../src/cluster/resources.js';
import { startRehearsalApiServer, type RehearsalApiServer } from '../../src/simulate/apiserver/server.js';
import { startSimulatedOperator, type SimulatedOperator } from '../../src/simulate/operator/controller.js';
import type { Condition, JsonObject, KubeObject } from '../../src/simulate/operator/types.js';
import { NEW, OLD, exampleDefaults, loadYaml } from './operator-world.js';

const NS = 'openstack';
const mergeOpts = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

let server: RehearsalApiServer;
let api: k8s.CustomObjectsApi;
let operator: SimulatedOperator | undefined;
const logs: string[] = [];

const ref = (t: ResourceType, name?: string) => ({ group: t.group, version: t.version, namespace: NS, plural: t.plural, ...(name ? { name } : {}) });
const get = async (t: ResourceType, name: string): Promise<KubeObject> => (await api.getNamespacedCustomObject({ ...ref(t, name), name })) as KubeObject;
const condOf = (o: KubeObject, type: string): Condition | undefined => ((o.status?.['conditions'] as Condition[] | undefined) ?? []).find((c) => c.type === type);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e; // the API may be failing on purpose
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n${logs.slice(-30).join('\n')}`);
}

/** The version once its conditions are fresh for the current generation and `test` holds. */
function versionWhen(test: (v: KubeObject) => boolean): () => Promise<KubeObject | undefined> {
  return async () => {
    const v = await get(OPENSTACK_VERSION, 'openstack');
    return v.status?.['observedGeneration'] === v.metadata.generation && test(v) ? v : undefined;
  };
}

async function create(t: ResourceType, body: JsonObject): Promise<void> {
  await api.createNamespacedCustomObject({ ...ref(t), body });
}

async function seedStatus(t: ResourceType, name: string, status: JsonObject): Promise<void> {
  await api.patchNamespacedCustomObjectStatus({ ...ref(t, name), name, body: { status } }, mergeOpts);
}

beforeAll(async () => {
  server = await startRehearsalApiServer({ namespaces: [NS], bookmarkIntervalMs: 200 });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(server.kubeconfig(NS));
  api = kc.makeApiClient(k8s.CustomObjectsApi);
}, 60_000);

afterAll(async () => {
  await operator?.stop();
  await server?.close();
});

describe('simulated operator on the rehearsal API server', () => {
  it('drives a whole minor update to Ready with deployedVersion = target, surviving 500s and dropped watches', async () => {
    const defaults = exampleDefaults();
    const cp = loadYaml('controlplane.yaml');
    // the example omits two fields the CRD requires; a real API server would refuse it as well
    const glance = (cp['spec'] as JsonObject)['glance'] as { template: JsonObject };
    glance.template = { ...glance.template, secret: 'osp-secret', imageCache: { size: '' } };
    await create(OPENSTACK_CONTROLPLANE, { apiVersion: cp['apiVersion'], kind: cp['kind'], metadata: { name: 'openstack' }, spec: cp['spec'] });
    await create(OPENSTACK_VERSION, { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', metadata: { name: 'openstack' }, spec: { targetVersion: OLD } });
    // the estate as the previous update left it
    await seedStatus(OPENSTACK_VERSION, 'openstack', { deployedVersion: OLD, containerImageVersionDefaults: { [OLD]: defaults[OLD] } });
    for (const name of ['compute-a', 'compute-b']) {
      const ns = loadYaml(`nodesets/${name}.yaml`);
      await create(DATAPLANE_NODESET, { apiVersion: ns['apiVersion'], kind: ns['kind'], metadata: { name }, spec: ns['spec'] });
      await seedStatus(DATAPLANE_NODESET, name, {
        deployedVersion: OLD,
        containerImages: { OvnControllerImage: defaults[OLD]?.['ovnControllerImage'] },
        conditions: [{ type: 'DeploymentReady', status: 'True', reason: 'Ready', message: 'NodeSet Ready', lastTransitionTime: '2026-10-02T11:00:00Z' }],
      });
    }

    operator = await startSimulatedOperator({
      kubeconfigYaml: server.kubeconfig(NS),
      namespace: NS,
      availableVersion: NEW,
      defaults: { [NEW]: defaults[NEW] as Record<string, unknown> },
      durations: { ovnControlPlane: 80, rabbitmq: 40, galera: 40, memcached: 40, keystone: 40, controlPlaneRest: 80, deploymentService: 60 },
      log: (l) => logs.push(l),
    });

    const before = await waitFor('the control plane Ready at the old version', async () => {
      const c = await get(OPENSTACK_CONTROLPLANE, 'openstack');
      return condOf(c, 'Ready')?.status === 'True' && c.status?.['deployedVersion'] === OLD ? c : undefined;
    });
    expect((before.status?.['containerImages'] as JsonObject)['rabbitmqImage']).toBe(defaults[OLD]?.['rabbitmqImage']);
    const ready = await waitFor('update available', versionWhen((v) => condOf(v, 'MinorUpdateAvailable')?.status === 'True'));
    expect(ready.status?.['availableVersion']).toBe(NEW);

    await api.patchNamespacedCustomObject({ ...ref(OPENSTACK_VERSION, 'openstack'), name: 'openstack', body: { spec: { targetVersion: NEW } } }, mergeOpts);
    await waitFor('MinorUpdateOVNControlplane', versionWhen((v) => condOf(v, 'MinorUpdateOVNControlplane')?.status === 'True'));

    // faults: failing requests and every watch dropped; the operator must carry on
    const operatorRequests = (method: string, path: string): boolean => method === 'PATCH' || path.includes('watch=true');
    server.faults.failNext(4, 500, operatorRequests);
    server.faults.dropWatches();
    const held = await get(OPENSTACK_VERSION, 'openstack');
    expect(condOf(held, 'MinorUpdateOVNDataplane')?.status).not.toBe('True');

    const deployment = (name: string, services: string[]): JsonObject => ({
      apiVersion: 'dataplane.openstack.org/v1beta1',
      kind: 'OpenStackDataPlaneDeployment',
      metadata: { name },
      spec: { nodeSets: ['compute-a', 'compute-b'], servicesOverride: services },
    });
    await waitFor('create the ovn deployment', async () => {
      await create(DATAPLANE_DEPLOYMENT, deployment('edpm-ovn-18-0-4', ['ovn']));
      return true;
    });
    const cpDone = await waitFor('MinorUpdateControlplane', versionWhen((v) => condOf(v, 'MinorUpdateControlplane')?.status === 'True'));
    expect(cpDone.status?.['deployedVersion']).toBe(OLD);
    const ovnDep = await get(DATAPLANE_DEPLOYMENT, 'edpm-ovn-18-0-4');
    expect(ovnDep.status).toMatchObject({ deployed: true, deployedVersion: NEW });

    server.faults.dropWatches();
    await create(DATAPLANE_DEPLOYMENT, deployment('edpm-update-18-0-4', ['update']));
    const done = await waitFor(
      'deployedVersion = target',
      versionWhen((v) => v.status?.['deployedVersion'] === NEW && condOf(v, 'Ready')?.status === 'True'),
    );
    for (const t of ['MinorUpdateOVNControlplane', 'MinorUpdateOVNDataplane', 'MinorUpdateRabbitMQ', 'MinorUpdateMariaDB', 'MinorUpdateMemcached', 'MinorUpdateKeystone', 'MinorUpdateControlplane', 'MinorUpdateDataplane']) {
      expect(condOf(done, t)?.status, t).toBe('True');
    }
    const nodeSet = await get(DATAPLANE_NODESET, 'compute-b');
    expect(nodeSet.status).toMatchObject({ deployedVersion: NEW, observedGeneration: nodeSet.metadata.generation });
    expect(logs.some((l) => l.includes('HTTP 500'))).toBe(true);
    expect(server.stats.byVerb['watch'] ?? 0).toBeGreaterThan(5); // every kind watched again after the drops

    // once settled the operator stops writing: no status ping-pong with the API server's pruning
    const settledWrites = server.stats.byVerb['patch'] ?? 0;
    await new Promise((r) => setTimeout(r, 600));
    expect((server.stats.byVerb['patch'] ?? 0) - settledWrites).toBe(0);

    if (process.env["OSV_SIM_LOG"]) console.log(logs.join("\n"), server.stats);
    const reconciles = operator.reconciles;
    await operator.stop();
    operator = undefined;
    expect(reconciles).toBeGreaterThan(5);
  }, 60_000);
});
