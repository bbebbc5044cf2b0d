/**
 * API conformance suite: the behaviours osv-gitops relies on, written once and run against both
 * the rehearsal API server (`rehearsal.test.ts`) and a real kube-apiserver with the project's CRDs
 * installed. Only @kubernetes/client-node is used, with the kubeconfig the cluster hands over.
 *
 * Portability notes:
 * - Objects are valid OpenStackVersions (`spec.targetVersion` is required by the real CRD) and
 *   status writes keep to fields the CRD's status schema defines.
 * - Too-old resourceVersion: the suite first makes 30 writes, then watches from resourceVersion
 *   "1". A real server's watch cache starts at the resourceVersion of its initial list, far above
 *   1, so it answers 410; the rehearsal server must be started with an event window below 30.
 *   The 410 may come as an ERROR event on a 200 stream (watch cache) or as an HTTP 410; both pass.
 * - Bookmarks: the real server sends one about 2 s before `timeoutSeconds` ends a watch (and
 *   otherwise once a minute), so the test watches with `timeoutSeconds: 5`.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENSTACK_VERSION, collectionPath } from '../../src/cluster/resources.js';
import { WatchRecorder, asMergePatch, clientsFor, expectApiError, type Clients } from './k8s-helpers.js';

export interface ClusterUnderTest {
  readonly kubeconfigYaml: string;
  /** A namespace that exists on the cluster (start() creates it through the API). */
  readonly namespace: string;
  stop(): Promise<void>;
}

const GVR = { group: OPENSTACK_VERSION.group, version: OPENSTACK_VERSION.version, plural: OPENSTACK_VERSION.plural } as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- custom objects come back untyped
type Obj = any;

function openStackVersion(name: string, labels: Record<string, string> = {}): Obj {
  return {
    apiVersion: `${OPENSTACK_VERSION.group}/${OPENSTACK_VERSION.version}`,
    kind: OPENSTACK_VERSION.kind,
    metadata: { name, labels },
    spec: { targetVersion: '18.0.1' },
  };
}

export function defineConformanceSuite(name: string, start: () => Promise<ClusterUnderTest>): void {
  describe(name, () => {
    let cluster: ClusterUnderTest | undefined;
    let c: Clients;
    let ns: string;
    const recorders: WatchRecorder[] = [];

    beforeAll(async () => {
      cluster = await start();
      ns = cluster.namespace;
      c = clientsFor(cluster.kubeconfigYaml);
    });

    afterAll(async () => {
      for (const r of recorders) r.stop();
      await cluster?.stop();
    });

    const path = (): string => collectionPath(OPENSTACK_VERSION, ns);
    const create = (body: Obj): Promise<Obj> => c.custom.createNamespacedCustomObject({ ...GVR, namespace: ns, body });
    const patch = (n: string, body: Obj): Promise<Obj> => c.custom.patchNamespacedCustomObject({ ...GVR, namespace: ns, name: n, body }, asMergePatch);
    const patchStatus = (n: string, body: Obj): Promise<Obj> => c.custom.patchNamespacedCustomObjectStatus({ ...GVR, namespace: ns, name: n, body }, asMergePatch);
    const names = async (q: { labelSelector?: string; fieldSelector?: string }): Promise<string[]> => {
      const list = await c.custom.listNamespacedCustomObject({ ...GVR, namespace: ns, ...q });
      return (list.items as Obj[]).map((o) => String(o.metadata.name)).sort();
    };
    const watch = async (query: Record<string, string | number | boolean>): Promise<WatchRecorder> => {
      const r = await WatchRecorder.start(c.kc, path(), query);
      recorders.push(r);
      return r;
    };

    it('bumps metadata.generation on spec writes, not on status or metadata writes', async () => {
      const created = await create(openStackVersion('conf-generation'));
      expect(created.metadata.generation).toBe(1);
      expect(created.status).toBeUndefined();
      const spec = await patch('conf-generation', { spec: { targetVersion: '18.0.2' } });
      expect(spec.metadata.generation).toBe(2);
      const status = await patchStatus('conf-generation', { status: { observedGeneration: 2, deployedVersion: '18.0.1' } });
      expect(status.metadata.generation).toBe(2);
      expect(status.status.deployedVersion).toBe('18.0.1');
      expect(Number(status.metadata.resourceVersion)).toBeGreaterThan(Number(spec.metadata.resourceVersion));
      const labels = await patch('conf-generation', { metadata: { labels: { touched: 'yes' } } });
      expect(labels.metadata.generation).toBe(2);
      // the main resource ignores status, the status subresource ignores spec
      const mainWithStatus = await patch('conf-generation', { status: { deployedVersion: 'ignored' } });
      expect(mainWithStatus.status.deployedVersion).toBe('18.0.1');
      const statusWithSpec = await patchStatus('conf-generation', { spec: { targetVersion: 'ignored' }, status: { deployedVersion: '18.0.2' } });
      expect(statusWithSpec.spec.targetVersion).toBe('18.0.2');
      expect(statusWithSpec.metadata.generation).toBe(2);
    });

    it('lists built-in kinds without apiVersion/kind on the items, and guards Job terminal conditions', async () => {
      const job = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'conf-job', namespace: ns },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'gate', image: 'registry.invalid/gate:1' }] } } },
      };
      await c.objects.create(job);
      const jobs = { group: 'batch', version: 'v1', namespace: ns, plural: 'jobs' };
      const list = (await c.custom.listNamespacedCustomObject(jobs)) as { items: Obj[] };
      expect(list.items.map((o) => [o['apiVersion'], o['kind'], o.metadata.name])).toEqual([[undefined, undefined, 'conf-job']]);
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const cond = (type: string) => ({ type, status: 'True', reason: 'Done', message: 'done', lastProbeTime: now, lastTransitionTime: now });
      const status = (conditions: Obj[]) => ({ status: { startTime: now, completionTime: now, succeeded: 1, conditions } });
      const refused = await expectApiError(c.custom.patchNamespacedCustomObjectStatus({ ...jobs, name: 'conf-job', body: status([cond('Complete')]) }, asMergePatch), 422, 'Invalid');
      expect(refused.message).toContain('cannot set Complete=True condition without the SuccessCriteriaMet=true condition');
      const done = await c.custom.patchNamespacedCustomObjectStatus({ ...jobs, name: 'conf-job', body: status([cond('SuccessCriteriaMet'), cond('Complete')]) }, asMergePatch);
      expect((done.status.conditions as Obj[]).map((x) => x['type'])).toEqual(['SuccessCriteriaMet', 'Complete']);
    });

    it('answers 409 Conflict to a replace with a stale resourceVersion', async () => {
      const first = await create(openStackVersion('conf-conflict'));
      const second = await patch('conf-conflict', { spec: { targetVersion: '18.0.2' } });
      const stale = { ...first, spec: { targetVersion: '18.0.3' } };
      const body = await expectApiError(c.custom.replaceNamespacedCustomObject({ ...GVR, namespace: ns, name: 'conf-conflict', body: stale }), 409, 'Conflict');
      expect(body.details?.name).toBe('conf-conflict');
      const fresh = await c.custom.replaceNamespacedCustomObject({ ...GVR, namespace: ns, name: 'conf-conflict', body: { ...second, spec: { targetVersion: '18.0.3' } } });
      expect(fresh.spec.targetVersion).toBe('18.0.3');
      expect(fresh.metadata.generation).toBe(3);
    });

    it('filters lists and watches by metadata.name and by labels', async () => {
      await create(openStackVersion('conf-sel-a', { 'osv.test/tier': 'a', 'osv.test/env': 'prod' }));
      await create(openStackVersion('conf-sel-b', { 'osv.test/tier': 'b' }));
      await create(openStackVersion('conf-sel-c', { 'osv.test/tier': 'c', 'osv.test/env': 'dev' }));
      expect(await names({ fieldSelector: 'metadata.name=conf-sel-b' })).toEqual(['conf-sel-b']);
      expect(await names({ labelSelector: 'osv.test/tier in (a,c)' })).toEqual(['conf-sel-a', 'conf-sel-c']);
      expect(await names({ labelSelector: 'osv.test/tier,!osv.test/env' })).toEqual(['conf-sel-b']);
      expect(await names({ labelSelector: 'osv.test/tier!=a,osv.test/env' })).toEqual(['conf-sel-c']);
      expect(await names({ labelSelector: 'osv.test/tier', fieldSelector: 'metadata.name!=conf-sel-a' })).toEqual(['conf-sel-b', 'conf-sel-c']);
      await expectApiError(c.custom.listNamespacedCustomObject({ ...GVR, namespace: ns, fieldSelector: 'spec.targetVersion=18.0.1' }), 400, 'BadRequest');

      const list = await c.custom.listNamespacedCustomObject({ ...GVR, namespace: ns });
      const w = await watch({ resourceVersion: list.metadata.resourceVersion, fieldSelector: 'metadata.name=conf-sel-b' });
      await patch('conf-sel-a', { metadata: { labels: { 'osv.test/step': '1' } } });
      await patch('conf-sel-b', { metadata: { labels: { 'osv.test/step': '1' } } });
      await w.waitForEvents(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(w.summary()).toEqual([['MODIFIED', 'conf-sel-b']]);
    });

    it('turns selector transitions into ADDED and DELETED watch events', async () => {
      await create(openStackVersion('conf-move-in'));
      await create(openStackVersion('conf-move-out', { 'osv.test/watched': 'yes' }));
      const list = await c.custom.listNamespacedCustomObject({ ...GVR, namespace: ns });
      const w = await watch({ resourceVersion: list.metadata.resourceVersion, labelSelector: 'osv.test/watched=yes' });
      await patch('conf-move-in', { metadata: { labels: { 'osv.test/watched': 'yes' } } });
      const out = await patch('conf-move-out', { metadata: { labels: { 'osv.test/watched': null } } });
      await w.waitForEvents(2);
      expect(w.summary()).toEqual([
        ['ADDED', 'conf-move-in'],
        ['DELETED', 'conf-move-out'],
      ]);
      // the DELETED event carries the last matching state at the resourceVersion of the change
      expect(w.events[1]?.object.metadata.resourceVersion).toBe(out.metadata.resourceVersion);
      expect(w.events[1]?.object.metadata.labels).toEqual({ 'osv.test/watched': 'yes' });
    });

    it('keeps a deleted object until its finalizers are removed, and says so on a watch', async () => {
      await create({ ...openStackVersion('conf-finalizer'), metadata: { name: 'conf-finalizer', finalizers: ['osv.test/hold'] } });
      const list = await c.custom.listNamespacedCustomObject({ ...GVR, namespace: ns });
      const w = await watch({ resourceVersion: list.metadata.resourceVersion, fieldSelector: 'metadata.name=conf-finalizer' });
      const marked = await c.custom.deleteNamespacedCustomObject({ ...GVR, namespace: ns, name: 'conf-finalizer' });
      expect(marked.metadata.deletionTimestamp).toBeDefined();
      expect(marked.metadata.generation).toBe(2);
      await patch('conf-finalizer', { metadata: { finalizers: null } });
      await expectApiError(c.custom.getNamespacedCustomObject({ ...GVR, namespace: ns, name: 'conf-finalizer' }), 404, 'NotFound');
      // marking is a MODIFIED; removing the last finalizer deletes at once (no MODIFIED first)
      await w.waitForEvents(2);
      expect(w.summary()).toEqual([
        ['MODIFIED', 'conf-finalizer'],
        ['DELETED', 'conf-finalizer'],
      ]);
      // ... and its object is the last stored state (finalizer still listed) at the deletion's resourceVersion
      expect(w.events[1]?.object.metadata.finalizers).toEqual(['osv.test/hold']);
      expect(Number(w.events[1]?.object.metadata.resourceVersion)).toBeGreaterThan(Number(marked.metadata.resourceVersion));
      const gone = await c.custom.deleteNamespacedCustomObject({ ...GVR, namespace: ns, name: 'no-finalizer-here' }).catch((e: unknown) => e);
      expect((gone as { code?: number }).code).toBe(404);
    });

    it('creates and updates with server-side apply, dropping fields the manager no longer applies', async () => {
      const first = openStackVersion('conf-apply', { 'osv.test/applied': 'yes' });
      first.spec.customContainerImages = { novaAPIImage: 'registry.example/nova:1' };
      const created: Obj = await c.objects.patch(first, undefined, undefined, 'osv-conformance', undefined, k8s.PatchStrategy.ServerSideApply);
      expect(created.metadata.generation).toBe(1);
      const second = openStackVersion('conf-apply');
      delete second.metadata.labels;
      second.spec.targetVersion = '18.0.2';
      const updated: Obj = await c.objects.patch(second, undefined, undefined, 'osv-conformance', undefined, k8s.PatchStrategy.ServerSideApply);
      expect(updated.spec).toEqual({ targetVersion: '18.0.2' });
      expect(updated.metadata.labels).toBeUndefined();
      expect(updated.metadata.generation).toBe(2);
      const rival = openStackVersion('conf-apply');
      delete rival.metadata.labels;
      rival.spec.targetVersion = '18.0.3';
      const conflict = await expectApiError(c.objects.patch(rival, undefined, undefined, 'someone-else', undefined, k8s.PatchStrategy.ServerSideApply), 409, 'Conflict');
      expect(conflict.message).toContain('.spec.targetVersion');
      const forced: Obj = await c.objects.patch(rival, undefined, undefined, 'someone-else', true, k8s.PatchStrategy.ServerSideApply);
      expect(forced.spec.targetVersion).toBe('18.0.3');
    });

    it('sends BOOKMARK events on a list+watch that allows them, then ends at timeoutSeconds', async () => {
      await create(openStackVersion('conf-bookmark'));
      const list = await c.custom.listNamespacedCustomObject({ ...GVR, namespace: ns });
      const w = await watch({ resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 5 });
      const changed = await patch('conf-bookmark', { spec: { targetVersion: '18.0.2' } });
      await w.waitForEnd(12_000);
      const real = w.events.filter((e) => e.type !== 'BOOKMARK');
      expect(real.map((e) => [e.type, e.object.metadata.name])).toEqual([['MODIFIED', 'conf-bookmark']]);
      const bookmarks = w.events.filter((e) => e.type === 'BOOKMARK');
      expect(bookmarks.length).toBeGreaterThanOrEqual(1);
      for (const b of bookmarks) {
        expect(b.object.kind).toBe(OPENSTACK_VERSION.kind);
        expect(Number(b.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(list.metadata.resourceVersion));
      }
      const last = bookmarks[bookmarks.length - 1];
      expect(Number(last?.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(changed.metadata.resourceVersion));
    }, 20_000);

    it('answers a watch from a too-old resourceVersion with 410 Expired', async () => {
      await create(openStackVersion('conf-expired'));
      for (let i = 0; i < 30; i++) await patch('conf-expired', { metadata: { labels: { 'osv.test/i': String(i) } } });
      const w = await watch({ resourceVersion: '1' });
      await w.waitForEnd(10_000);
      const error = w.events.find((e) => e.type === 'ERROR');
      if (error !== undefined) {
        expect(error.object).toMatchObject({ kind: 'Status', status: 'Failure', code: 410, reason: 'Expired' });
        expect(w.events.filter((e) => e.type !== 'ERROR')).toEqual([]);
      } else {
        expect((w.endError as { statusCode?: number } | null)?.statusCode).toBe(410);
      }
    });
  });
}
