/**
 * The real Argo CD in commits mode: the run of agent-run.ts (cluster, seed, simulated operator,
 * a bare repository with a README, Argo CD with the rendered health checks as argocd-cm) and the
 * agent Application `openstack` on the folder advance writes (automated, selfHeal, server-side
 * apply, as the README sets it up). A loop plays the Git webhook: a refresh annotation on every
 * Application after each push.
 */
import { execFileSync } from 'node:child_process';
import type * as k8s from '@kubernetes/client-node';
import type { AdvanceOptions } from '../../src/advance/advance.js';
import { KubeReader } from '../../src/cluster/kube.js';
import type { SnapshotTarget } from '../../src/cluster/read.js';
import { ClusterWatcher } from '../../src/cluster/watcher.js';
import type { RenderedFile } from '../../src/render/render.js';
import { COMMITS_PATH, CSV_NAMESPACE, type RehearsalOptions } from '../../src/simulate/rehearsal.js';
import { startAgentRun, type PlanKind } from './agent-run.js';
import { ARGOCD_NS, createApp, patchRefresh, toSeen, type ArgoCd, type Recorder, type Seen } from './argocd.js';
import type { RealCluster } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface CommitsRunOptions {
  /** @default 'example' */
  readonly caseName?: string;
  readonly faults?: { readonly failDeployments?: RegExp };
  /** The agent Application's `syncPolicy.retry` (Argo CD's default for automated syncs: 5 retries, 5 s doubling). */
  readonly retry?: { readonly limit: number; readonly backoff?: { readonly duration?: string; readonly factor?: number; readonly maxDuration?: string } };
  /** A second repository of the user's (one commit of these files), for their own Applications. */
  readonly otherRepoFiles?: readonly RenderedFile[];
  /** Runs once the cluster is seeded, before Argo CD starts (admission policies, the user's own Applications). */
  readonly beforeArgo?: (run: { readonly kc: k8s.KubeConfig; readonly repoURL: string; readonly otherRepoURL: string }) => Promise<void>;
  /** Watch these kinds in the plan's namespace too (the Applications are always watched). */
  readonly watchKinds?: readonly Extract<PlanKind, 'OpenStackVersion' | 'OpenStackDataPlaneDeployment'>[];
}

export interface CommitsRun {
  readonly cluster: RealCluster;
  readonly kc: k8s.KubeConfig;
  readonly inputs: RehearsalOptions;
  readonly plan: RehearsalOptions['update']['plan'];
  /** The bare repository (the remote) and the user's clone that advance commits in. */
  readonly bare: string;
  readonly repoURL: string;
  readonly work: string;
  /** The agent's Application, in {@link ARGOCD_NS}. */
  readonly app: string;
  readonly recorder: Recorder;
  readonly argo: ArgoCd;
  readonly watcher: ClusterWatcher;
  /** What advance and watch take: the repository, the branch, the remote, and the snapshot read. */
  readonly advance: Pick<AdvanceOptions, 'repo' | 'branch' | 'engine' | 'remote' | 'readSnapshot'>;
  /** ms on the recorder's clock. */
  now(): number;
  stop(): Promise<void>;
}

export async function startArgoCommits(opts: CommitsRunOptions = {}): Promise<CommitsRun> {
  const run = await startAgentRun({
    agent: 'argocd',
    mode: 'commits',
    toSeen,
    ...(opts.caseName ? { caseName: opts.caseName } : {}),
    ...(opts.faults ? { faults: opts.faults } : {}),
    ...(opts.watchKinds ? { watchKinds: opts.watchKinds } : {}),
    ...(opts.otherRepoFiles ? { otherRepoFiles: opts.otherRepoFiles } : {}),
    ...(opts.beforeArgo ? { beforeAgent: opts.beforeArgo } : {}),
  });
  const { kc, plan, recorder, bare, cleanups } = run;
  return cleanups.guard(async () => {
    const app = 'openstack';
    await createApp(kc, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: app, namespace: ARGOCD_NS },
      spec: {
        project: 'default',
        source: { repoURL: run.repoURL, path: COMMITS_PATH, targetRevision: 'main' },
        destination: { server: 'https://kubernetes.default.svc', namespace: plan.namespace },
        syncPolicy: { automated: { prune: false, selfHeal: true }, syncOptions: ['ServerSideApply=true'], ...(opts.retry ? { retry: opts.retry } : {}) },
      },
    });

    // the Git webhook's part: a push makes Argo CD refresh every Application at once
    let lastHead = '';
    let refreshing = true;
    const refresher = (async () => {
      while (refreshing) {
        const head = execFileSync('git', ['--git-dir', bare, 'rev-parse', 'refs/heads/main'], { encoding: 'utf8' }).trim();
        if (head !== lastHead) {
          lastHead = head;
          for (const name of recorder.names('Application')) await patchRefresh(kc, name);
        }
        await sleep(300);
      }
    })();
    cleanups.defer(async () => {
      refreshing = false;
      await refresher;
    });

    const target: SnapshotTarget = { namespace: plan.namespace, csvNamespace: CSV_NAMESPACE, agent: { engine: 'argocd', namespace: ARGOCD_NS, name: app } };
    const reader = new KubeReader(kc, 5_000, { attempts: 5, baseMs: 50, maxMs: 1_000 });
    const watcher = new ClusterWatcher(reader, target, { resyncMs: 2_000 });
    await watcher.start();
    cleanups.defer(() => watcher.stop());
    const argo = run.agent;
    return {
      cluster: run.cluster,
      kc,
      inputs: run.inputs,
      plan,
      bare,
      repoURL: run.repoURL,
      work: run.work,
      app,
      recorder,
      argo,
      watcher,
      advance: {
        repo: run.work,
        branch: 'main',
        engine: 'argocd',
        remote: 'origin',
        readSnapshot: async () => {
          argo.checkAlive();
          return watcher.snapshot();
        },
      },
      now: run.now,
      stop: run.stop,
    };
  });
}

/**
 * The first record `pred` finds, waited for up to `ms` while Argo CD runs: what the recorder has
 * not seen yet may still come. Fails with the Application's last state and Argo CD's log.
 */
export async function recorded(run: CommitsRun, what: string, ms: number, pred: () => Seen | undefined): Promise<Seen> {
  const deadline = Date.now() + ms;
  for (;;) {
    run.argo.checkAlive();
    const s = pred();
    if (s) return s;
    if (Date.now() > deadline) throw new Error(`${what}: not seen after ${ms / 1000}s; Application: ${JSON.stringify(run.recorder.last('Application', run.app))}\n${run.argo.logs(30)}`);
    await sleep(250);
  }
}
