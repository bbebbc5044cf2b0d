/**
 * Commits mode: one commit per phase that changes Git, each holding the whole desired state of
 * that phase under one folder of the repository. Re-running never makes a second commit.
 */
import { posix } from 'node:path';
import { OsvError } from '../errors.js';
import { commitMessage } from '../render/commit-message.js';
import { kustomizeFolder, phaseGateCondition, phaseObjects, type Engine, type RenderInputs, type RenderedFile } from '../render/render.js';
import type { PhasePlan } from '../plan/types.js';
import { git, tryGit } from './git.js';
import { phaseCommits } from './trailers.js';
import { versionFileLayout } from './version-file.js';
import { writeFiles } from './write-tree.js';

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
}

/** What the phases write into the repository. */
export interface PhaseLayout {
  /** Files and folders the phases write: checked for uncommitted edits, then staged. */
  readonly paths: readonly string[];
  /** Folders osv-gitops owns: emptied before each phase is written. */
  readonly ownedDirs: readonly string[];
  readonly files: (phase: PhasePlan) => RenderedFile[];
}

export interface CommitResult {
  readonly committed: { readonly phase: string; readonly sha: string }[];
  readonly alreadyCommitted: string[];
  readonly pushed: boolean;
  readonly branch: string;
}

export function phaseFiles(inputs: RenderInputs, phase: PhasePlan, engine: Engine, path: string) {
  const gate = phaseGateCondition(phase);
  return kustomizeFolder(path, phaseObjects(inputs, phase, { engine, ...(gate ? { healthGate: gate.condition } : {}) }));
}

/** The default layout: each phase's whole desired state in one folder that osv-gitops owns. */
export function folderLayout(inputs: RenderInputs, engine: Engine, path: string): PhaseLayout {
  return { paths: [path], ownedDirs: [path], files: (p) => phaseFiles(inputs, p, engine, path) };
}

/** The layout the options ask for; `ref` is where a version file is read (undefined: the work tree). */
export async function layoutFor(inputs: RenderInputs, opts: Pick<CommitOptions, 'repo' | 'engine' | 'versionFile'>, path: string, ref: string | undefined): Promise<PhaseLayout> {
  if (!opts.versionFile) return folderLayout(inputs, opts.engine, path);
  return versionFileLayout(inputs, opts.engine, { path: opts.versionFile.path, deploymentsDir: opts.versionFile.deploymentsDir ?? path }, { repo: opts.repo, ref });
}

export async function commitPhases(inputs: RenderInputs, opts: CommitOptions): Promise<CommitResult> {
  const { repo } = opts;
  const plan = inputs.plan;
  const path = posix.normalize(opts.path ?? 'openstack-update');
  if (path.startsWith('..') || posix.isAbsolute(path)) throw new OsvError('USAGE', `--path must be inside the repository, not "${path}"`);
  if ((await tryGit(repo, ['rev-parse', '--git-dir'])) === undefined) {
    throw new OsvError('GIT_FAILED', `${repo} is not a Git repository`);
  }
  const current = (await tryGit(repo, ['symbolic-ref', '--short', 'HEAD']))?.trim() ?? '';
  const branch = opts.branch ?? current;
  if (branch === '') throw new OsvError('GIT_FAILED', 'HEAD is detached; pass --branch');
  const exists = branch === current || (await tryGit(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`])) !== undefined;
  // a --version-file is read and edited before anything changes, so a bad file writes nothing
  const layout = await layoutFor(inputs, opts, path, branch !== current && exists ? `refs/heads/${branch}` : undefined);
  if (branch !== current) {
    await git(repo, exists ? ['checkout', '--quiet', branch] : ['checkout', '--quiet', '-b', branch]);
  }
  const dirty = (await git(repo, ['status', '--porcelain', '--', ...layout.paths])).trim();
  if (dirty) throw new OsvError('GIT_DIRTY', `uncommitted changes under ${layout.paths.join(', ')}; commit or discard them first`, { details: dirty.split('\n') });

  const done = new Set((await phaseCommits(repo)).filter((c) => c.target === plan.versions.target).map((c) => c.phase));
  const gitPhases = plan.phases.filter((p) => p.git.changes);
  const pending = gitPhases.filter((p) => !done.has(p.id));
  const selected = opts.all ? pending : opts.uptoPhase !== undefined ? pending.filter((p) => p.index <= opts.uptoPhase!) : pending.slice(0, 1);
  // render everything first: an error must leave the repository untouched
  const rendered = selected.map((p) => ({ phase: p, files: layout.files(p), message: commitMessage(plan, p, opts.extraTrailers) }));
  const committed: { phase: string; sha: string }[] = [];
  for (const r of rendered) {
    writeFiles(repo, r.files, layout.ownedDirs);
    await git(repo, ['add', '--all', '--', ...layout.paths]);
    const staged = (await git(repo, ['diff', '--cached', '--name-only', '--', ...layout.paths])).trim();
    if (!staged) continue; // the tree already holds this phase
    await git(repo, ['commit', '--quiet', '--no-verify', '--file=-'], { input: r.message, ...(opts.date ? { date: opts.date } : {}) });
    committed.push({ phase: r.phase.id, sha: (await git(repo, ['rev-parse', 'HEAD'])).trim() });
  }
  let pushed = false;
  if (opts.push) {
    try {
      await git(repo, ['push', '--quiet', opts.push.remote, `HEAD:refs/heads/${branch}`]);
      pushed = true;
    } catch (e) {
      const msg = e instanceof OsvError ? e.details.join('\n') : String(e);
      if (/rejected|non-fast-forward|fetch first/i.test(msg)) {
        throw new OsvError('GIT_PUSH_REJECTED', `push to ${opts.push.remote} was rejected: the remote moved`, { hint: 'Fetch and rebase, then run commit again (it will not duplicate phases).', cause: e });
      }
      throw e;
    }
  }
  return { committed, alreadyCommitted: gitPhases.filter((p) => done.has(p.id)).map((p) => p.id), pushed, branch };
}
