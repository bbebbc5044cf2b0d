/**
 * A whole update rehearsed on this machine: the rehearsal API server, the simulated operator and
 * agent as separate controllers, a real Git repository with a bare remote, and osv-gitops itself
 * talking to all of it only through a kubeconfig and Git, exactly as it would to a real cluster.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { watchUpdate, type WatchResult } from '../advance/watch.js';
import { KubeReader } from '../cluster/kube.js';
import type { AgentRef, SnapshotTarget } from '../cluster/read.js';
import { ClusterWatcher } from '../cluster/watcher.js';
import { writeFiles } from '../git/write-tree.js';
import { renderDirectories, type RenderInputs } from '../render/render.js';
import { clusterEvidence, updateStatus, type UpdateStatus } from '../status/update-status.js';
import { startRehearsalApiServer, type RehearsalApiServer } from './apiserver/server.js';
import { startSimulatedAgent, type SimulatedAgent } from './agent/agent.js';
import { KubeClient, type KubeObject } from './agent/kube.js';
import { CORE_TYPES } from '../cluster/resources.js';
import { rehearsalOf, statusOf } from '../agents/index.js';
import type { AgentEngine } from '../agents/types.js';
import { startGateJobRunner } from './jobs.js';
import { startSimulatedOlm } from './olm.js';
import { OsvError } from '../errors.js';
import { approveInstallPlan } from '../olm/cluster.js';
import type { InstallPlanSummary } from '../olm/gate.js';
import { startSimulatedOperator, type SimulatedOperator } from './operator/controller.js';
import { DEFAULT_DURATIONS, type SimulatedDurations } from './operator/types.js';
import { applySeed, seedObjects, type Obj } from './seed.js';

export type Mode = 'commits' | 'directories';

export interface RehearsalOptions {
  readonly update: RenderInputs;
  /** The live OpenStackVersion the update starts from (its status holds the deployed images). */
  readonly openStackVersion: Obj;
  readonly csv?: Obj;
  /** The target's image defaults, as the operator reads them from its CSV. */
  readonly targetDefaults: Readonly<Record<string, string>>;
  readonly engine: AgentEngine;
  readonly mode: Mode;
  readonly durations?: Partial<SimulatedDurations>;
  /** Manifest deadlines (gate Jobs, Flux timeouts) are divided by this. @default rehearsalTimeScale of the step */
  readonly timeScale?: number;
  readonly faults?: {
    readonly failDeployments?: RegExp;
    /** Phase 0: other operators' CSVs OLM bundles into the InstallPlan (which must then not be approved). */
    readonly olmBundleWith?: readonly string[];
  };
  /** Lag between a push and the agent applying it. */
  readonly agentLagMs?: number;
  /** Bounds the whole run: starting the rehearsal cluster, the update and stopping. @default 120 s */
  readonly timeoutMs?: number;
  /** When the run began (epoch ms), for a deadline that also covers reading the inputs. @default now */
  readonly startedAt?: number;
  /** Stops a start under way: checked between its steps, which then stop what already runs. */
  readonly signal?: AbortSignal;
  /** Skip the gates of these phases (as `--skip-gate`). */
  readonly skipGates?: readonly string[];
  readonly log?: (line: string) => void;
  /** Each timeline entry as it happens. */
  readonly onEntry?: (e: TimelineEntry) => void;
}

export interface TimelineEntry {
  /** Milliseconds since the rehearsal started. */
  readonly atMs: number;
  readonly kind: 'commit' | 'gate-passed' | 'gate-failed' | 'waiting' | 'done' | 'timeout';
  readonly phase: string;
  readonly text: string;
  readonly waitedMs?: number;
}

export interface RehearsalResult {
  readonly end: WatchResult['end'];
  readonly exitCode: number;
  readonly timeline: readonly TimelineEntry[];
  readonly status: UpdateStatus | undefined;
  readonly commits: readonly { readonly phase: string; readonly sha: string }[];
  readonly apiRequests: number;
  readonly wallMs: number;
  /** Time to start the rehearsal cluster and load the pre-update state. */
  readonly startMs: number;
  /** When the rehearsal did not complete: what the agent and its Jobs report (failed Jobs, degraded Applications). */
  readonly causes: readonly string[];
}

/**
 * One rehearsal step (an operator sub-step, one deployment service) stands for a minute of a real
 * cluster, so a deadline of the manifests shrinks by the same factor as the work it waits for: a
 * slower --step-ms on a loaded machine gives every gate proportionally more time.
 */
export const REAL_MS_PER_STEP = 60_000;

export function rehearsalTimeScale(stepMs: number): number {
  return REAL_MS_PER_STEP / stepMs;
}

/**
 * The API server a rehearsal runs on: our rehearsal server by default, or any other (the real
 * kube-apiserver tier) that can hand out a kubeconfig. Faults and request counts exist only on ours.
 */
export interface ApiEndpoint {
  kubeconfig(namespace: string): string;
  close(): Promise<void>;
  readonly faults?: RehearsalApiServer['faults'];
  readonly stats?: RehearsalApiServer['stats'];
}

/** The handles of a running rehearsal cluster, for tests that drive the tool themselves. */
export interface RehearsalCluster {
  readonly server: ApiEndpoint;
  readonly kubeconfigYaml: string;
  readonly kubeconfigPath: string;
  readonly repo: { readonly work: string; readonly bare: string; readonly branch: string };
  readonly agentRef: AgentRef;
  readonly operator: SimulatedOperator;
  readonly agent: SimulatedAgent;
  /** Phase 0: the user's Subscription file in `repo.work`, which the agent applies and OLM acts on. */
  readonly subscriptionFile?: string;
  readonly snapshotTarget: SnapshotTarget;
  stop(): Promise<void>;
}

export const CSV_NAMESPACE = 'openstack-operators';
export const COMMITS_PATH = 'openstack-update';
/** Phase 0: where the rehearsal repository holds the user's Subscription. */
export const SUBSCRIPTION_PATH = 'operators/subscription.yaml';

function sealedGit(cwd: string, args: string[]): void {
  execFileSync('git', args, {
    cwd,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'rehearsal', GIT_AUTHOR_EMAIL: 'rehearsal@osv-gitops.invalid', GIT_COMMITTER_NAME: 'rehearsal', GIT_COMMITTER_EMAIL: 'rehearsal@osv-gitops.invalid' },
    stdio: 'ignore',
  });
}

/**
 * The cluster side of a rehearsal without an agent: the pre-update objects written, and the
 * simulated operator running. Tests that bring their own agent (the real Flux controllers) use it.
 */
export async function seedAndStartOperator(kubeconfigYaml: string, opts: RehearsalOptions, csvNamespace: string): Promise<SimulatedOperator> {
  const plan = opts.update.plan;
  // with phase 0 the cluster starts on the previous CSV: OLM installs the target one
  const op = plan.operatorUpgrade;
  const csv = op && opts.csv ? previousCsv(opts.csv, op.fromCsv ?? `${op.csv}-previous`) : opts.csv;
  const log = opts.log ?? (() => {});
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfigYaml);
  await applySeed(
    kc,
    seedObjects({
      namespace: plan.namespace,
      deployedVersion: plan.versions.deployed,
      openStackVersion: opts.openStackVersion,
      controlPlane: opts.update.controlPlane as Obj | undefined,
      nodeSets: (opts.update.nodeSets ?? []) as Obj[],
      csv,
      csvNamespace,
      now: new Date().toISOString(),
    }),
  );
  const versionDefaults = rec(rec(opts.openStackVersion['status'])['containerImageVersionDefaults']);
  return startSimulatedOperator({
    kubeconfigYaml,
    namespace: plan.namespace,
    availableVersion: op ? plan.versions.deployed : plan.versions.available,
    defaults: { ...(versionDefaults as Record<string, Record<string, unknown>>), [plan.versions.target]: opts.targetDefaults },
    ...(opts.durations ? { durations: opts.durations } : {}),
    ...(opts.faults ? { faults: opts.faults } : {}),
    log: (l) => log(`[operator] ${l}`),
  });
}

/** Start the rehearsal cluster in its pre-update state, with Git, the operator and the agent running. */
export async function startRehearsalCluster(opts: RehearsalOptions & { readonly apiServer?: ApiEndpoint }): Promise<RehearsalCluster> {
  const plan = opts.update.plan;
  const log = opts.log ?? (() => {});
  const timeScale = opts.timeScale ?? rehearsalTimeScale(opts.durations?.deploymentService ?? DEFAULT_DURATIONS.deploymentService);
  const op = plan.operatorUpgrade;
  const namespaces = [...new Set([plan.namespace, statusOf(opts.engine).defaultNamespace, CSV_NAMESPACE, ...(op ? [op.operatorNamespace] : [])])];
  const server: ApiEndpoint = opts.apiServer ?? (await startRehearsalApiServer({ namespaces }));
  const checkpoint = () => opts.signal?.throwIfAborted();
  const base = mkdtempSync(join(tmpdir(), 'osv-rehearsal-'));
  // whatever fails while starting (a missing data file, a refused seed) stops what already runs:
  // a listening server or a polling agent would keep the process alive after the error
  const started: { stop(): Promise<void> }[] = [];
  try {
    checkpoint();
    const kubeconfigYaml = server.kubeconfig(plan.namespace);
    const kubeconfigPath = join(base, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml, { mode: 0o600 });

    // the user's GitOps repository: a bare remote the agent fetches, and a work tree the tool commits in
    const bare = join(base, 'gitops.git');
    const work = join(base, 'work');
    const branch = 'main';
    sealedGit(base, ['init', '--quiet', '--bare', `--initial-branch=${branch}`, bare]);
    sealedGit(base, ['init', '--quiet', `--initial-branch=${branch}`, work]);
    // the tool's phase commits take the committer from Git's config: a user without a global identity must still be able to rehearse
    sealedGit(work, ['config', 'user.name', 'osv-gitops rehearsal']);
    sealedGit(work, ['config', 'user.email', 'rehearsal@osv-gitops.invalid']);
    writeFileSync(join(work, 'README.md'), 'GitOps repository of the rehearsal cluster\n');
    // phase 0: the user's Subscription lives beside our folder, and the agent applies both
    const subscriptionFile = op ? join(work, SUBSCRIPTION_PATH) : undefined;
    if (subscriptionFile !== undefined) {
      if (opts.update.subscriptionFile === undefined) throw new OsvError('USAGE', 'the plan starts with phase 0 operator: pass --subscription');
      mkdirSync(join(work, posix.dirname(SUBSCRIPTION_PATH)), { recursive: true });
      writeFileSync(subscriptionFile, readFileSync(opts.update.subscriptionFile, 'utf8'));
      mkdirSync(join(work, COMMITS_PATH));
      writeFileSync(join(work, COMMITS_PATH, 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n');
      writeFileSync(join(work, 'kustomization.yaml'), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${SUBSCRIPTION_PATH}\n  - ${COMMITS_PATH}\n`);
    }
    if (opts.mode === 'directories') {
      writeFiles(work, renderDirectories(opts.update, { engine: opts.engine, repoPath: '.', argo: { repoURL: `file://${bare}` } }));
    }
    sealedGit(work, ['add', '--all']);
    sealedGit(work, ['commit', '--quiet', '-m', opts.mode === 'directories' ? `osv-gitops: update to ${plan.versions.target} (all phases, agent-gated)` : 'initial']);
    sealedGit(work, ['remote', 'add', 'origin', `file://${bare}`]);
    sealedGit(work, ['push', '--quiet', 'origin', branch]);

    checkpoint();
    const operator = await seedAndStartOperator(kubeconfigYaml, opts, CSV_NAMESPACE);
    started.push(operator);
    checkpoint();
    const agentRef: AgentRef = { engine: opts.engine, namespace: statusOf(opts.engine).defaultNamespace, name: 'openstack' };
    const dirPath = posix.join('updates', plan.versions.target, opts.engine);
    const agent = await startSimulatedAgent({
      kubeconfigYaml,
      engine: opts.engine,
      mode: opts.mode,
      repoUrl: `file://${bare}`,
      branch,
      path: opts.mode === 'commits' ? (op ? '.' : COMMITS_PATH) : dirPath,
      agentObject: { namespace: agentRef.namespace, name: agentRef.name },
      namespace: plan.namespace,
      pollMs: 50,
      ...(opts.agentLagMs !== undefined ? { applyDelayMs: opts.agentLagMs } : {}),
      timeScale,
      log,
    });
    started.push(agent);
    checkpoint();
    // the kubelet's part: Argo CD waves wait on our gate Jobs (Flux judges health itself)
    const runsJobs = (await rehearsalOf(opts.engine)).runsGateJobs;
    const jobs = runsJobs ? await startGateJobRunner({ kubeconfigYaml, namespace: plan.namespace, pollMs: 50, timeScale, log }) : undefined;
    if (jobs) started.push(jobs);
    // phase 0 in directories mode: the approval Job (Argo CD and Flux) runs where OLM keeps the InstallPlans
    const approvalJobs = op && opts.mode === 'directories' ? await startGateJobRunner({ kubeconfigYaml, namespace: op.operatorNamespace, pollMs: 50, timeScale, log }) : undefined;
    if (approvalJobs) started.push(approvalJobs);
    checkpoint();
    const olm = op
      ? await startSimulatedOlm({
          kubeconfigYaml,
          namespace: op.operatorNamespace,
          catalog: opts.csv ? [opts.csv] : [],
          ...(opts.faults?.olmBundleWith ? { bundleWith: opts.faults.olmBundleWith } : {}),
          onInstalled: () => operator.setAvailableVersion(plan.versions.available),
          pollMs: 50,
          log,
        })
      : undefined;
    if (olm) started.push(olm);
    checkpoint();
    const snapshotTarget: SnapshotTarget = { namespace: plan.namespace, csvNamespace: op?.operatorNamespace ?? CSV_NAMESPACE, ...(op ? { olmNamespace: op.operatorNamespace } : {}), agent: agentRef };
    let stopped = false;
    return {
      server,
      kubeconfigYaml,
      kubeconfigPath,
      repo: { work, bare, branch },
      agentRef,
      operator,
      agent,
      ...(subscriptionFile !== undefined ? { subscriptionFile } : {}),
      snapshotTarget,
      async stop() {
        if (stopped) return;
        stopped = true;
        await agent.stop();
        await jobs?.stop();
        await approvalJobs?.stop();
        await olm?.stop();
        await operator.stop();
        if (!opts.apiServer) await server.close();
        rmSync(base, { recursive: true, force: true });
      },
    };
  } catch (e) {
    for (const part of started.reverse()) await part.stop().catch(() => {});
    if (!opts.apiServer) await server.close().catch(() => {});
    rmSync(base, { recursive: true, force: true });
    throw e;
  }
}

/** The CSV the operator ran before the update: the target's object under the previous name (a stand-in). */
function previousCsv(target: Obj, name: string): Obj {
  return { ...target, metadata: { ...rec(target['metadata']), name } };
}

function rec(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

/** Turns successive statuses into timeline entries: commits, gates passed, how long each waited. */
class Timeline {
  readonly entries: TimelineEntry[] = [];
  private phase = '';
  private since: number;

  constructor(
    private readonly t0: number,
    private readonly onEntry?: (e: TimelineEntry) => void,
  ) {
    this.since = t0;
  }

  private push(e: TimelineEntry): void {
    this.entries.push(e);
    this.onEntry?.(e);
  }

  timedOut(last: UpdateStatus | undefined, text = `timed out: ${last?.reason ?? ''}`): void {
    this.push({ atMs: Date.now() - this.t0, kind: 'timeout', phase: last?.phase ?? '', text });
  }

  commit(phase: string, sha: string): void {
    this.push({ atMs: Date.now() - this.t0, kind: 'commit', phase, text: `committed ${phase} ${sha.slice(0, 12)} and pushed` });
  }

  observe(s: UpdateStatus): void {
    const now = Date.now();
    if (s.phase !== this.phase) {
      for (const g of s.gates) {
        if (g.verdict !== 'passed' || this.entries.some((e) => e.kind === 'gate-passed' && e.phase === g.id)) continue;
        if (this.phase === '' && g.id !== 'preflight') continue; // gates passed before we started watching
        this.push({ atMs: now - this.t0, kind: 'gate-passed', phase: g.id, text: `gate of ${g.id} passed${g.skipped ? ' (skipped)' : ''}: ${g.reason}`, waitedMs: now - this.since });
        this.since = now;
      }
      this.phase = s.phase;
      if (s.verdict === 'waiting' && s.next.action !== 'commit') this.push({ atMs: now - this.t0, kind: 'waiting', phase: s.phase, text: s.reason });
    }
    if (s.phase === 'complete') this.push({ atMs: now - this.t0, kind: 'done', phase: 'complete', text: s.reason });
    else if (s.verdict === 'failed' && !this.entries.some((e) => e.kind === 'gate-failed')) {
      this.push({ atMs: now - this.t0, kind: 'gate-failed', phase: s.phase, text: s.reason, waitedMs: now - this.since });
    }
  }
}

/** How long a start cut short by the deadline may take to stop what it already started. */
const STOP_GRACE_MS = 10_000;

/**
 * Start the rehearsal cluster, or undefined when `deadline` comes first. A start cut short is
 * aborted at its next step, which stops what already runs (server, operator, agent), so the
 * process can exit; should it not settle within a grace period, it is left to the caller's exit.
 */
async function startWithin(opts: RehearsalOptions & { readonly apiServer?: ApiEndpoint }, deadline: number): Promise<RehearsalCluster | undefined> {
  const abort = new AbortController();
  const relay = () => abort.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', relay, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((res) => (timer = setTimeout(() => res('expired'), Math.max(0, deadline - Date.now()))));
  const starting = startRehearsalCluster({ ...opts, signal: abort.signal });
  try {
    const first = await Promise.race([starting, expired]);
    if (first !== 'expired') return first;
    abort.abort(new Error('the rehearsal deadline passed while starting'));
    let grace: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      starting.then((c) => c.stop().then(() => 'stopped' as const), () => 'stopped' as const),
      new Promise<'late'>((res) => (grace = setTimeout(() => res('late'), STOP_GRACE_MS))),
    ]);
    clearTimeout(grace);
    opts.log?.(settled === 'late' ? 'the rehearsal cluster did not stop within the grace period' : 'stopped what the rehearsal cluster had started before the deadline');
    return undefined;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', relay);
  }
}

/** Run the whole update against a fresh rehearsal cluster (or `apiServer`) and return its timeline. */
export async function rehearse(opts: RehearsalOptions & { readonly apiServer?: ApiEndpoint }): Promise<RehearsalResult> {
  const started = Date.now();
  const deadline = (opts.startedAt ?? started) + (opts.timeoutMs ?? 120_000);
  const cluster = await startWithin(opts, deadline);
  if (!cluster) {
    const timeline = new Timeline(started, opts.onEntry);
    timeline.timedOut(undefined, `timed out while starting the rehearsal cluster (${Date.now() - started} ms)`);
    return { end: 'timeout', exitCode: 3, timeline: timeline.entries, status: undefined, commits: [], apiRequests: 0, wallMs: 0, startMs: Date.now() - started, causes: [] };
  }
  // the timeline starts once the cluster holds the pre-update state
  const t0 = Date.now();
  const timeline = new Timeline(t0, opts.onEntry);
  let watcher: ClusterWatcher | undefined;
  const baseRequests = cluster.server.stats?.requests ?? 0;
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cluster.kubeconfigYaml);
    const reader = new KubeReader(kc, 5_000, { attempts: 5, baseMs: 50, maxMs: 1000 }, opts.log);
    const w = (watcher = new ClusterWatcher(reader, cluster.snapshotTarget, { resyncMs: 2_000, ...(opts.log ? { log: opts.log } : {}) }));
    await w.start();
    let result: WatchResult;
    if (opts.mode === 'commits') {
      const approve = opts.update.plan.operatorUpgrade ? { approveInstallPlan: async (ip: InstallPlanSummary) => void (await approveInstallPlan(kc, ip)) } : {};
      result = await watchUpdate(
        { ...opts.update, ...(cluster.subscriptionFile !== undefined ? { subscriptionFile: cluster.subscriptionFile } : {}) },
        {
          ...approve,
          repo: cluster.repo.work,
          branch: cluster.repo.branch,
          engine: opts.engine,
          remote: 'origin',
          readSnapshot: async () => w.snapshot(),
          nextChange: (ms) => w.changed(ms),
          idleMs: 500,
          timeoutMs: Math.max(0, deadline - Date.now()),
          ...(opts.skipGates ? { skipGates: opts.skipGates } : {}),
          ...(opts.log ? { log: opts.log } : {}),
        },
        {
          onStep: (r) => {
            if (r.decidedBy) timeline.observe(r.decidedBy);
            if (r.committed) timeline.commit(r.committed.phase, r.committed.sha);
            timeline.observe(r.status);
          },
        },
      );
    } else {
      result = await observeAgentGated(opts, w, timeline, deadline);
    }
    if (result.end === 'timeout') timeline.timedOut(result.last);
    const causes = result.end === 'done' ? [] : await stopCauses(cluster, opts).catch((e: unknown) => [`could not read the agent's objects: ${e instanceof Error ? e.message : String(e)}`]);
    return {
      end: result.end,
      exitCode: result.exitCode,
      timeline: timeline.entries,
      status: result.last,
      commits: result.commits,
      apiRequests: (cluster.server.stats?.requests ?? 0) - baseRequests,
      wallMs: Date.now() - t0,
      startMs: t0 - started,
      causes,
    };
  } finally {
    await watcher?.stop();
    await cluster.stop();
  }
}

/** Directories mode: the agent gates the phases; the tool only reads where the update is. */
async function observeAgentGated(opts: RehearsalOptions, watcher: ClusterWatcher, timeline: Timeline, deadline: number): Promise<WatchResult> {
  const plan = opts.update.plan;
  let last: UpdateStatus | undefined;
  let steps = 0;
  for (;;) {
    const snap = watcher.snapshot();
    last = updateStatus(plan, snap, clusterEvidence(plan, snap), 'cluster');
    steps++;
    timeline.observe(last);
    if (last.phase === 'complete') return { end: 'done', exitCode: 0, last, commits: [], steps };
    if (last.verdict === 'failed') return { end: 'failed', exitCode: 1, last, commits: [], steps };
    const left = deadline - Date.now();
    if (left <= 0) return { end: 'timeout', exitCode: 3, last, commits: [], steps };
    await watcher.changed(Math.min(left, 500));
  }
}


const JOB_TYPE = CORE_TYPES.find((t) => t.kind === 'Job')!;

function conditionsOf(o: KubeObject): { type?: string; status?: string; reason?: string; message?: string }[] {
  const c = (o['status'] as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(c) ? (c as { type?: string; status?: string; reason?: string; message?: string }[]) : [];
}

/**
 * Why a rehearsal stopped, as the agent sees it: failed gate Jobs, Argo CD Applications whose sync
 * failed or that are Degraded, Flux Kustomizations not Ready. The update status alone cannot say
 * it in directories mode, where the agent, not the tool, holds the gates.
 */
async function stopCauses(cluster: RehearsalCluster, opts: RehearsalOptions): Promise<string[]> {
  const kube = new KubeClient(cluster.kubeconfigYaml, { attempts: 2 });
  const plan = opts.update.plan;
  const causes: string[] = [];
  // phase 0's approval Job runs in the operator namespace
  const namespaces = [plan.namespace, ...(plan.operatorUpgrade && opts.mode === 'directories' ? [plan.operatorUpgrade.operatorNamespace] : [])];
  for (const ns of namespaces) {
    for (const job of (await kube.list(JOB_TYPE, ns)).items) {
      const failed = conditionsOf(job).find((c) => c.type === 'Failed' && c.status === 'True');
      if (failed) causes.push(`Job ${ns}/${job.metadata.name} failed: ${failed.reason ?? ''}${failed.message ? `: ${failed.message}` : ''}`);
    }
  }
  causes.push(...(await (await rehearsalOf(opts.engine)).stopCauses(kube, cluster.agentRef.namespace)));
  return causes;
}
