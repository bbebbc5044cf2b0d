/**
 * Commits mode: one commit per phase that changes Git, each holding the whole desired state of
 * that phase under one folder of the repository. Re-running never makes a second commit.
 */
import { posix } from 'node:path';
import { OsvError } from '../errors.js';
import { commitMessage } from '../render/commit-message.js';
import { kustomizeFolder, phaseGateCondition, phaseObjects, type Engine, type RenderInputs } from '../render/render.js';
import type { PhasePlan } from '../plan/types.js';
import { git, tryGit } from './git.js';
import { phaseCommits } from './trailers.js';
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
  if (branch !== current) {
    const exists = (await tryGit(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`])) !== undefined;
    await git(repo, exists ? ['checkout', '--quiet', branch] : ['checkout', '--quiet', '-b', branch]);
  }
  const dirty = (await git(repo, ['status', '--porcelain', '--', path])).trim();
  if (dirty) throw new OsvError('GIT_DIRTY', `uncommitted changes under ${path}; commit or discard them first`, { details: dirty.split('\n') });

  const done = new Set((await phaseCommits(repo)).filter((c) => c.target === plan.versions.target).map((c) => c.phase));
  const gitPhases = plan.phases.filter((p) => p.git.changes);
  const pending = gitPhases.filter((p) => !done.has(p.id));
  const selected = opts.all ? pending : opts.uptoPhase !== undefined ? pending.filter((p) => p.index <= opts.uptoPhase!) : pending.slice(0, 1);
  // render everything first: an error must leave the repository untouched
  const rendered = selected.map((p) => ({ phase: p, files: phaseFiles(inputs, p, opts.engine, path), message: commitMessage(plan, p) }));
  const committed: { phase: string; sha: string }[] = [];
  for (const r of rendered) {
    writeFiles(repo, r.files, [path]);
    await git(repo, ['add', '--all', '--', path]);
    const staged = (await git(repo, ['diff', '--cached', '--name-only', '--', path])).trim();
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
