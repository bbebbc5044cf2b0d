/**
 * The rehearsal API server, driven only through @kubernetes/client-node over real HTTP.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ARGOCD_APPLICATION, OPENSTACK_VERSION, collectionPath } from '../../src/cluster/resources.js';
import { startRehearsalApiServer, type RehearsalApiServer } from '../../src/simulate/apiserver/server.js';
import { WatchRecorder, asJsonPatch, asMergePatch, asStrategicPatch, clientsFor, expectApiError, type Clients } from '../conformance/k8s-helpers.js';

const NS = 'openstack';
const OSV = { group: 'core.openstack.org', version: 'v1beta1', plural: 'openstackversions' } as const;
const osvPath = collectionPath(OPENSTACK_VERSION, NS);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- custom objects come back untyped
type Obj = any;

function osv(name: string, extra: Record<string, unknown> = {}): Obj {
  return { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', metadata: { name, ...extra }, spec: { targetVersion: '18.0.1' } };
}

let server: RehearsalApiServer;
let c: Clients;
const watches: WatchRecorder[] = [];

beforeAll(async () => {
  server = await startRehearsalApiServer({ namespaces: [NS], bookmarkIntervalMs: 100 });
  c = clientsFor(server.kubeconfig(NS));
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  for (const w of watches.splice(0)) w.stop();
  server.faults.clear();
});

async function watch(path: string, query: Record<string, string | number | boolean>, kc: k8s.KubeConfig = c.kc): Promise<WatchRecorder> {
  const w = await WatchRecorder.start(kc, path, query);
  watches.push(w);
  return w;
}

const create = (body: Obj): Promise<Obj> => c.custom.createNamespacedCustomObject({ ...OSV, namespace: NS, body });
const get = (name: string): Promise<Obj> => c.custom.getNamespacedCustomObject({ ...OSV, namespace: NS, name });
const mergePatch = (name: string, body: Obj): Promise<Obj> => c.custom.patchNamespacedCustomObject({ ...OSV, namespace: NS, name, body }, asMergePatch);
const statusPatch = (name: string, body: Obj): Promise<Obj> => c.custom.patchNamespacedCustomObjectStatus({ ...OSV, namespace: NS, name, body }, asMergePatch);

describe('discovery, CRUD and selectors', () => {
  it('serves discovery so KubernetesObjectApi can create and read', async () => {
    const created = await c.objects.create(osv('via-object-api'));
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    const read: Obj = await c.objects.read({ apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', metadata: { name: 'via-object-api', namespace: NS } });
    expect(read.spec.targetVersion).toBe('18.0.1');
    expect(read.metadata.generation).toBe(1);
    expect(read.metadata.creationTimestamp).toBeDefined();
    const ns = await c.core.readNamespace({ name: NS });
    expect(ns.status?.phase).toBe('Active');
  });

  it('creates, gets and lists with label and field selectors', async () => {
    await create(osv('sel-a', { labels: { tier: 'a', env: 'prod' } }));
    await create(osv('sel-b', { labels: { tier: 'b' } }));
    await create(osv('sel-c', { labels: { tier: 'c', env: 'dev' } }));
    const names = async (q: { labelSelector?: string; fieldSelector?: string }): Promise<string[]> => {
      const list = await c.custom.listNamespacedCustomObject({ ...OSV, namespace: NS, ...q });
      expect(Number(list.metadata.resourceVersion)).toBeGreaterThan(0);
      return (list.items as Obj[]).map((o) => o.metadata.name).filter((n: string) => n.startsWith('sel-'));
    };
    expect(await names({ labelSelector: 'tier=a' })).toEqual(['sel-a']);
    expect(await names({ labelSelector: 'tier!=a' })).toEqual(['sel-b', 'sel-c']);
    expect(await names({ labelSelector: 'tier in (a,c)' })).toEqual(['sel-a', 'sel-c']);
    expect(await names({ labelSelector: 'tier notin (a)' })).toEqual(['sel-b', 'sel-c']);
    expect(await names({ labelSelector: 'env' })).toEqual(['sel-a', 'sel-c']);
    expect(await names({ labelSelector: '!env' })).toEqual(['sel-b']);
    expect(await names({ labelSelector: 'tier,env=dev' })).toEqual(['sel-c']);
    expect(await names({ fieldSelector: 'metadata.name=sel-b' })).toEqual(['sel-b']);
    expect(await names({ fieldSelector: `metadata.namespace=${NS},metadata.name!=sel-b`, labelSelector: 'tier' })).toEqual(['sel-a', 'sel-c']);
    await expectApiError(c.custom.listNamespacedCustomObject({ ...OSV, namespace: NS, fieldSelector: 'spec.targetVersion=1' }), 400, 'BadRequest');
    await expectApiError(c.custom.listNamespacedCustomObject({ ...OSV, namespace: NS, labelSelector: 'tier in (' }), 400, 'BadRequest');
    const all = await c.custom.listClusterCustomObject({ ...OSV, labelSelector: 'tier=b' });
    expect((all.items as Obj[]).map((o) => o.metadata.name)).toEqual(['sel-b']);
  });

  it('answers 404, 409 AlreadyExists, generateName and namespace rules like the real server', async () => {
    const missing = await expectApiError(get('nope'), 404, 'NotFound');
    expect(missing.details).toEqual({ name: 'nope', group: 'core.openstack.org', kind: 'openstackversions' });
    await create(osv('dup'));
    await expectApiError(create(osv('dup')), 409, 'AlreadyExists');
    const gen = await create({ ...osv(''), metadata: { generateName: 'gen-' } });
    expect(gen.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
    await expectApiError(c.custom.createNamespacedCustomObject({ ...OSV, namespace: 'no-such-ns', body: osv('x') }), 404, 'NotFound');
    await expectApiError(create(osv('Bad_Name')), 422, 'Invalid');
  });

  it('rejects an object that breaks its CRD schema with 422 and prunes unknown fields', async () => {
    const bad = osv('schema-bad');
    bad.spec = { customContainerImages: {} };
    const status = await expectApiError(create(bad), 422, 'Invalid');
    expect(status.message).toContain('spec.targetVersion: Required value');
    const typo = osv('schema-typo');
    typo.spec.targetVersoin = 'x';
    const stored = await create(typo);
    expect(stored.spec).toEqual({ targetVersion: '18.0.1' });
  });

  it('deletes, keeping an object with finalizers until they are removed', async () => {
    await create(osv('fin', { finalizers: ['example.com/hold'] }));
    const deleting = await c.custom.deleteNamespacedCustomObject({ ...OSV, namespace: NS, name: 'fin' });
    expect(deleting.metadata.deletionTimestamp).toBeDefined();
    expect((await get('fin')).metadata.deletionTimestamp).toBeDefined();
    await mergePatch('fin', { metadata: { finalizers: null } });
    await expectApiError(get('fin'), 404, 'NotFound');
    await expectApiError(c.custom.deleteNamespacedCustomObject({ ...OSV, namespace: NS, name: 'fin' }), 404, 'NotFound');
  });
});

describe('generation, resourceVersion and the status subresource', () => {
  it('bumps generation on spec changes only, resourceVersion on every real change', async () => {
    const v1 = await create(osv('gen'));
    expect(v1.metadata.generation).toBe(1);
    const v2 = await mergePatch('gen', { spec: { targetVersion: '18.0.2' } });
    expect(v2.metadata.generation).toBe(2);
    expect(Number(v2.metadata.resourceVersion)).toBeGreaterThan(Number(v1.metadata.resourceVersion));
    const v3 = await mergePatch('gen', { metadata: { labels: { a: 'b' } } });
    expect(v3.metadata.generation).toBe(2);
    expect(Number(v3.metadata.resourceVersion)).toBeGreaterThan(Number(v2.metadata.resourceVersion));
    const v4 = await statusPatch('gen', { status: { observedGeneration: 2, deployedVersion: '18.0.1' } });
    expect(v4.metadata.generation).toBe(2);
    expect(v4.status.deployedVersion).toBe('18.0.1');
    // a write that changes nothing keeps the resourceVersion
    const v5 = await mergePatch('gen', { spec: { targetVersion: '18.0.2' } });
    expect(v5.metadata.resourceVersion).toBe(v4.metadata.resourceVersion);
  });

  it('ignores status on main writes and everything but status on /status writes', async () => {
    await create({ ...osv('sub'), status: { deployedVersion: 'dropped-on-create' } });
    expect((await get('sub')).status).toBeUndefined();
    await statusPatch('sub', { status: { deployedVersion: '18.0.0' } });
    const main = await mergePatch('sub', { spec: { targetVersion: '18.0.3' }, status: { deployedVersion: 'ignored' } });
    expect(main.status.deployedVersion).toBe('18.0.0');
    expect(main.spec.targetVersion).toBe('18.0.3');
    const viaStatus = await statusPatch('sub', { spec: { targetVersion: 'ignored' }, metadata: { labels: { x: 'y' } }, status: { deployedVersion: '18.0.3' } });
    expect(viaStatus.spec.targetVersion).toBe('18.0.3');
    expect(viaStatus.metadata.labels).toBeUndefined();
    expect(viaStatus.status.deployedVersion).toBe('18.0.3');
    expect(viaStatus.metadata.generation).toBe(2);
    const read = await c.custom.getNamespacedCustomObjectStatus({ ...OSV, namespace: NS, name: 'sub' });
    expect(read.status.deployedVersion).toBe('18.0.3');
  });

  it('treats status as a normal field without a status subresource (generation counts it)', async () => {
    const app = { group: ARGOCD_APPLICATION.group, version: ARGOCD_APPLICATION.version, namespace: NS, plural: ARGOCD_APPLICATION.plural };
    await c.custom.createNamespacedCustomObject({
      ...app,
      body: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'app' }, spec: { destination: {}, project: 'default' }, status: { sync: { status: 'Synced' } } },
    });
    const got = await c.custom.getNamespacedCustomObject({ ...app, name: 'app' });
    expect(got.status.sync.status).toBe('Synced');
    const patched = await c.custom.patchNamespacedCustomObject({ ...app, name: 'app', body: { status: { sync: { status: 'OutOfSync' } } } }, asMergePatch);
    expect(patched.status.sync.status).toBe('OutOfSync');
    expect(patched.metadata.generation).toBe(2);
  });

  it('answers 409 Conflict for a stale resourceVersion and 422 for a CR update without one', async () => {
    const v1 = await create(osv('stale'));
    const v2 = await mergePatch('stale', { spec: { targetVersion: '18.0.2' } });
    const stale = { ...v1, spec: { targetVersion: '18.0.9' } };
    const status = await expectApiError(c.custom.replaceNamespacedCustomObject({ ...OSV, namespace: NS, name: 'stale', body: stale }), 409, 'Conflict');
    expect(status.message).toContain('the object has been modified');
    const fresh = await c.custom.replaceNamespacedCustomObject({ ...OSV, namespace: NS, name: 'stale', body: { ...v2, spec: { targetVersion: '18.0.9' } } });
    expect(fresh.metadata.generation).toBe(3);
    const noRv = osv('stale');
    await expectApiError(c.custom.replaceNamespacedCustomObject({ ...OSV, namespace: NS, name: 'stale', body: noRv }), 422, 'Invalid');
    await expectApiError(c.custom.replaceNamespacedCustomObject({ ...OSV, namespace: NS, name: 'absent', body: { ...osv('absent'), metadata: { name: 'absent', resourceVersion: '1' } } }), 404, 'NotFound');
    // a merge patch carrying a stale resourceVersion is a precondition too
    await expectApiError(mergePatch('stale', { metadata: { resourceVersion: v1.metadata.resourceVersion }, spec: { targetVersion: 'x' } }), 409, 'Conflict');
  });
});

describe('patches and server-side apply', () => {
  it('applies merge and JSON patches; refuses strategic merge on a custom resource with 415', async () => {
    await create(osv('patchy', { labels: { keep: 'yes', drop: 'me' } }));
    const merged = await mergePatch('patchy', { metadata: { labels: { drop: null } }, spec: { customContainerImages: { novaAPIImage: 'img:1' } } });
    expect(merged.metadata.labels).toEqual({ keep: 'yes' });
    expect(merged.spec.customContainerImages.novaAPIImage).toBe('img:1');
    const jp = await c.custom.patchNamespacedCustomObject(
      {
        ...OSV,
        namespace: NS,
        name: 'patchy',
        body: [
          { op: 'test', path: '/spec/targetVersion', value: '18.0.1' },
          { op: 'replace', path: '/spec/targetVersion', value: '18.0.4' },
          { op: 'remove', path: '/spec/customContainerImages/novaAPIImage' },
        ],
      },
      asJsonPatch,
    );
    expect(jp.spec.targetVersion).toBe('18.0.4');
    expect(jp.spec.customContainerImages).toEqual({});
    await expectApiError(c.custom.patchNamespacedCustomObject({ ...OSV, namespace: NS, name: 'patchy', body: [{ op: 'test', path: '/spec/targetVersion', value: 'no' }] }, asJsonPatch), 422, 'Invalid');
    await expectApiError(c.custom.patchNamespacedCustomObject({ ...OSV, namespace: NS, name: 'patchy', body: { spec: {} } }, asStrategicPatch), 415, 'UnsupportedMediaType');
    await expectApiError(mergePatch('missing-object', { spec: {} }), 404, 'NotFound');
  });

  it('accepts a strategic merge patch on a built-in kind', async () => {
    await c.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'cm' }, data: { a: '1' } } });
    const cm = await c.core.patchNamespacedConfigMap({ namespace: NS, name: 'cm', body: { data: { b: '2' } } }, asStrategicPatch);
    expect(cm.data).toEqual({ a: '1', b: '2' });
    expect(cm.metadata?.generation).toBeUndefined();
    const gone = await c.core.deleteNamespacedConfigMap({ namespace: NS, name: 'cm' });
    expect(gone.status).toBe('Success');
  });

  it('creates and updates with server-side apply, removing fields the manager stopped applying', async () => {
    const applied = osv('ssa', { labels: { owner: 'gitops' } });
    applied.spec.customContainerImages = { novaAPIImage: 'img:1' };
    const created = await c.objects.patch(applied, undefined, undefined, 'osv-gitops', undefined, k8s.PatchStrategy.ServerSideApply);
    expect(created.metadata?.generation).toBe(1);
    expect(created.metadata?.managedFields?.[0]?.manager).toBe('osv-gitops');
    expect(created.metadata?.managedFields?.[0]?.operation).toBe('Apply');
    const second = osv('ssa');
    second.spec.targetVersion = '18.0.5';
    const updated: Obj = await c.objects.patch(second, undefined, undefined, 'osv-gitops', undefined, k8s.PatchStrategy.ServerSideApply);
    expect(updated.spec).toEqual({ targetVersion: '18.0.5' });
    expect(updated.metadata.labels).toBeUndefined();
    expect(updated.metadata.generation).toBe(2);
    // another manager changing an owned field conflicts unless it forces
    const other = osv('ssa');
    other.spec.targetVersion = '18.0.6';
    await expectApiError(c.objects.patch(other, undefined, undefined, 'someone-else', undefined, k8s.PatchStrategy.ServerSideApply), 409, 'Conflict');
    const forced: Obj = await c.objects.patch(other, undefined, undefined, 'someone-else', true, k8s.PatchStrategy.ServerSideApply);
    expect(forced.spec.targetVersion).toBe('18.0.6');
    // apply without a field manager is refused
    await expectApiError(c.objects.patch(osv('ssa'), undefined, undefined, undefined, undefined, k8s.PatchStrategy.ServerSideApply), 422, 'Invalid');
  });
});

describe('more of the real server\'s rules', () => {
  it('applies to the status subresource with its own field manager', async () => {
    await create(osv('ssa-status'));
    const body = { ...osv('ssa-status'), status: { deployedVersion: '18.0.1', observedGeneration: 1 } };
    const out: Obj = await c.custom.patchNamespacedCustomObjectStatus(
      { ...OSV, namespace: NS, name: 'ssa-status', body, fieldManager: 'status-writer' },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
    );
    expect(out.status).toEqual({ deployedVersion: '18.0.1', observedGeneration: 1 });
    expect(out.metadata.generation).toBe(1);
    const entry = out.metadata.managedFields.find((m: Obj) => m.manager === 'status-writer');
    expect(entry).toMatchObject({ operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': { 'f:deployedVersion': {}, 'f:observedGeneration': {} } } });
  });

  it('watches one object by name, and deletes a collection by label', async () => {
    await create(osv('coll-1', { labels: { coll: 'yes' } }));
    await create(osv('coll-2', { labels: { coll: 'yes' } }));
    const w = await watch(`${osvPath}/coll-2`, {});
    await w.waitForEvents(1);
    const deleted = await c.custom.deleteCollectionNamespacedCustomObject({ ...OSV, namespace: NS, labelSelector: 'coll=yes' });
    expect((deleted.items as Obj[]).map((o) => o.metadata.name)).toEqual(['coll-1', 'coll-2']);
    await w.waitForEvents(2);
    expect(w.summary()).toEqual([
      ['ADDED', 'coll-2'],
      ['DELETED', 'coll-2'],
    ]);
  });

  it('terminates a namespace: content deleted, finalizers respected, no new content', async () => {
    await c.core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    const inNs = { ...OSV, namespace: 'doomed' };
    await c.custom.createNamespacedCustomObject({ ...inNs, body: osv('plain') });
    await c.custom.createNamespacedCustomObject({ ...inNs, body: osv('held', { finalizers: ['example.com/hold'] }) });
    await c.core.deleteNamespace({ name: 'doomed' });
    expect((await c.core.readNamespace({ name: 'doomed' })).status?.phase).toBe('Terminating');
    await expectApiError(c.custom.getNamespacedCustomObject({ ...inNs, name: 'plain' }), 404, 'NotFound');
    await expectApiError(c.custom.createNamespacedCustomObject({ ...inNs, body: osv('late') }), 403, 'Forbidden');
    await c.custom.patchNamespacedCustomObject({ ...inNs, name: 'held', body: { metadata: { finalizers: null } } }, asMergePatch);
    await expectApiError(c.core.readNamespace({ name: 'doomed' }), 404, 'NotFound');
  });
});

describe('watch', () => {
  it('sends the current state, then changes in order, honouring selectors on both sides', async () => {
    await create(osv('w-1', { labels: { w: 'yes' } }));
    const w = await watch(osvPath, { labelSelector: 'w=yes' });
    await w.waitForEvents(1);
    await create(osv('w-2', { labels: { w: 'yes' } }));
    await create(osv('w-other'));
    await mergePatch('w-1', { spec: { targetVersion: '18.0.7' } });
    await mergePatch('w-other', { metadata: { labels: { w: 'yes' } } });
    await mergePatch('w-2', { metadata: { labels: { w: 'no' } } });
    await c.custom.deleteNamespacedCustomObject({ ...OSV, namespace: NS, name: 'w-1' });
    await w.waitForEvents(6);
    expect(w.summary()).toEqual([
      ['ADDED', 'w-1'],
      ['ADDED', 'w-2'],
      ['MODIFIED', 'w-1'],
      ['ADDED', 'w-other'],
      ['DELETED', 'w-2'],
      ['DELETED', 'w-1'],
    ]);
    const rvs = w.events.slice(1).map((e) => Number(e.object.metadata.resourceVersion));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
  });

  it('resumes after a resourceVersion without replaying older events', async () => {
    const a = await create(osv('resume-a'));
    await mergePatch('resume-a', { spec: { targetVersion: '18.0.8' } });
    await create(osv('resume-b'));
    const w = await watch(osvPath, { resourceVersion: a.metadata.resourceVersion, fieldSelector: 'metadata.name=resume-a' });
    await w.waitForEvents(1);
    await mergePatch('resume-a', { metadata: { labels: { l: '1' } } });
    await w.waitForEvents(2);
    expect(w.summary()).toEqual([
      ['MODIFIED', 'resume-a'],
      ['MODIFIED', 'resume-a'],
    ]);
    expect(w.events[0]?.object.spec.targetVersion).toBe('18.0.8');
  });

  it('sends BOOKMARK events that carry only the resourceVersion when asked', async () => {
    const list = await c.custom.listNamespacedCustomObject({ ...OSV, namespace: NS });
    const w = await watch(osvPath, { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true });
    await w.waitFor((r) => r.events.some((e) => e.type === 'BOOKMARK'), 3000, 'a bookmark');
    const bm = w.events.find((e) => e.type === 'BOOKMARK');
    expect(bm?.object.kind).toBe('OpenStackVersion');
    expect(Object.keys(bm?.object.metadata)).toEqual(['resourceVersion']);
    expect(Number(bm?.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(list.metadata.resourceVersion));
    const plain = await watch(osvPath, { resourceVersion: list.metadata.resourceVersion });
    await new Promise((r) => setTimeout(r, 300));
    expect(plain.events.filter((e) => e.type === 'BOOKMARK')).toEqual([]);
  });

  it('ends the stream after timeoutSeconds', async () => {
    const w = await watch(osvPath, { timeoutSeconds: 1, resourceVersion: '0' });
    await w.waitForEnd(4000);
    expect(w.endError).toBeNull();
  });
});

describe('client-node informer', () => {
  it('lists, watches and re-watches after dropWatches() without losing changes', async () => {
    const seen: string[] = [];
    const informer = k8s.makeInformer(c.kc, osvPath, () => c.custom.listNamespacedCustomObject({ ...OSV, namespace: NS, labelSelector: 'inf=yes' }), 'inf=yes');
    informer.on('add', (o: Obj) => seen.push(`add ${o.metadata.name}`));
    informer.on('update', (o: Obj) => seen.push(`update ${o.metadata.name} ${o.spec.targetVersion}`));
    informer.on('delete', (o: Obj) => seen.push(`delete ${o.metadata.name}`));
    let errors = 0;
    informer.on('error', () => errors++);
    await create(osv('inf-1', { labels: { inf: 'yes' } }));
    await informer.start();
    const until = async (entry: string): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!seen.includes(entry)) {
        if (Date.now() > deadline) throw new Error(`informer never saw "${entry}"; saw ${JSON.stringify(seen)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      await until('add inf-1');
      server.faults.dropWatches();
      await new Promise((r) => setTimeout(r, 100));
      await mergePatch('inf-1', { spec: { targetVersion: '18.0.9' } });
      await until('update inf-1 18.0.9');
      await c.custom.deleteNamespacedCustomObject({ ...OSV, namespace: NS, name: 'inf-1' });
      await until('delete inf-1');
      expect(errors).toBe(0);
    } finally {
      await informer.stop();
    }
  });
});

describe('resourceVersion window', () => {
  it('answers a watch from a too-old resourceVersion with an ERROR event holding 410 Expired', async () => {
    const small = await startRehearsalApiServer({ namespaces: [NS], eventWindow: 5 });
    try {
      const sc = clientsFor(small.kubeconfig(NS));
      const first = await sc.custom.createNamespacedCustomObject({ ...OSV, namespace: NS, body: osv('old') });
      for (let i = 0; i < 6; i++) {
        await sc.custom.patchNamespacedCustomObject({ ...OSV, namespace: NS, name: 'old', body: { metadata: { labels: { i: String(i) } } } }, asMergePatch);
      }
      const w = await watch(osvPath, { resourceVersion: first.metadata.resourceVersion }, sc.kc);
      await w.waitForEnd();
      expect(w.events).toHaveLength(1);
      expect(w.events[0]?.type).toBe('ERROR');
      expect(w.events[0]?.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired', status: 'Failure' });
      expect(w.events[0]?.object.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
      // a list at an exact, expired resourceVersion is 410 as well; a recent one is rebuilt
      const exact = (rv: string): Promise<Obj> => sc.custom.listNamespacedCustomObject({ ...OSV, namespace: NS, resourceVersion: rv, resourceVersionMatch: 'Exact' });
      await expectApiError(exact(first.metadata.resourceVersion), 410, 'Expired');
      const now = await sc.custom.listNamespacedCustomObject({ ...OSV, namespace: NS });
      const current = await exact(now.metadata.resourceVersion);
      expect(current.items[0].metadata.labels).toEqual({ i: '5' });
    } finally {
      await small.close();
    }
  });
});

describe('faults and authentication', () => {
  it('fails the next matching requests with the injected status', async () => {
    await create(osv('faulty'));
    server.faults.failNext(1, 500, (method, path) => method === 'GET' && path.includes('/faulty'));
    await expectApiError(get('faulty'), 500, 'InternalError');
    expect((await get('faulty')).metadata.name).toBe('faulty');
    server.faults.failNext(1, 429);
    await expectApiError(get('faulty'), 429, 'TooManyRequests');
  });

  it('never answers a hung request until the server closes', async () => {
    const hs = await startRehearsalApiServer({ namespaces: [NS] });
    const hc = clientsFor(hs.kubeconfig(NS));
    hs.faults.hangNext(1, (_m, path) => path.includes('/hung'));
    let settled = false;
    const hung = hc.custom.getNamespacedCustomObject({ ...OSV, namespace: NS, name: 'hung' }).finally(() => (settled = true));
    hung.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    await expectApiError(hc.custom.getNamespacedCustomObject({ ...OSV, namespace: NS, name: 'hung' }), 404, 'NotFound');
    await hs.close();
    await expect(hung).rejects.toBeDefined();
  });

  it('ends open watches on dropWatches()', async () => {
    const w = await watch(osvPath, {});
    await new Promise((r) => setTimeout(r, 100));
    expect(w.ended).toBe(false);
    server.faults.dropWatches();
    await w.waitForEnd(3000);
    expect(w.ended).toBe(true);
  });

  it('answers 401 without the bearer token and counts requests by verb', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'r', server: server.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'wrong' }],
      contexts: [{ name: 'c', cluster: 'r', user: 'u', namespace: NS }],
      currentContext: 'c',
    });
    await expectApiError(kc.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject({ ...OSV, namespace: NS, name: 'faulty' }), 401);
    // KubernetesObjectApi keeps the body: a Status with reason Unauthorized (here from discovery)
    await expectApiError(k8s.KubernetesObjectApi.makeApiClient(kc).read(osv('faulty')), 401, 'Unauthorized');
    const before = server.stats.byVerb['get'] ?? 0;
    await get('faulty');
    expect(server.stats.byVerb['get']).toBe(before + 1);
    expect(server.stats.requests).toBeGreaterThan(before);
  });
});
