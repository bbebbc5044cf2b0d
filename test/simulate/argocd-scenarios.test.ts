/**
 * The real-Argo-CD scenarios of test/e2e-real/argocd-scenarios.test.ts on the simulated Argo CD
 * (the agent `simulate` runs): the same steps of `advance` must give the same phase-by-phase
 * outcome. Where real Argo CD v3.2.11 showed what it writes, the Application status is checked
 * field by field here too (automated sync off: OutOfSync at our commit, the last sync the old one;
 * a refused apply: retried, Running with the cause between attempts, then Failed; the user's own
 * Application tracking the OpenStackVersion: the same tracking id, and advance's refusal). The crash
 * scenario needs nothing of the agent beyond what test/e2e/scenarios.ts covers.
 */
import * as k8s from '@kubernetes/client-node';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { advanceOnce, type AdvanceResult } from '../../src/advance/advance.js';
import { startRehearsalCluster, type RehearsalCluster, type RehearsalOptions } from '../../src/simulate/rehearsal.js';
import { gitPhases, phaseTrailers } from '../e2e/scenarios.js';
import { newRepo, sealGitEnv, sh } from '../helpers/git-repo.js';
import { clusterReader, rehearsalInputs } from '../helpers/rehearsal.js';

// measured 37-106 s for the longest case (load average 10 on 2 cores): room, not a race
const LONG = 300_000;
const APP = { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications', namespace: 'argocd', name: 'openstack' } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface AppStatus {
  readonly sync?: { readonly status?: string; readonly revision?: string };
  readonly operationState?: { readonly phase?: string; readonly message?: string; readonly syncResult?: { readonly revision?: string } };
}

async function withCluster<T>(opts: RehearsalOptions, body: (c: RehearsalCluster, api: k8s.CustomObjectsApi) => Promise<T>): Promise<T> {
  const cluster = await startRehearsalCluster(opts);
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cluster.kubeconfigYaml);
    return await body(cluster, kc.makeApiClient(k8s.CustomObjectsApi));
  } finally {
    await cluster.stop();
  }
}

async function appStatus(api: k8s.CustomObjectsApi): Promise<AppStatus> {
  const app = (await api.getNamespacedCustomObject(APP)) as { status?: AppStatus };
  return app.status ?? {};
}

const patchApp = (api: k8s.CustomObjectsApi, body: object) => api.patchNamespacedCustomObject({ ...APP, body }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));

/** Step advance until `until` holds (or fail after `ms`). */
async function stepUntil(step: () => Promise<AdvanceResult>, what: string, until: (r: AdvanceResult) => boolean, ms = 60_000): Promise<AdvanceResult> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await step();
    if (until(r)) return r;
    if (r.outcome === 'failed' || r.outcome === 'done' || Date.now() > deadline) throw new Error(`${what}: advance ${r.outcome} at ${r.status.phase}: ${r.status.reason}`);
    await sleep(100);
  }
}

async function statusUntil(api: k8s.CustomObjectsApi, what: string, pred: (s: AppStatus) => boolean, ms = 30_000): Promise<AppStatus> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await appStatus(api);
    if (pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`${what}: Application status ${JSON.stringify(s)}`);
    await sleep(50);
  }
}

describe('simulated Argo CD on the real-Argo-CD scenarios (commits mode)', () => {
  beforeAll(sealGitEnv);

  it('automated sync off: OutOfSync at our commit with the old sync kept, advance waits; back on, it moves on', async () => {
    const opts = rehearsalInputs('example', 'argocd', 'commits');
    await withCluster(opts, async (cluster, api) => {
      const read = clusterReader(cluster);
      const step = () => advanceOnce(opts.update, { repo: cluster.repo.work, engine: 'argocd', remote: 'origin', readSnapshot: read });
      const first = (await stepUntil(step, 'first commit', (r) => r.committed !== undefined)).committed!;
      await statusUntil(api, `synced ${first.phase}`, (s) => s.operationState?.phase === 'Succeeded' && s.operationState.syncResult?.revision === first.sha);
      await patchApp(api, { spec: { syncPolicy: { automated: null } } });
      const second = (await stepUntil(step, 'second commit', (r) => r.committed !== undefined)).committed!;
      // what real Argo CD v3.2.11 writes: compared with our commit, OutOfSync, the last sync the old commit
      const behind = await statusUntil(api, `compared ${second.phase}`, (s) => s.sync?.revision === second.sha);
      expect(behind.sync?.status).toBe('OutOfSync');
      expect(behind.operationState?.phase).toBe('Succeeded');
      expect(behind.operationState?.syncResult?.revision).toBe(first.sha);
      let r: AdvanceResult | undefined;
      for (let i = 0; i < 20; i++) {
        r = await step();
        expect(r.outcome, r.status.reason).toBe('waiting');
        await sleep(50);
      }
      const agentCheck = r!.status.gates.find((g) => g.id === second.phase)?.checks?.find((c) => c.check.kind === 'agent-applied');
      expect(agentCheck?.state).toBe('wait');
      expect(agentCheck?.detail).toMatch(new RegExp(`at ${first.sha.slice(0, 12)} does not contain yet ${second.sha.slice(0, 12)}`));
      expect(phaseTrailers(cluster.repo.bare, 'main')).toEqual(gitPhases(opts.update.plan).slice(0, 2));

      await patchApp(api, { spec: { syncPolicy: { automated: { prune: false, selfHeal: true } } } });
      await statusUntil(api, `synced ${second.phase}`, (x) => x.operationState?.phase === 'Succeeded' && x.operationState.syncResult?.revision === second.sha && x.sync?.status === 'Synced');
      const moved = await stepUntil(
        step,
        'the agent check passing',
        (x) => x.committed !== undefined || x.status.gates.find((g) => g.id === second.phase)?.checks?.find((c) => c.check.kind === 'agent-applied')?.state === 'pass',
      );
      expect(moved.outcome).not.toBe('failed');
    });
  }, LONG);

  it('a phase the API server refuses: Argo CD retries with the cause, advance waits with it, then stops once the sync failed', async () => {
    const opts = rehearsalInputs('example', 'argocd', 'commits');
    await withCluster(opts, async (cluster, api) => {
      // as the real test: two retries, 2 s doubling (the default, 5 retries, takes over 5 minutes)
      // (the agent creates its Application once it has started)
      const retry = { spec: { syncPolicy: { retry: { limit: 2, backoff: { duration: '2s', factor: 2, maxDuration: '10s' } } } } };
      for (let i = 0; ; i++) {
        const ok = await patchApp(api, retry).then(
          () => true,
          (e: unknown) => (i < 200 && e instanceof k8s.ApiException && e.code === 404 ? false : Promise.reject(e)),
        );
        if (ok) break;
        await sleep(50);
      }
      // every write of a data-plane deployment is refused (the real test uses an admission policy)
      cluster.server.faults!.failNext(1_000_000, 500, (method, path) => method !== 'GET' && path.includes('/openstackdataplanedeployments'));
      const read = clusterReader(cluster);
      const commits: string[] = [];
      const reasons: string[] = [];
      const step = async () => {
        const r = await advanceOnce(opts.update, { repo: cluster.repo.work, engine: 'argocd', remote: 'origin', readSnapshot: read });
        if (r.committed) commits.push(r.committed.phase);
        reasons.push(r.status.reason);
        return r;
      };
      const failed = await stepUntil(step, 'the refused phase', (r) => r.outcome === 'failed', 90_000);
      const s = await appStatus(api);
      expect(s.operationState?.phase).toBe('Failed');
      expect(s.operationState?.message).toMatch(/failed to apply.*\(retried 2 times\)\.$/);
      expect(reasons.some((r) => /Argo CD retries: .*failed to apply.*Retrying attempt #1/.test(r)), reasons.join('\n')).toBe(true);
      expect(failed.status.phase).toBe(commits.at(-1));
      expect(failed.status.reason).toContain('Application argocd/openstack: sync Failed: ');
      expect(failed.status.reason).toMatch(/HTTP 500/);
      const again = await step();
      expect(again.outcome).toBe('failed');
      expect(phaseTrailers(cluster.repo.bare, 'main')).toEqual(gitPhases(opts.update.plan).slice(0, commits.length));
    });
  }, LONG);

  it('the user’s own Application applies the OpenStackVersion: tracked as real Argo CD v3.2 tracks it, advance refuses SECOND_OWNER and leaves the repository alone', async () => {
    const opts = rehearsalInputs('example', 'argocd', 'commits');
    const plan = opts.update.plan;
    const user = 'user-openstack';
    // the user's repository of its own (in ours, advance refuses earlier: assertSingleOwner)
    const userRepo = newRepo();
    try {
      const userOsv = { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', metadata: { name: plan.openStackVersion, namespace: plan.namespace }, spec: { targetVersion: plan.versions.deployed } };
      mkdirSync(join(userRepo.work, 'cluster'));
      writeFileSync(join(userRepo.work, 'cluster', 'openstackversion.yaml'), stringify(userOsv));
      writeFileSync(join(userRepo.work, 'cluster', 'kustomization.yaml'), stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['openstackversion.yaml'] }));
      sh(userRepo.work, 'add', 'cluster');
      sh(userRepo.work, 'commit', '--quiet', '-m', 'the OpenStackVersion');
      sh(userRepo.work, 'push', '--quiet', 'origin', 'main');
      await withCluster(opts, async (cluster, api) => {
        await api.createNamespacedCustomObject({
          ...APP,
          body: {
            apiVersion: 'argoproj.io/v1alpha1',
            kind: 'Application',
            metadata: { name: user, namespace: APP.namespace },
            spec: {
              project: 'default',
              source: { repoURL: `file://${userRepo.bare}`, path: 'cluster', targetRevision: 'main' },
              destination: { server: 'https://kubernetes.default.svc', namespace: plan.namespace },
              syncPolicy: { automated: { prune: false, selfHeal: true } },
            },
          },
        });
        const core = new k8s.KubeConfig();
        core.loadFromString(cluster.kubeconfigYaml);
        const objects = core.makeApiClient(k8s.CustomObjectsApi);
        const osvRef = { group: 'core.openstack.org', version: 'v1beta1', namespace: plan.namespace, plural: 'openstackversions', name: plan.openStackVersion };
        const liveOsv = async () => (await objects.getNamespacedCustomObject(osvRef)) as { metadata: { annotations?: Record<string, string>; labels?: Record<string, string> }; spec: { targetVersion?: string } };
        // the user's Application syncs first (as in the real test, before the update starts)
        const deadline = Date.now() + 30_000;
        const userStatus = async () => ((await api.getNamespacedCustomObject({ ...APP, name: user })) as { status?: AppStatus }).status ?? {};
        while ((await userStatus()).operationState?.phase !== 'Succeeded') {
          if (Date.now() > deadline) throw new Error(`the user Application did not sync: ${JSON.stringify(await userStatus())}`);
          await sleep(50);
        }
        // what real Argo CD v3.2.11 writes on the object (annotation tracking, the default since 3.0): no instance label
        let osv = await liveOsv();
        expect(osv.metadata.annotations?.['argocd.argoproj.io/tracking-id']).toBe(`${user}:core.openstack.org/OpenStackVersion:${plan.namespace}/${plan.openStackVersion}`);
        expect(osv.metadata.labels?.['app.kubernetes.io/instance']).toBeUndefined();

        const tipBefore = sh(cluster.repo.bare, 'rev-parse', 'main');
        const read = clusterReader(cluster);
        await expect(advanceOnce(opts.update, { repo: cluster.repo.work, engine: 'argocd', remote: 'origin', readSnapshot: read })).rejects.toMatchObject({
          code: 'SECOND_OWNER',
          message: expect.stringContaining(`Application ${user}`),
        });
        expect(sh(cluster.repo.bare, 'rev-parse', 'main')).toBe(tipBefore);
        expect(sh(cluster.repo.work, 'rev-parse', 'HEAD')).toBe(tipBefore);
        expect(sh(cluster.repo.work, 'status', '--porcelain')).toBe('');
        expect(phaseTrailers(cluster.repo.bare, 'main')).toEqual([]);
        // the user's object left alone: the old version, still the user Application's
        await sleep(500);
        osv = await liveOsv();
        expect(osv.spec.targetVersion).toBe(plan.versions.deployed);
        expect(osv.metadata.annotations?.['argocd.argoproj.io/tracking-id']?.split(':')[0]).toBe(user);
      });
    } finally {
      rmSync(userRepo.base, { recursive: true, force: true });
    }
  }, LONG);
});
