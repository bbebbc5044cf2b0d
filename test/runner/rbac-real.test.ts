/**
 * The runner's RBAC on a real kube-apiserver: the rendered ServiceAccount, Roles and RoleBindings
 * are created, a token is issued for the ServiceAccount (TokenRequest), and under that token every
 * read advance and watch make succeeds (through the project's own readers), while everything else
 * (writes to OpenStack objects, Secrets, other agent objects) is forbidden. The rendered workloads
 * pass the server's strict schema validation, and their pod template passes Pod Security
 * `restricted`.
 */
import { readFileSync } from 'node:fs';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runnerOptions, type RenderRunnerFlags } from '../../src/cli/render-runner.js';
import { KubeReader } from '../../src/cluster/kube.js';
import { readClusterSnapshot, type SnapshotTarget } from '../../src/cluster/read.js';
import { ClusterWatcher } from '../../src/cluster/watcher.js';
import { runnerManifests, type Manifest } from '../../src/runner/manifests.js';
import { describeRealCluster } from '../e2e-real/describe-real.js';
import { kubeRequest, startRealCluster, statusMessage, type RealCluster } from '../e2e-real/harness.js';

const FLAGS: RenderRunnerFlags = {
  image: 'quay.io/example/osv-gitops:0.1.0',
  repoUrl: 'https://git.example.com/ops/openstack.git',
  gitSecret: 'osv-gitops-git',
  plan: 'updates/plan.json',
  agent: 'flux:flux-system/openstack',
};
const SA = 'osv-gitops-runner';
const TARGET: SnapshotTarget = { namespace: 'openstack', csvNamespace: 'openstack-operators', agent: { engine: 'flux', namespace: 'flux-system', name: 'openstack' } };

/** The collection URL of a rendered object. */
function collection(m: Manifest): string {
  const apiVersion = String(m['apiVersion']);
  const ns = (m['metadata'] as { namespace: string }).namespace;
  const plural = { ServiceAccount: 'serviceaccounts', ConfigMap: 'configmaps', Role: 'roles', RoleBinding: 'rolebindings', CronJob: 'cronjobs', Deployment: 'deployments' }[String(m['kind'])];
  return `${apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`}/namespaces/${ns}/${plural}`;
}

interface Access {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace: string;
  readonly name?: string;
}

describeRealCluster('render-runner RBAC under a ServiceAccount token (real API server)', () => {
  let cluster: RealCluster | undefined;
  let admin: KubeConfig;
  let runner: KubeConfig;
  const manifests = runnerManifests(runnerOptions(FLAGS));

  beforeAll(async () => {
    cluster = await startRealCluster();
    admin = new KubeConfig();
    admin.loadFromString(cluster.kubeconfigYaml);
    const create = async (path: string, body: unknown) => {
      const res = await kubeRequest(admin, 'POST', path, body);
      expect(res.status, `${path}: ${statusMessage(res.body)}`).toBe(201);
    };
    await create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'openstack-operators' } });
    // the objects advance reads, and some it must not
    await create('/apis/core.openstack.org/v1beta1/namespaces/openstack/openstackversions', {
      apiVersion: 'core.openstack.org/v1beta1',
      kind: 'OpenStackVersion',
      metadata: { name: 'openstack' },
      spec: { targetVersion: '18.0.3' },
    });
    for (const name of ['openstack', 'other']) {
      await create('/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations', {
        apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
        kind: 'Kustomization',
        metadata: { name },
        spec: { interval: '1m', prune: true, path: './openstack', sourceRef: { kind: 'GitRepository', name: 'flux-system' } },
      });
    }
    const csv = parse(readFileSync('fixtures/example/csv.yaml', 'utf8')) as Manifest & { metadata: Record<string, unknown> };
    for (const k of ['resourceVersion', 'uid', 'creationTimestamp', 'generation']) delete csv.metadata[k];
    delete csv['status'];
    await create('/apis/operators.coreos.com/v1alpha1/namespaces/openstack-operators/clusterserviceversions', csv);
    await create('/api/v1/namespaces/openstack/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'osv-gitops-git' }, stringData: { username: 'bot', password: 'not-for-the-runner' } });
    // the rendered objects, as `oc apply` would send them; the server validates them strictly
    for (const m of manifests) await create(`${collection(m)}?fieldValidation=Strict`, m);

    const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      name: SA,
      namespace: 'openstack',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const kc = JSON.parse(cluster.kubeconfigYaml) as { users: { user: { token: string } }[] };
    kc.users[0]!.user.token = token.status?.token ?? '';
    expect(kc.users[0]!.user.token).not.toBe('');
    runner = new KubeConfig();
    runner.loadFromString(JSON.stringify(kc));
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const allowed = async (a: Access): Promise<boolean> => {
    const res = await kubeRequest(runner, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: a.verb, group: a.group, resource: a.resource, namespace: a.namespace, ...(a.name ? { name: a.name } : {}) } },
    });
    expect(res.status, statusMessage(res.body)).toBe(201);
    return (res.body as { status: { allowed: boolean } }).status.allowed;
  };
  const show = (a: Access) => `${a.verb} ${a.group || 'core'}/${a.resource}${a.name ? `/${a.name}` : ''} in ${a.namespace}`;

  it('the token is the ServiceAccount', async () => {
    const res = await kubeRequest(runner, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(res.status, statusMessage(res.body)).toBe(201);
    expect((res.body as { status: { userInfo: { username: string } } }).status.userInfo.username).toBe(`system:serviceaccount:openstack:${SA}`);
  });

  it('allows every read advance and watch make, and create on events', async () => {
    const reads = (group: string, resource: string, namespace: string, name?: string): Access[] =>
      ['get', 'list', 'watch'].map((verb) => ({ verb, group, resource, namespace, ...(name ? { name } : {}) }));
    const wanted: Access[] = [
      ...reads('core.openstack.org', 'openstackversions', 'openstack'),
      ...reads('core.openstack.org', 'openstackcontrolplanes', 'openstack'),
      ...reads('dataplane.openstack.org', 'openstackdataplanenodesets', 'openstack'),
      ...reads('dataplane.openstack.org', 'openstackdataplanedeployments', 'openstack'),
      ...reads('operators.coreos.com', 'clusterserviceversions', 'openstack-operators'),
      ...reads('kustomize.toolkit.fluxcd.io', 'kustomizations', 'flux-system', 'openstack'),
      { verb: 'create', group: '', resource: 'events', namespace: 'openstack' },
    ];
    const refused = [];
    for (const a of wanted) if (!(await allowed(a))) refused.push(show(a));
    expect(refused).toEqual([]);
  });

  it('forbids everything else asked of it: writes, Secrets, other agent objects, other namespaces', async () => {
    const unwanted: Access[] = [
      { verb: 'delete', group: 'core.openstack.org', resource: 'openstackversions', namespace: 'openstack', name: 'openstack' },
      { verb: 'patch', group: 'core.openstack.org', resource: 'openstackversions', namespace: 'openstack', name: 'openstack' },
      { verb: 'update', group: 'core.openstack.org', resource: 'openstackversions', namespace: 'openstack', name: 'openstack' },
      { verb: 'create', group: 'core.openstack.org', resource: 'openstackversions', namespace: 'openstack' },
      { verb: 'patch', group: 'core.openstack.org', resource: 'openstackcontrolplanes', namespace: 'openstack', name: 'x' },
      { verb: 'create', group: 'dataplane.openstack.org', resource: 'openstackdataplanedeployments', namespace: 'openstack' },
      { verb: 'list', group: '', resource: 'secrets', namespace: 'openstack' },
      { verb: 'get', group: '', resource: 'secrets', namespace: 'openstack', name: 'osv-gitops-git' },
      { verb: 'list', group: '', resource: 'configmaps', namespace: 'openstack' },
      { verb: 'create', group: '', resource: 'pods', namespace: 'openstack' },
      { verb: 'create', group: 'batch', resource: 'jobs', namespace: 'openstack' },
      { verb: 'patch', group: '', resource: 'events', namespace: 'openstack' },
      { verb: 'create', group: '', resource: 'events', namespace: 'flux-system' },
      { verb: 'get', group: 'kustomize.toolkit.fluxcd.io', resource: 'kustomizations', namespace: 'flux-system', name: 'other' },
      { verb: 'list', group: 'kustomize.toolkit.fluxcd.io', resource: 'kustomizations', namespace: 'flux-system' },
      { verb: 'patch', group: 'kustomize.toolkit.fluxcd.io', resource: 'kustomizations', namespace: 'flux-system', name: 'openstack' },
      { verb: 'list', group: 'source.toolkit.fluxcd.io', resource: 'gitrepositories', namespace: 'flux-system' },
      { verb: 'list', group: 'core.openstack.org', resource: 'openstackversions', namespace: 'default' },
      { verb: 'list', group: 'operators.coreos.com', resource: 'clusterserviceversions', namespace: 'openstack' },
      { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'rolebindings', namespace: 'openstack' },
    ];
    const granted = [];
    for (const a of unwanted) if (await allowed(a)) granted.push(show(a));
    expect(granted).toEqual([]);
  });

  it('direct calls: the writes get 403 from the server itself', async () => {
    const osv = '/apis/core.openstack.org/v1beta1/namespaces/openstack/openstackversions/openstack';
    const calls: [string, string, unknown?][] = [
      ['DELETE', osv],
      ['PUT', osv, { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', metadata: { name: 'openstack' }, spec: { targetVersion: '18.0.4' } }],
      ['GET', '/api/v1/namespaces/openstack/secrets'],
      ['GET', '/api/v1/namespaces/openstack/secrets/osv-gitops-git'],
      ['GET', '/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations'],
      ['GET', '/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/other'],
    ];
    for (const [method, path, body] of calls) {
      const res = await kubeRequest(runner, method, path, body);
      expect(res.status, `${method} ${path}: ${statusMessage(res.body)}`).toBe(403);
    }
    // a merge patch of the target version, refused too; reading it is fine
    const api = runner.makeApiClient(CustomObjectsApi);
    const ref = { group: 'core.openstack.org', version: 'v1beta1', namespace: 'openstack', plural: 'openstackversions', name: 'openstack' };
    await expect(api.patchNamespacedCustomObject({ ...ref, body: { spec: { targetVersion: '18.0.4' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))).rejects.toMatchObject({ code: 403 });
    expect((await kubeRequest(runner, 'GET', osv)).status).toBe(200);
  });

  it("advance's own read (readClusterSnapshot) succeeds under the token and sees every object", async () => {
    const reader = new KubeReader(runner, 10_000);
    const snap = await readClusterSnapshot(reader, TARGET);
    expect(snap.unread).toEqual([]);
    expect(snap.openStackVersions.map((o) => (o['metadata'] as { name: string }).name)).toEqual(['openstack']);
    expect(snap.csvs?.map((o) => (o['metadata'] as { name: string }).name)).toEqual(['openstack-operator.v18.0.4']);
    expect(snap.agent?.object).toBeDefined();
  });

  it("watch's list+watch feeds (the agent by a metadata.name field selector) start and fill under the token", async () => {
    const logs: string[] = [];
    const watcher = new ClusterWatcher(new KubeReader(runner, 10_000), TARGET, { resyncMs: 60_000, log: (l) => logs.push(l) });
    try {
      await watcher.start();
      // a change made by someone else arrives through the watch
      const changed = watcher.changed(10_000);
      const res = await kubeRequest(admin, 'POST', '/apis/dataplane.openstack.org/v1beta1/namespaces/openstack/openstackdataplanedeployments', {
        apiVersion: 'dataplane.openstack.org/v1beta1',
        kind: 'OpenStackDataPlaneDeployment',
        metadata: { name: 'edpm-probe' },
        spec: { nodeSets: ['compute'] },
      });
      expect(res.status, statusMessage(res.body)).toBe(201);
      await changed;
      const snap = watcher.snapshot();
      expect(snap.unread).toEqual([]);
      expect(snap.agent?.object).toBeDefined();
      expect(snap.deployments.map((o) => (o['metadata'] as { name: string }).name)).toEqual(['edpm-probe']);
      expect(logs.filter((l) => /403|forbidden/i.test(l))).toEqual([]);
    } finally {
      await watcher.stop();
    }
  });

  it('may create the progress Event on the OpenStackVersion', async () => {
    const res = await kubeRequest(runner, 'POST', '/api/v1/namespaces/openstack/events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'openstack.probe' },
      involvedObject: { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', name: 'openstack', namespace: 'openstack' },
      reason: 'OsvGitopsProbe',
      message: 'probe',
      type: 'Normal',
      source: { component: 'osv-gitops' },
    });
    expect(res.status, statusMessage(res.body)).toBe(201);
  });

  describe('the workloads', () => {
    const podSpecOf = (w: Manifest): Record<string, unknown> => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const spec = w['spec'] as any;
      return w['kind'] === 'CronJob' ? spec.jobTemplate.spec.template.spec : spec.template.spec;
    };

    it('the Deployment form passes strict server-side validation too', async () => {
      const d = runnerManifests(runnerOptions({ ...FLAGS, kind: 'deployment' })).at(-1)!;
      const res = await kubeRequest(admin, 'POST', `${collection(d)}?dryRun=All&fieldValidation=Strict`, d);
      expect(res.status, statusMessage(res.body)).toBe(201);
    });

    it('their pods are admitted under Pod Security restricted, and a loosened one is not', async () => {
      const ns = await kubeRequest(admin, 'GET', '/api/v1/namespaces/openstack');
      const body = ns.body as { metadata: { labels?: Record<string, string> } };
      body.metadata.labels = { ...body.metadata.labels, 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' };
      const put = await kubeRequest(admin, 'PUT', '/api/v1/namespaces/openstack', body);
      expect(put.status, statusMessage(put.body)).toBe(200);
      const dryRunPod = (name: string, spec: unknown) =>
        kubeRequest(admin, 'POST', '/api/v1/namespaces/openstack/pods?dryRun=All&fieldValidation=Strict', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec });
      for (const kind of ['cronjob', 'deployment']) {
        const spec = podSpecOf(runnerManifests(runnerOptions({ ...FLAGS, kind })).at(-1)!);
        // a Job's pods and a Deployment's: Never vs Always; both are admitted as Pods
        const res = await dryRunPod(`runner-${kind}`, spec);
        expect(res.status, `${kind}: ${statusMessage(res.body)}`).toBe(201);
      }
      const loose = structuredClone(podSpecOf(manifests.at(-1)!)) as { containers: { securityContext: Record<string, unknown> }[] };
      loose.containers[0]!.securityContext = { readOnlyRootFilesystem: true };
      const res = await dryRunPod('loose', loose);
      expect(res.status).toBe(403);
      expect(statusMessage(res.body)).toMatch(/violates PodSecurity "restricted/);
    });
  });
});
