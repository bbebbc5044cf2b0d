/**
 * `operator-upgrade --check` and `--approve` against a real kube-apiserver serving the OLM CRDs of
 * crds/olm: the approval changes exactly the one InstallPlan for the target CSV, and a plan that
 * bundles another operator's CSV is approved only when that CSV is named.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { approveInstallPlan } from '../../src/olm/cluster.js';
import { summarizeInstallPlan } from '../../src/olm/gate.js';
import { runOperatorUpgrade } from '../olm/run-operator-upgrade.js';
import { describeRealCluster } from './describe-real.js';
import { startRealCluster, type RealCluster } from './harness.js';

const NS = 'openstack-operators';
const TARGET = 'openstack-operator.v1.0.6';
const OTHER = 'metallb-operator.v4.18.0';
const plan = (name: string, csvs: string[], approved = false) => ({
  apiVersion: 'operators.coreos.com/v1alpha1',
  kind: 'InstallPlan',
  metadata: { name, namespace: NS },
  spec: { approval: 'Manual', approved, clusterServiceVersionNames: csvs },
});

describeRealCluster('operator-upgrade against a real API server', () => {
  let cluster: RealCluster | undefined;
  let api: CustomObjectsApi;
  let kc: KubeConfig;
  let kubeconfig: string;
  const installPlans = async () => {
    const list = (await api.listNamespacedCustomObject({ group: 'operators.coreos.com', version: 'v1alpha1', namespace: NS, plural: 'installplans' })) as { items: { metadata: { name: string; resourceVersion: string }; spec: { approved: boolean } }[] };
    return new Map(list.items.map((i) => [i.metadata.name, { rv: i.metadata.resourceVersion, approved: i.spec.approved }]));
  };

  beforeAll(async () => {
    cluster = await startRealCluster({ crds: ['crds/openstack-operator', 'crds/olm'] });
    kc = new KubeConfig();
    kc.loadFromString(cluster.kubeconfigYaml);
    kubeconfig = join(cluster.kubeconfigPath, '..', 'operator-upgrade.kubeconfig');
    writeFileSync(kubeconfig, cluster.kubeconfigYaml);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
    api = kc.makeApiClient(CustomObjectsApi);
    for (const p of [plan('install-target', [OTHER, TARGET]), plan('install-unrelated', ['other-operator.v2.0.0']), plan('install-old', ['openstack-operator.v1.0.5'], true)]) {
      await api.createNamespacedCustomObject({ group: 'operators.coreos.com', version: 'v1alpha1', namespace: NS, plural: 'installplans', body: p });
    }
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const cli = (...args: string[]) => runOperatorUpgrade(['--csv', TARGET, '--kubeconfig', kubeconfig, '--operator-namespace', NS, ...args], '/');

  it('--check lists what the plan holds and waits', async () => {
    const r = await cli('--check', '--json');
    expect(r.exitCode, r.stderr).toBe(3);
    const out = JSON.parse(r.stdout) as { state: string; installPlan: { name: string; csvs: string[]; unexpected: string[] } };
    expect(out.state).toBe('other-csvs');
    expect(out.installPlan).toMatchObject({ name: 'install-target', csvs: [OTHER, TARGET], unexpected: [OTHER] });
  });

  it('--approve refuses a plan that bundles a CSV the user did not name, and changes nothing', async () => {
    const before = await installPlans();
    const r = await cli('--approve');
    expect(r).toMatchObject({ exitCode: 1, error: 'OLM_APPROVAL_REFUSED' });
    expect(r.stdout).toContain(`! ${OTHER}`);
    expect(await installPlans()).toEqual(before);
  });

  it('--approve with the other CSV named approves exactly that one InstallPlan', async () => {
    const before = await installPlans();
    const r = await cli('--approve', '--also-csv', OTHER);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('approved: InstallPlan openstack-operators/install-target');
    const after = await installPlans();
    expect(after.get('install-target')?.approved).toBe(true);
    expect(after.get('install-target')?.rv).not.toBe(before.get('install-target')?.rv);
    for (const name of ['install-unrelated', 'install-old']) expect(after.get(name)).toEqual(before.get(name));
    // approved now: the gate waits for the CSV; a second --approve changes nothing
    const check = await cli('--check', '--json');
    expect(JSON.parse(check.stdout)).toMatchObject({ state: 'installing', verdict: 'waiting' });
    const again = await cli('--approve', '--also-csv', OTHER);
    expect(again.exitCode).toBe(0);
    expect(await installPlans()).toEqual(after);
  });

  it('an InstallPlan that changed after it was judged is not approved (the patch tests what was read)', async () => {
    await api.createNamespacedCustomObject({ group: 'operators.coreos.com', version: 'v1alpha1', namespace: NS, plural: 'installplans', body: plan('install-moving', ['x-operator.v1.0.0']) });
    const read = (await api.getNamespacedCustomObject({ group: 'operators.coreos.com', version: 'v1alpha1', namespace: NS, plural: 'installplans', name: 'install-moving' })) as Record<string, unknown>;
    const judged = summarizeInstallPlan(read, 'x-operator.v1.0.0');
    // OLM bundles one more operator into the plan after we read it
    const moved = structuredClone(read) as { spec: { clusterServiceVersionNames: string[] } };
    moved.spec.clusterServiceVersionNames.push('y-operator.v3.0.0');
    await api.replaceNamespacedCustomObject({ group: 'operators.coreos.com', version: 'v1alpha1', namespace: NS, plural: 'installplans', name: 'install-moving', body: moved });
    await expect(approveInstallPlan(kc, judged)).rejects.toThrow(/changed since it was read/);
    const now = (await api.getNamespacedCustomObject({ group: 'operators.coreos.com', version: 'v1alpha1', namespace: NS, plural: 'installplans', name: 'install-moving' })) as { spec: { approved: boolean } };
    expect(now.spec.approved).toBe(false);
  });
});
