/**
 * Where the update is: every phase with its verdict, the current phase and what happens next.
 * Pure: a plan, a snapshot and where Git stands in; a status out. `status` prints it, `advance`
 * acts on `next`.
 */
import { phaseNumber, phaseTotal } from '../plan/numbering.js';
import { CONTROLPLANE_SUBSTEPS } from '../plan/phases.js';
import type { PhasePlan, UpdatePlan } from '../plan/types.js';
import { agentWarnings } from './agent.js';
import { deploymentState, resolveDeployment, updateStart } from './deployments.js';
import { evaluateGate, type CheckResult, type GitView, type Verdict } from './gates.js';
import { at, condition, findNamed, freshness, isoTime, str, type ClusterSnapshot, type KubeObject } from './snapshot.js';

export type PhaseVerdict = Verdict | 'pending';

export interface PhaseStatus {
  readonly index: number;
  readonly id: string;
  readonly title: string;
  readonly verdict: PhaseVerdict;
  readonly reason: string;
  readonly commit?: string;
  readonly startedAt?: string;
  readonly elapsedSeconds?: number;
  readonly checks?: readonly CheckResult[];
  /** The gate was passed by `--skip-gate`, not by the cluster. */
  readonly skipped?: boolean;
}

export type NextStep =
  | { readonly action: 'commit'; readonly phase: string; readonly index: number }
  | { readonly action: 'wait' }
  | { readonly action: 'stop' }
  | { readonly action: 'done' };

export interface UpdateStatus {
  readonly apiVersion: 'osv-gitops.io/v1alpha1';
  readonly kind: 'UpdateStatus';
  readonly target: string;
  readonly deployed: string;
  readonly plan: string;
  readonly source: string;
  readonly readAt: string;
  /** The first phase whose gate has not passed, or `complete`. */
  readonly phase: string;
  /** i of "phase i of N" (src/plan/numbering.ts): 0 is preflight, `phaseCount` (N) is complete, also once done. */
  readonly phaseNumber: number;
  /** N: the number of the last phase, `complete`. */
  readonly phaseCount: number;
  /** `passed` only when the whole update is done. */
  readonly verdict: Verdict;
  readonly reason: string;
  readonly next: NextStep;
  readonly gates: readonly PhaseStatus[];
  readonly controlPlaneSteps: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
  readonly nodeSets: readonly { readonly name: string; readonly deployedVersion: string; readonly ready: string; readonly observed: boolean }[];
  /** Each planned deployment, or the live ones standing for it (`plannedName` set when found by content). */
  readonly deployments: readonly { readonly name: string; readonly phase: string; readonly state: string; readonly message: string; readonly plannedName?: string }[];
  readonly progressFrom: 'git' | 'cluster';
  readonly skippedGates: readonly string[];
  readonly unread: readonly string[];
  /** Things the reader should know that are not a verdict (a plan id that differs from the trailers', ...). */
  readonly warnings: readonly string[];
}

export interface StatusOptions {
  /** Phase ids whose gate the operator chose to skip (`--skip-gate`). */
  readonly skipGates?: readonly string[];
  /** Gates skipped in earlier runs (commit trailers), shown as such. */
  readonly skippedBefore?: readonly string[];
  readonly warnings?: readonly string[];
}

/**
 * Without a repository, what the cluster shows stands in for the phase commits: the live
 * `spec.targetVersion` for the phase that sets it, the deployments (ours by name, or any that do
 * the phase's work, found by content) for the phases that create them. Nothing counts before the
 * OpenStackVersion carries the target: an unread or unchanged one is no evidence of anything.
 */
export function clusterEvidence(plan: UpdatePlan, snapshot: ClusterSnapshot): GitView {
  const commits: Record<string, { sha: string; date: string }> = {};
  const target = plan.versions.target;
  const operatorStart = operatorPhaseEvidence(plan, snapshot);
  if (operatorStart !== undefined) commits['operator'] = { sha: 'cluster:operator', date: operatorStart };
  const osv = findNamed(snapshot.openStackVersions, plan.openStackVersion);
  if (!osv || str(at(osv, 'spec.targetVersion')) !== target) return { commits, ancestry: {} };
  const since = updateStart(osv, target, undefined);
  for (const p of plan.phases) {
    if (!p.git.changes) continue;
    const made = p.git.deployments.map((d) => resolveDeployment(snapshot, d, p.phase, target, { byContent: true, since }));
    if (made.every((m) => m.standIns.length > 0)) {
      const dates = made.flatMap((m) => m.standIns.map((d) => isoTime(at(d.object, 'metadata.creationTimestamp')) ?? '')).filter(Boolean).sort();
      commits[p.id] = { sha: `cluster:${p.id}`, date: dates[0] ?? '' };
    }
  }
  return { commits, ancestry: {} };
}

/**
 * Phase 0 comes before the OpenStackVersion changes: what shows it applied is OLM acting on the
 * pinned Subscription, an InstallPlan naming the target CSV. The earliest one's creation time, or
 * undefined. (A CSV alone is no evidence: a dump's CSV is often the bundle the plan was made from.)
 */
function operatorPhaseEvidence(plan: UpdatePlan, snapshot: ClusterSnapshot): string | undefined {
  const csv = plan.operatorUpgrade?.csv;
  if (csv === undefined || !plan.phases.some((p) => p.id === 'operator')) return undefined;
  const plans = (snapshot.installPlans ?? []).filter((ip) => {
    const names = at(ip, 'spec.clusterServiceVersionNames');
    return Array.isArray(names) && names.includes(csv);
  });
  if (plans.length === 0) return undefined;
  return plans.map((o) => isoTime(at(o, 'metadata.creationTimestamp')) ?? '').filter(Boolean).sort()[0] ?? '';
}

function phaseStart(plan: UpdatePlan, phase: PhasePlan, git: GitView): string | undefined {
  // a phase starts with its own commit, or (no commit of its own) with the latest commit before it
  for (let i = phase.index; i >= 0; i--) {
    const c = git.commits[plan.phases[i]!.id];
    if (c?.date) return c.date;
  }
  return undefined;
}

export function updateStatus(plan: UpdatePlan, snapshot: ClusterSnapshot, git: GitView, progressFrom: 'git' | 'cluster', opts: StatusOptions = {}): UpdateStatus {
  const target = plan.versions.target;
  const gates: PhaseStatus[] = [];
  const skipped: string[] = [];
  let current: { phase: PhasePlan; verdict: Verdict; reason: string } | undefined;
  let next: NextStep = { action: 'done' };
  const committedIndexes = plan.phases.filter((p) => git.commits[p.id]).map((p) => p.index);
  const lastCommitted = committedIndexes.length ? Math.max(...committedIndexes) : -1;
  const now = Date.parse(snapshot.readAt);
  const fromCluster = progressFrom === 'cluster';
  const liveOsv = findNamed(snapshot.openStackVersions, plan.openStackVersion);
  const targetPhase = plan.phases.find((p) => p.git.setsTargetVersion);
  const targetCommit = targetPhase ? git.commits[targetPhase.id] : undefined;
  const since = updateStart(liveOsv, target, targetCommit && !targetCommit.sha.startsWith('cluster:') ? targetCommit.date : undefined);
  const farthest = plan.phases[lastCommitted]?.id;

  for (const phase of plan.phases) {
    const commit = git.commits[phase.id];
    const startedAt = phaseStart(plan, phase, git);
    const timing = startedAt ? { startedAt, elapsedSeconds: Math.max(0, Math.round((now - Date.parse(startedAt)) / 1000)) } : {};
    const base = { index: phase.index, id: phase.id, title: phase.title, ...(commit ? { commit: commit.sha } : {}) };
    if (current) {
      gates.push({ ...base, verdict: 'pending', reason: `after ${current.phase.id}` });
      continue;
    }
    if (phase.index < lastCommitted && fromCluster && phase.phase !== 'preflight') {
      // a later phase's deployments exist, but only the operator's own conditions say it got past
      // this one: a failed gate or an OpenStackVersion condition not True yet keeps the update here
      // (a deployment run too early proves nothing); a deployment deleted after success does not
      const v = evaluateGate({ snapshot, git, target, phase, since }, startedAt);
      const operatorNotDone = v.checks.some((c) => c.check.kind === 'condition' && c.check.object.kind === 'OpenStackVersion' && c.state !== 'pass');
      if (v.verdict === 'failed' || operatorNotDone) {
        gates.push({ ...base, ...timing, verdict: v.verdict, reason: v.reason, checks: v.checks });
        current = { phase, verdict: v.verdict, reason: v.reason };
        next = v.verdict === 'failed' ? { action: 'stop' } : { action: 'wait' };
        continue;
      }
      gates.push({ ...base, ...timing, verdict: 'passed', reason: v.verdict === 'passed' ? v.reason : `the cluster shows ${farthest} under way; this gate now reads: ${v.reason}`, checks: v.checks });
      continue;
    }
    if (phase.index < lastCommitted) {
      // the tool commits a phase only once the gates before it passed (or were skipped, recorded in a trailer)
      const wasSkipped = opts.skippedBefore?.includes(phase.id) ?? false;
      gates.push({ ...base, verdict: 'passed', reason: wasSkipped ? 'gate skipped by the operator (commit trailer)' : 'a later phase is committed', ...(wasSkipped ? { skipped: true } : {}) });
      continue;
    }
    if (phase.git.changes && !commit) {
      gates.push({ ...base, verdict: 'pending', reason: fromCluster ? `ready: the gates before it passed; nothing in ${snapshot.source} does this phase yet` : 'ready: the gates before it passed; advance commits it' });
      current = { phase, verdict: 'waiting', reason: fromCluster ? `phase ${phase.id} is ready to start (${phase.git.summary})` : `phase ${phase.id} is ready to be committed` };
      next = { action: 'commit', phase: phase.id, index: phase.index };
      continue;
    }
    const v = evaluateGate({ snapshot, git, target, phase, since }, startedAt);
    if (v.verdict !== 'passed' && opts.skipGates?.includes(phase.id)) {
      skipped.push(phase.id);
      gates.push({ ...base, ...timing, verdict: 'passed', reason: `skipped by --skip-gate (was ${v.verdict}: ${v.reason})`, checks: v.checks, skipped: true });
      continue;
    }
    gates.push({ ...base, ...timing, verdict: v.verdict, reason: v.reason, checks: v.checks });
    if (v.verdict !== 'passed') {
      current = { phase, verdict: v.verdict, reason: v.reason };
      next = v.verdict === 'failed' ? { action: 'stop' } : { action: 'wait' };
    }
  }

  const osv = liveOsv;
  const trusted = osv !== undefined && str(at(osv, 'spec.targetVersion')) === target && freshness(osv).fresh;
  const stepTypes = ['MinorUpdateOVNControlplane', 'MinorUpdateOVNDataplane', ...CONTROLPLANE_SUBSTEPS, 'MinorUpdateControlplane', 'MinorUpdateDataplane', 'Ready'];
  const controlPlaneSteps = trusted
    ? stepTypes.map((type) => {
        const c = condition(osv, type);
        return { type, status: c?.status ?? 'missing', ...(c?.reason ? { reason: c.reason } : {}), ...(c?.message ? { message: c.message } : {}) };
      })
    : [];
  const deployments = plan.phases.flatMap((p) =>
    p.git.deployments.flatMap((d) => {
      const c = git.commits[p.id];
      const found = resolveDeployment(snapshot, d, p.phase, target, { byContent: c === undefined || c.sha.startsWith('cluster:'), since });
      if (!found.standIns.length) return [{ name: d.name, phase: p.id, state: 'not created', message: '' }];
      return found.standIns.map((live) => ({ name: live.name, phase: p.id, state: deploymentState(live.object), message: deploymentMessage(live.object), ...(live.byContent ? { plannedName: d.name } : {}) }));
    }),
  );
  const nodeSets = plan.nodeSets.map((n) => {
    const live = findNamed(snapshot.nodeSets, n.name);
    return {
      name: n.name,
      deployedVersion: str(at(live, 'status.deployedVersion')) ?? '',
      ready: live ? (condition(live, 'Ready')?.status ?? 'missing') : 'not found',
      observed: live ? freshness(live).fresh : false,
    };
  });
  const last = plan.phases[plan.phases.length - 1]!;
  return {
    apiVersion: 'osv-gitops.io/v1alpha1',
    kind: 'UpdateStatus',
    target,
    deployed: plan.versions.deployed,
    plan: plan.id,
    source: snapshot.source,
    readAt: snapshot.readAt,
    phase: current ? current.phase.id : 'complete',
    phaseNumber: phaseNumber(current ? current.phase : last),
    phaseCount: phaseTotal(plan),
    verdict: current ? current.verdict : 'passed',
    reason: current ? current.reason : `update to ${target} complete`,
    next,
    gates,
    controlPlaneSteps,
    nodeSets,
    deployments,
    progressFrom,
    skippedGates: skipped,
    unread: snapshot.unread,
    warnings: [...(opts.warnings ?? []), ...agentWarnings(snapshot.agent)],
  };
}

function deploymentMessage(d: KubeObject): string {
  return (condition(d, 'DeploymentReady') ?? condition(d, 'Ready'))?.message ?? '';
}
