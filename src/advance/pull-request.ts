/**
 * One step of the pull-request flow (`advance --pull-request`): like `advanceOnce`, but the next
 * phase reaches the branch the agent follows through a pull request a person merges.
 *
 * - Where the update is comes from the base branch as the remote has it, by trailers: a merge
 *   commit, a squash commit (the pull request's body ends with the phase's trailers) and rebased
 *   commits all carry them, with new SHAs.
 * - When the gate before the next phase has passed, its commit is built on the base's tip (objects
 *   only: the user's checkout, index and branches are never touched), pushed to the phase's own
 *   branch `osv-update/<target>/<NN-phase>` (forced with a lease: that branch is ours alone), and
 *   its pull request opened or brought up to date. Then the step waits (exit 3) for the merge.
 * - A pull request closed without merge stops the update (exit 1).
 * - Each gate's verdict is posted as a commit status on the phase commit on the base.
 *
 * No local state: every step reads the remote and the forge afresh, so a crash anywhere (after the
 * push, before the pull request) is finished by the next step, and a phase never gets a second
 * pull request while one is open.
 */
import { OsvError } from '../errors.js';
import type { Forge, PullRequest, PullRequestState } from '../forge/types.js';
import { layoutFor } from '../git/commit-phases.js';
import { pullRequestText } from '../git/branch-per-phase.js';
import { git, tryGit } from '../git/git.js';
import { buildCommits, dropStaging, identity, push, runVetoHooks, vetoHooks, assertRemote } from '../git/land.js';
import { assertSingleOwner } from '../git/owners.js';
import { fetchRemote, readGitProgress, TRAILER_SKIPPED_GATE, type GitProgress } from '../git/progress.js';
import { TRAILER_PHASE, TRAILER_TARGET } from '../git/trailers.js';
import { phaseLabel, phaseSlug } from '../plan/numbering.js';
import type { PhasePlan, UpdatePlan } from '../plan/types.js';
import { commitMessage } from '../render/commit-message.js';
import type { RenderInputs } from '../render/render.js';
import { agentRevision } from '../status/agent.js';
import { updateStatus, type UpdateStatus } from '../status/update-status.js';
import { assertNoSecretsInFiles } from '../validate/secrets.js';
import { approvePhase0InstallPlan, assertOneLiveOwner, installPlanPassedOn, TRAILER_APPROVED_INSTALL_PLAN, type AdvanceOptions, type AdvanceOutcome, type AdvanceResult } from './advance.js';

export interface PullRequestStepOptions extends Omit<AdvanceOptions, 'remote' | 'pushAttempts' | 'afterCommit' | 'branch'> {
  /** The branch the agent follows and the pull requests go into. @default the checked-out branch */
  readonly base?: string;
  readonly remote: string;
  readonly forge: Forge;
  /** Run the repository's pre-commit and commit-msg hooks on the phase commit. @default true */
  readonly verify?: boolean;
  /** Test seam for crash tests: runs after the push and before the pull request is opened. */
  readonly afterPush?: () => Promise<void>;
}

export interface PullRequestInfo {
  readonly number: number;
  readonly url: string;
  readonly state: PullRequestState;
  readonly branch: string;
  readonly phase: string;
  /** What this step did to it. */
  readonly action: 'opened' | 'updated' | 'unchanged' | 'merged' | 'closed';
}

export interface PullRequestStepResult extends AdvanceResult {
  readonly pullRequest?: PullRequestInfo;
  /** Commit statuses that could not be posted (reported; they never change the outcome). */
  readonly statusErrors: readonly string[];
}

/** `osv-update/<target>/<NN-phase-id>`: the one branch of a phase's pull request. */
export function pullRequestBranch(target: string, phase: Pick<PhasePlan, 'index' | 'id'>): string {
  return `osv-update/${target}/${phaseSlug(phase)}`;
}

/** A GitHub commit status context names one gate, so a later verdict replaces the earlier one. */
export function statusContext(phaseId: string): string {
  return `osv-gitops/${phaseId}`;
}

/** The trailer paragraph of the phase commit's message: the pull request's body ends with it. */
function trailerBlock(message: string): string {
  return message.trimEnd().split('\n\n').at(-1)!;
}

/** The pull request's title and body: the phase's description, how to stop, and the trailers last. */
export function pullRequestContent(plan: UpdatePlan, phase: PhasePlan, base: string, merged: ReadonlySet<string>, message: string): { title: string; body: string } {
  const chain = plan.phases.filter((p) => p.git.changes).map((p) => ({ phase: p, branch: pullRequestBranch(plan.versions.target, p), merged: merged.has(p.id) }));
  const text = pullRequestText(plan, phase, chain, base, base, true);
  const stop =
    '## How to stop\n' +
    `Close this pull request without merging: osv-gitops stops the update there (exit 1) and opens no further pull request. ` +
    `Nothing of this phase reaches the cluster before it is merged into \`${base}\`. Reopen it to go on.\n\n` +
    'Merge it as you like (merge commit, squash or rebase). With squash, keep this description as the commit message: ' +
    'the trailers below are how osv-gitops finds the phase on the branch.';
  return {
    title: `${phaseLabel(plan, phase)}: ${phase.id} (${plan.versions.deployed} -> ${plan.versions.target})`,
    body: `${text.body.trimEnd()}\n\n${stop}\n\n${trailerBlock(message)}\n`,
  };
}

async function currentBranch(repo: string): Promise<string> {
  const current = (await tryGit(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']))?.trim() ?? '';
  if (!current) throw new OsvError('GIT_FAILED', 'HEAD is detached; pass --branch (the branch the agent follows)');
  return current;
}

/** A commit's tree, parents and message: two builds of the same phase on the same tip compare equal. */
async function commitShape(repo: string, sha: string): Promise<string> {
  return (await git(repo, ['show', '-s', '--format=%T%n%P%n%B', sha])).trimEnd();
}

/** The remote's tip of a branch, without fetching it; undefined when the branch is not there. */
async function remoteTip(repo: string, remote: string, branch: string): Promise<string | undefined> {
  const out = (await git(repo, ['ls-remote', '--heads', remote, `refs/heads/${branch}`])).trim();
  return out ? out.split(/\s+/)[0] : undefined;
}

const STATE: Record<string, 'success' | 'failure' | 'pending'> = { passed: 'success', failed: 'failure' };

/** The shortest limit of the forges (GitHub: 140 characters); cut here so every forge stores the same text. */
const DESCRIPTION_MAX = 140;

interface GateStatus {
  readonly sha: string;
  readonly context: string;
  readonly state: 'success' | 'failure' | 'pending';
  readonly description: string;
}

/**
 * The gate verdicts to post: the gates the newest phase commit on the base hosts (its own, and
 * those of the phases after it that change nothing in Git), up to the current one.
 */
function gateStatuses(plan: UpdatePlan, status: UpdateStatus, progress: GitProgress): GateStatus[] {
  const host = plan.phases.filter((p) => progress.view.commits[p.id]).at(-1);
  if (!host) return [];
  const sha = progress.view.commits[host.id]!.sha;
  const out: GateStatus[] = [];
  for (const g of status.gates) {
    const phase = plan.phases[g.index]!;
    if (g.index < host.index) continue;
    // the next phase's own gate lives on its own commit; later gates have not started
    if ((g.index > host.index && phase.git.changes) || (g.verdict === 'pending' && g.id !== status.phase)) break;
    const description = `${phaseLabel(plan, phase)} ${g.id}: ${g.reason}`;
    out.push({ sha, context: statusContext(g.id), state: STATE[g.verdict] ?? 'pending', description: description.length > DESCRIPTION_MAX ? `${description.slice(0, DESCRIPTION_MAX - 1)}…` : description });
    if (g.id === status.phase) break;
  }
  return out;
}

/** Post what changed since the last post; a failure is reported, never fatal (see README). */
async function postGateStatuses(forge: Forge, wanted: readonly GateStatus[], log: (l: string) => void): Promise<string[]> {
  const errors: string[] = [];
  const bySha = new Map<string, GateStatus[]>();
  for (const w of wanted) bySha.set(w.sha, [...(bySha.get(w.sha) ?? []), w]);
  for (const [sha, list] of bySha) {
    try {
      const existing = await forge.listCommitStatuses(sha);
      for (const w of list) {
        // the forge lists newest first: the first of a context is its current verdict
        const now = existing.find((s) => s.context === w.context);
        if (now && now.state === w.state && now.description === w.description) continue;
        await forge.setCommitStatus(w);
      }
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      errors.push(text);
      log(`could not post the gate status on ${sha.slice(0, 12)} (the update goes on; the next step posts it again): ${text}`);
    }
  }
  return errors;
}

export async function pullRequestStep(inputs: RenderInputs, opts: PullRequestStepOptions): Promise<PullRequestStepResult> {
  const log = opts.log ?? (() => {});
  const plan = inputs.plan;
  const target = plan.versions.target;
  const repo = opts.repo;
  if ((await tryGit(repo, ['rev-parse', '--git-dir'])) === undefined) throw new OsvError('GIT_FAILED', `${repo} is not a Git repository`);
  await assertRemote(repo, opts.remote);
  const base = opts.base ?? (await currentBranch(repo));
  const baseRef = `refs/remotes/${opts.remote}/${base}`;
  let approved: AdvanceResult['approvedInstallPlan'];

  // a merge seen on the forge but not yet in our fetch of the base is read once more
  for (let round = 1; ; round++) {
    const baseTip = await fetchRemote(repo, opts.remote, base);
    if (!baseTip) throw new OsvError('GIT_FAILED', `${opts.remote} has no branch ${base}`, { hint: 'The pull requests go into the branch the agent follows: push it first, or pass --branch.' });
    const snapshot = await opts.readSnapshot();
    const agentSha = snapshot.agent ? agentRevision(snapshot.agent)?.sha : undefined;
    const progress = await readGitProgress(repo, target, baseRef, agentSha);
    const status = updateStatus(plan, snapshot, progress.view, 'git', { skipGates: opts.skipGates ?? [], skippedBefore: progress.skippedGates });
    // phase 0's pull request merged and applied: its InstallPlan is approved here, as advance does
    if (!approved && opts.approveInstallPlan) {
      approved = await approvePhase0InstallPlan(plan, snapshot, status, opts.approveInstallPlan, log);
      if (approved) {
        round--; // not a merge round: read the cluster again, the gate moves on
        continue;
      }
    }
    const statusErrors = await postGateStatuses(opts.forge, gateStatuses(plan, status, progress), log);
    const next = status.next;
    const common = { pushed: 0, branch: base, statusErrors, ...(approved ? { approvedInstallPlan: approved } : {}) };
    if (next.action !== 'commit') {
      const outcome: AdvanceOutcome = next.action === 'done' ? 'done' : next.action === 'stop' ? 'failed' : 'waiting';
      return { outcome, exitCode: outcome === 'done' ? 0 : outcome === 'failed' ? 1 : 3, status, ...common };
    }

    assertOneLiveOwner(plan, snapshot, Object.keys(progress.view.commits).length);
    const phase = plan.phases[next.index]!;
    const branch = pullRequestBranch(target, phase);
    const existing = await opts.forge.findPullRequest(branch, base);
    const info = (pr: PullRequest, action: PullRequestInfo['action']): PullRequestInfo => ({ number: pr.number, url: pr.url, state: pr.state, branch, phase: phase.id, action });
    const waitingOn = (reason: string, verdict: 'waiting' | 'failed'): UpdateStatus => ({ ...status, verdict, reason });
    if (existing?.state === 'merged') {
      if (round < 2) continue;
      const reason = `pull request #${existing.number} of ${phase.id} was merged, but no commit on ${base} carries its trailers (${TRAILER_TARGET}: ${target}, ${TRAILER_PHASE}: ${phase.index} ${phase.id})`;
      log(`${reason}; a squash merge must keep the pull request's description as its message`);
      return { outcome: 'failed', exitCode: 1, status: waitingOn(`${reason}: merge it keeping the description (squash), or as a merge commit or rebase`, 'failed'), pullRequest: info(existing, 'merged'), ...common };
    }
    if (existing?.state === 'closed') {
      const reason = `pull request #${existing.number} of ${phase.id} was closed without merging: the update stops here (reopen it to go on)`;
      return { outcome: 'failed', exitCode: 1, status: waitingOn(reason, 'failed'), pullRequest: info(existing, 'closed'), ...common };
    }

    // the phase commit, on the base's tip; the trailers of skipped gates go with it
    const path = opts.path ?? 'openstack-update';
    const layout = await layoutFor(inputs, { repo, engine: opts.engine, ...(opts.versionFile ? { versionFile: opts.versionFile } : {}) }, path, baseTip);
    const files = await layout.files(phase);
    const trailers: (readonly [string, string])[] = status.skippedGates.map((id) => [TRAILER_SKIPPED_GATE, id] as const);
    const passedOn = installPlanPassedOn(plan, snapshot, next.index);
    if (passedOn) trailers.push([TRAILER_APPROVED_INSTALL_PLAN, passedOn]);
    const message = commitMessage(plan, phase, trailers);
    await assertSingleOwner(repo, baseTip, layout, files);
    const ids = await buildCommits(repo, [{ mark: 1, from: baseTip, message, clear: layout.ownedDirs, files }], await identity(repo, opts.date));
    const sha = ids.get(1)!;
    try {
      if (opts.verify !== false) await runVetoHooks(repo, await vetoHooks(repo), sha, [{ label: `phase ${phase.id}`, message }]);
      const old = await remoteTip(repo, opts.remote, branch);
      let pushed = 0;
      if (old !== undefined && (await tryGit(repo, ['cat-file', '-e', `${old}^{commit}`])) === undefined) {
        await git(repo, ['fetch', '--quiet', '--no-tags', opts.remote, `refs/heads/${branch}`]);
      }
      if (old !== undefined && (await git(repo, ['log', '-1', `--format=%(trailers:key=${TRAILER_TARGET},valueonly)`, old])).trim() !== target) {
        throw new OsvError('GIT_DIVERGED', `${opts.remote} has a branch ${branch} that is not an osv-gitops phase branch; it is left alone`, { hint: 'Delete or rename that branch: osv-gitops owns the osv-update/ branches.' });
      }
      if (old === undefined || (await commitShape(repo, old)) !== (await commitShape(repo, sha))) {
        // only our own branch is ever forced, and only from the value just read
        await push(repo, opts.remote, [`--force-with-lease=refs/heads/${branch}:${old ?? ''}`, `${sha}:refs/heads/${branch}`], branch);
        pushed = 1;
        log(`pushed ${phase.id} to ${branch} (${sha.slice(0, 12)})`);
      }
      await opts.afterPush?.();
      const { title, body } = pullRequestContent(plan, phase, base, new Set(Object.keys(progress.view.commits)), message);
      // the description is published on the forge: the same last check as every file we commit
      assertNoSecretsInFiles([{ path: `the pull request of ${branch}`, content: `${title}\n\n${body}` }]);
      let pr: PullRequest;
      let action: PullRequestInfo['action'];
      if (existing) {
        const same = existing.title === title && existing.body.replace(/\r\n/g, '\n') === body;
        pr = same ? existing : await opts.forge.updatePullRequest(existing.number, { title, body });
        action = same ? 'unchanged' : 'updated';
        if (!same) log(`updated pull request #${pr.number} for ${phase.id}`);
      } else {
        pr = await opts.forge.openPullRequest({ head: branch, base, title, body });
        action = 'opened';
        log(`opened pull request #${pr.number} for ${phase.id}: ${pr.url}`);
      }
      const reason = `waiting for pull request #${pr.number} to be merged (${pr.url})`;
      return { outcome: 'waiting', exitCode: 3, status: waitingOn(reason, 'waiting'), decidedBy: status, pullRequest: info(pr, action), ...common, pushed };
    } finally {
      await dropStaging(repo);
    }
  }
}
