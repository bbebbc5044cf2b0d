/**
 * Commits mode: one commit per phase that changes Git, each holding the whole desired state of
 * that phase under one folder of the repository. Re-running never makes a second commit.
 *
 * The commits are built from our files alone and land with one compare-and-swap of the branch
 * (src/git/land.ts): the user's index, staged files and other paths are never part of them, and a
 * kill at any moment leaves the old branch or the new one.
 */
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { OsvError } from '../errors.js';
import { containedPath, safeRelativePath } from '../fs/contained.js';
import { commitMessage } from '../render/commit-message.js';
import type { Engine, RenderInputs, RenderedFile } from '../render/render.js';
import type { PhasePlan } from '../plan/types.js';
import { git, tryGit } from './git.js';
import {
  applyFiles,
  assertRemote,
  buildCommits,
  gitPaths,
  identity,
  moveRefs,
  objectFormat,
  pathState,
  push,
  runVetoHooks,
  sameState,
  syncPaths,
  treeState,
  vetoHooks,
  type CommitToBuild,
  type TreeState,
} from './land.js';
import { phaseCommits, TRAILER_PHASE } from './trailers.js';
import { assertSingleOwner } from './owners.js';
import { versionFileLayout } from './version-file.js';
import { committedText } from '../olm/committed-text.js';
import { pinSubscriptionText } from '../olm/subscription.js';

export interface CommitOptions {
  readonly repo: string;
  /** Folder inside the repository that osv-gitops owns. @default 'openstack-update' */
  readonly path?: string;
  readonly branch?: string;
  readonly engine: Engine;
  /** Commit up to this phase index; undefined = the next phase only. */
  readonly uptoPhase?: number;
  readonly all?: boolean;
  readonly date?: string;
  readonly push?: { readonly remote: string };
  /** Trailers added to every commit made by this call, after the standard three. */
  readonly extraTrailers?: readonly (readonly [string, string])[];
  /** Edit the user's own OpenStackVersion file in place; deployments go to `deploymentsDir` (default `path`). */
  readonly versionFile?: { readonly path: string; readonly deploymentsDir?: string };
  /** Run the repository's pre-commit and commit-msg hooks on our commits. @default true */
  readonly verify?: boolean;
}

/** What the phases write into the repository. */
export interface PhaseLayout {
  /** Files and folders the phases write: checked for uncommitted edits. */
  readonly paths: readonly string[];
  /** Folders osv-gitops owns: emptied before each phase is written. */
  readonly ownedDirs: readonly string[];
  readonly files: (phase: PhasePlan) => Promise<RenderedFile[]>;
  /** The owned folders a phase empties before it writes; default all of `ownedDirs`. */
  readonly clears?: (phase: PhasePlan) => readonly string[];
  /** What the user must fix for the agent to apply every phase (e.g. an unreferenced folder). */
  readonly warnings?: readonly string[];
}

export interface CommitResult {
  readonly committed: { readonly phase: string; readonly sha: string }[];
  readonly alreadyCommitted: string[];
  readonly pushed: boolean;
  readonly branch: string;
  /** False when the branch is not the one checked out (only the ref moved). */
  readonly checkedOut: boolean;
  /** The hooks that judged the commits (empty when none exist or `verify` is false). */
  readonly hooksRun: string[];
  /** A run killed after its commit had left our paths behind the branch; this run caught them up. */
  readonly recovered: boolean;
  /** Problems that do not stop the commit but will stop the update (printed on stderr). */
  readonly warnings: string[];
}

/**
 * The renderer (cdk8s and the charts, ~200 modules) loads here, when a phase is really rendered:
 * a waiting `advance` step reads the layout's paths and never pays for it (issue 14).
 */
export async function phaseFiles(inputs: RenderInputs, phase: PhasePlan, engine: Engine, path: string): Promise<RenderedFile[]> {
  const { kustomizeFolder, phaseGateCondition, phaseObjects } = await import('../render/render.js');
  const gate = phaseGateCondition(phase);
  return kustomizeFolder(path, phaseObjects(inputs, phase, { engine, ...(gate ? { healthGate: gate.condition } : {}) }));
}

/** The default layout: each phase's whole desired state in one folder that osv-gitops owns. */
export function folderLayout(inputs: RenderInputs, engine: Engine, path: string): PhaseLayout {
  return { paths: [path], ownedDirs: [path], files: (p) => phaseFiles(inputs, p, engine, path) };
}

/** The layout the options ask for; a version file is read at commit `ref` (never the work tree). */
export async function layoutFor(inputs: RenderInputs, opts: Pick<CommitOptions, 'repo' | 'engine' | 'versionFile'>, path: string, ref: string | undefined): Promise<PhaseLayout> {
  const base = opts.versionFile
    ? await versionFileLayout(inputs, opts.engine, { path: opts.versionFile.path, deploymentsDir: opts.versionFile.deploymentsDir ?? path }, { repo: opts.repo, ref })
    : folderLayout(inputs, opts.engine, path);
  return inputs.plan.operatorUpgrade ? withSubscription(inputs, base, opts.repo, ref) : base;
}

/**
 * Phase 0 `operator`: the user's Subscription file, edited in place (src/olm/subscription.ts) as the
 * branch holds it at `ref`, pinned to the plan's CSV. It is the one file that phase writes; the
 * later phases leave it pinned and write their folders as before.
 */
async function withSubscription(inputs: RenderInputs, base: PhaseLayout, repo: string, ref: string | undefined): Promise<PhaseLayout> {
  const op = inputs.plan.operatorUpgrade!;
  if (inputs.subscriptionFile === undefined) throw new OsvError('USAGE', `the plan starts with phase 0 operator: pass --subscription with the file of your Subscription ${op.subscription}`);
  const top = realpathSync(repo);
  const real = existsSync(inputs.subscriptionFile) ? realpathSync(inputs.subscriptionFile) : inputs.subscriptionFile;
  const rel = relative(top, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new OsvError('USAGE', `--subscription ${inputs.subscriptionFile} is not inside the repository`, { hint: 'Phase 0 edits your Subscription in place: pass its file in the repository (or commit it there first, e.g. with operator-upgrade --into).' });
  }
  const path = safeRelativePath('--subscription', rel.split(sep).join('/'));
  const text = await committedText(top, ref, path);
  if (text === undefined) throw new OsvError('INPUT_NOT_FOUND', `${path} is not committed`, { hint: 'Commit your Subscription first; osv-gitops edits it as the branch holds it.' });
  const { text: pinned, before } = pinSubscriptionText(text, path, { csv: op.csv, channel: op.channel });
  if (before.name !== op.subscription) throw new OsvError('INPUT_INVALID', `${path} holds Subscription ${before.name}, but the plan pins ${op.subscription}`);
  return {
    paths: [...base.paths, path],
    ownedDirs: base.ownedDirs,
    files: async (p) => (p.phase === 'operator' ? [{ path, content: pinned }] : base.files(p)),
    clears: (p) => (p.phase === 'operator' ? [] : base.ownedDirs),
    ...(base.warnings ? { warnings: base.warnings } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// the repository and the branch, read once

export interface RepoAt {
  /** The work tree's top folder (real path): every path we take is relative to it. */
  readonly top: string;
  /** The branch checked out, '' when HEAD is detached. */
  readonly current: string;
  readonly branch: string;
  /** The branch's commit; undefined when it does not exist yet (or has no commit). */
  readonly tip: string | undefined;
  /** Where a new branch starts: HEAD's commit. */
  readonly start: string | undefined;
}

/**
 * `knownCurrent`: the branch checked out, when the caller has just asked Git (advance): each
 * question goes to Git once per step (issue 14: every git process costs start-up time).
 */
export async function openRepo(repo: string, wantedBranch: string | undefined, knownCurrent?: string): Promise<RepoAt> {
  // read only, and none needs another's answer: asked together. `repo` is in the work tree whose
  // top the first finds, so each answers for that tree as if asked at its top.
  const topRead = tryGit(repo, ['rev-parse', '--show-toplevel']);
  const currentRead = knownCurrent !== undefined ? Promise.resolve(knownCurrent) : tryGit(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  const wantedRead = wantedBranch !== undefined ? branchReads(repo, wantedBranch) : undefined;
  const topOut = await topRead;
  if (topOut === undefined || topOut.trim() === '') throw new OsvError('GIT_FAILED', `${repo} is not the work tree of a Git repository`, { hint: '--repo takes a clone with a work tree (not a bare repository).' });
  const top = realpathSync(topOut.trim());
  const current = (await currentRead)?.trim() ?? '';
  const branch = wantedBranch ?? current;
  if (branch === '') throw new OsvError('GIT_FAILED', 'HEAD is detached; pass --branch');
  const [valid, tipOut] = await (wantedRead ?? branchReads(top, branch));
  if (valid === undefined || branch.startsWith('-')) {
    throw new OsvError('USAGE', `${JSON.stringify(branch.slice(0, 100))} is not a valid branch name`);
  }
  const tip = tipOut?.trim() || undefined;
  const start = tip ?? ((await tryGit(top, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']))?.trim() || undefined);
  return { top, current, branch, tip, start };
}

/** Whether `branch` is a valid branch name, and its commit: both read only, the tip used only when the name passes. */
function branchReads(repo: string, branch: string): Promise<[string | undefined, string | undefined]> {
  return Promise.all([tryGit(repo, ['check-ref-format', '--branch', branch]), tryGit(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`])]);
}

/**
 * Git's answers `commitPhases` needs about the repository before it can render, none depending on
 * the plan: `commit` starts them before it reads its inputs, so Git answers on the other core while
 * the inputs are parsed and the plan is made (issue 14). Each is judged later, in the old order.
 */
export interface RepoReads {
  readonly at: Promise<RepoAt>;
  readonly remote: Promise<void> | undefined;
  readonly format: Promise<string>;
  readonly identity: Promise<{ author: string; committer: string }>;
}

export function startRepoReads(opts: Pick<CommitOptions, 'repo' | 'branch' | 'push' | 'date'>): RepoReads {
  return {
    at: early(openRepo(opts.repo, opts.branch)),
    // asked in `repo`, the work tree's top or a folder inside it: the same repository answers
    remote: opts.push ? early(assertRemote(opts.repo, opts.push.remote)) : undefined,
    format: early(objectFormat(opts.repo)),
    identity: early(identity(opts.repo, opts.date)),
  };
}

/**
 * The commits a killed run may have left our paths at: walking back from the tip over our own
 * phase commits, each one's parent. Empty when the tip is not ours.
 */
async function earlierStates(top: string, tip: string | undefined): Promise<string[]> {
  if (tip === undefined) return [];
  const out = await git(top, ['log', '--first-parent', '-n', '16', `--format=%H%x1f%(trailers:key=${TRAILER_PHASE},valueonly)%x1e`, tip]);
  const recs = out.split('\x1e').map((r) => r.trim().split('\x1f')).filter((r) => r[0]);
  const earlier: string[] = [];
  for (let i = 0; i < recs.length && recs[i]![1]; i++) if (recs[i + 1]) earlier.push(recs[i + 1]![0]!);
  return earlier;
}

/**
 * `work`, started now and awaited later, after other answers are judged: if one of those refuses
 * first, this one is never awaited, and its failure must not surface as an unhandled rejection.
 */
function early<T>(work: Promise<T>): Promise<T> {
  work.catch(() => undefined);
  return work;
}

/** Check our paths before anything changes: refuse edits of the user's, catch up after a killed run. */
export async function checkOurPaths(at: RepoAt, paths: readonly string[], ownedDirs: readonly string[] = []): Promise<'clean' | 'lagging'> {
  for (const p of paths) containedPath(at.top, p, 'a path osv-gitops writes');
  // the reads below go to Git at once (they only read); each answer is judged in the order written
  const checkedOut = at.branch === at.current;
  const entries = ownedDirs.map((d) => (at.start === undefined ? Promise.resolve('') : early(git(at.top, ['ls-tree', '--full-tree', at.start, '--', d]))));
  // the index lock (and the object format) in one rev-parse, asked once per repository
  const repoPaths = checkedOut ? early(gitPaths(at.top)) : undefined;
  const earlier = checkedOut ? early(earlierStates(at.top, at.tip)) : undefined;
  // a folder we own must not replace a file of the user's (`--path README.md`)
  for (const [i, d] of ownedDirs.entries()) {
    const entry = await entries[i]!;
    const st = at.branch === at.current ? lstatSync(join(at.top, d), { throwIfNoEntry: false }) : undefined;
    if (/^\d+ (blob|commit) /.test(entry) || (st !== undefined && !st.isDirectory())) {
      throw new OsvError('PATH_UNSAFE', `${d} is a file of the repository, not a folder osv-gitops may own`, { hint: 'Pass --path (or --deployments-dir) a folder of its own, e.g. openstack-update.' });
    }
  }
  if (!checkedOut || !repoPaths || !earlier) return 'clean'; // only the ref moves: the work tree is not involved
  // the sync after the commit needs the index: find a stale lock now, before the branch moves
  const lock = (await repoPaths).indexLock;
  if (existsSync(lock)) {
    throw new OsvError('GIT_LOCKED', 'another Git process holds the index lock (.git/index.lock); nothing was changed', {
      hint: 'Wait for it to finish; if no Git process is running, remove .git/index.lock and run again.',
    });
  }
  const state = await pathState(at.top, at.top, paths, at.tip, earlier);
  if (state.condition === 'dirty') {
    throw new OsvError('GIT_DIRTY', `uncommitted changes under ${paths.join(', ')}; commit or discard them first`, { details: state.details.slice(0, 50) });
  }
  return state.condition;
}

/**
 * Finish what a killed run started: when our paths lag the branch (the ref moved, the sync did
 * not happen), bring them up to it. `advance` calls this on every step, waiting or not.
 */
export async function catchUpOurPaths(repo: string, layout: Pick<PhaseLayout, 'paths' | 'ownedDirs'>, branch?: string, knownCurrent?: string): Promise<boolean> {
  const at = await openRepo(repo, branch, knownCurrent);
  if ((await checkOurPaths(at, layout.paths, layout.ownedDirs)) !== 'lagging' || at.tip === undefined) return false;
  await syncPaths(at.top, at.tip, layout.paths);
  return true;
}

// ---------------------------------------------------------------------------------------------

/** `reads`: the repository reads, when the caller started them earlier (`startRepoReads`). */
export async function commitPhases(inputs: RenderInputs, opts: CommitOptions, reads?: RepoReads): Promise<CommitResult> {
  const plan = inputs.plan;
  const path = safeRelativePath('--path', opts.path ?? 'openstack-update');
  // the renderer (phaseFiles) loads while Git answers the reads below: its compile fills their idle time
  void early(import('../render/render.js'));
  // reads that do not depend on each other run together; each answer is judged in the old order,
  // so the first failure reported is the one it always was
  const { at: opened, remote: remoteChecked, format: formatRead, identity: identityRead } = reads ?? startRepoReads(opts);
  const at = await opened;
  const { top, branch, tip } = at;
  const hooksFound = opts.verify === false ? undefined : early(vetoHooks(top));
  const earlierCommits = early(phaseCommits(top, at.start ?? 'HEAD'));
  await remoteChecked;
  // a --version-file is read and edited before anything changes, so a bad file writes nothing
  const layout = await layoutFor(inputs, { ...opts, repo: top }, path, at.start);
  const condition = await checkOurPaths(at, layout.paths, layout.ownedDirs);
  const hooks = (await hooksFound) ?? [];

  const done = new Set((await earlierCommits).filter((c) => c.target === plan.versions.target).map((c) => c.phase));
  const gitPhases = plan.phases.filter((p) => p.git.changes);
  const pending = gitPhases.filter((p) => !done.has(p.id));
  const selected = opts.all ? pending : opts.uptoPhase !== undefined ? pending.filter((p) => p.index <= opts.uptoPhase!) : pending.slice(0, 1);

  // render everything first, in memory: an error must leave the repository untouched
  const format = await formatRead;
  let state: TreeState = await treeState(top, at.start, layout.paths);
  const planned: (CommitToBuild & { phase: PhasePlan })[] = [];
  for (const phase of selected) {
    const files = await layout.files(phase);
    const clear = layout.clears?.(phase) ?? layout.ownedDirs;
    const after = applyFiles(state, clear, files, format);
    if (sameState(state, after)) continue; // the tree already holds this phase
    const mark = planned.length + 1;
    planned.push({ phase, mark, from: mark === 1 ? at.start : `:${mark - 1}`, message: commitMessage(plan, phase, opts.extraTrailers), clear, files });
    state = after;
  }

  const committed: { phase: string; sha: string }[] = [];
  let newTip = at.start;
  if (planned.length) {
    await assertSingleOwner(top, tip ?? at.start, layout, planned.flatMap((c) => c.files));
    const ids = await buildCommits(top, planned, await identityRead);
    newTip = ids.get(planned.length)!;
    await runVetoHooks(top, hooks, newTip, planned.map((c) => ({ label: `phase ${c.phase.id}`, message: c.message })));
    await moveRefs(top, [{ ref: `refs/heads/${branch}`, old: tip, next: newTip }], `osv-gitops: ${planned.map((c) => c.phase.id).join(', ')}`);
    for (const c of planned) committed.push({ phase: c.phase.id, sha: ids.get(c.mark)! });
  }
  const checkedOut = branch === at.current;
  if (checkedOut && newTip !== undefined && (planned.length || condition === 'lagging')) {
    await syncPaths(top, newTip, layout.paths);
  }

  let pushed = false;
  if (opts.push && newTip !== undefined) {
    try {
      await push(top, opts.push.remote, [`${newTip}:refs/heads/${branch}`], branch);
      pushed = true;
    } catch (e) {
      // the push failed: take our commits back, so the error leaves the branch as it was
      if (planned.length) {
        await moveRefs(top, [{ ref: `refs/heads/${branch}`, old: newTip, next: tip }], 'osv-gitops: push failed, commits taken back');
        if (checkedOut && tip !== undefined) await syncPaths(top, tip, layout.paths);
      }
      throw e;
    }
  }
  return { committed, alreadyCommitted: gitPhases.filter((p) => done.has(p.id)).map((p) => p.id), pushed, branch, checkedOut, hooksRun: planned.length ? hooks : [], recovered: condition === 'lagging', warnings: [...(layout.warnings ?? [])] };
}
