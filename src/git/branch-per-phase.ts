/**
 * `commit --branch-per-phase`: every phase that changes Git gets its own branch
 * `osv-update/<version>/<phase-id>`, built on the previous phase's branch (the first on the base
 * branch), so a team merges them as pull requests in order. Each branch carries the same commit,
 * with the same trailers, that commits mode would make, and a pull-request description.
 *
 * The branches are written with `git fast-import`, never through the work tree: the user's checkout,
 * index and current branch stay as they are, and one process writes every phase.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { OsvError } from '../errors.js';
import { checkText } from '../plan/phases.js';
import type { PhasePlan, UpdatePlan } from '../plan/types.js';
import { commitMessage, fill, phaseImageRows } from '../render/commit-message.js';
import { phaseDirName, type Engine, type RenderInputs, type RenderedFile } from '../render/render.js';
import { projectRoot } from '../validate/project-root.js';
import { layoutFor, type CommitOptions, type PhaseLayout } from './commit-phases.js';
import { git, tryGit } from './git.js';
import { phaseCommits } from './trailers.js';

export interface BranchPerPhaseOptions {
  readonly repo: string;
  /** Folder inside the repository that osv-gitops owns. @default 'openstack-update' */
  readonly path?: string;
  /** The branch the first phase branch starts from and the pull requests end in. @default the current branch */
  readonly branch?: string;
  readonly engine: Engine;
  /** Commit up to this phase index; undefined = the next phase only. */
  readonly uptoPhase?: number;
  readonly all?: boolean;
  readonly date?: string;
  /** Push every phase branch afterwards. */
  readonly push?: { readonly remote: string };
  readonly extraTrailers?: readonly (readonly [string, string])[];
  readonly versionFile?: CommitOptions['versionFile'];
  /** Write the pull-request descriptions as `<prDir>/<version>/<NN>-<phase>.md`. */
  readonly prDir?: string;
}

export interface PhaseBranch {
  readonly phase: string;
  readonly index: number;
  readonly branch: string;
  /** Where this phase's pull request goes first: the previous phase's branch, or the base branch. */
  readonly prBase: string;
  readonly sha: string;
  /** The pull-request title and body (Markdown), rendered from templates/pull-request.md. */
  readonly title: string;
  readonly body: string;
  /** The description file, when `prDir` was given. */
  readonly file?: string;
}

export interface BranchPerPhaseResult {
  readonly base: string;
  readonly committed: { readonly phase: string; readonly branch: string; readonly sha: string }[];
  /** Phases already committed on their branch, or already merged into the base branch. */
  readonly alreadyCommitted: string[];
  /** Every phase branch that exists after this run and is not merged yet, in merge order. */
  readonly branches: PhaseBranch[];
  /** Branches pushed (all of `branches` when `push` was asked). */
  readonly pushed: string[];
}

/** `osv-update/<version>/<phase-id>`. */
export function phaseBranchName(target: string, phaseId: string): string {
  return `osv-update/${target}/${phaseId}`;
}

// ---------------------------------------------------------------------------------------------
// the tree we build on, as far as our paths go: path -> "mode sha"

type TreeState = Map<string, string>;

async function treeState(repo: string, commit: string, paths: readonly string[]): Promise<TreeState> {
  const out = await git(repo, ['ls-tree', '-r', '-z', '--full-tree', commit, '--', ...paths]);
  const state: TreeState = new Map();
  for (const rec of out.split('\0')) {
    const m = /^(\d+) \w+ ([0-9a-f]+)\t(.+)$/s.exec(rec);
    if (m) state.set(m[3]!, `${m[1]} ${m[2]}`);
  }
  return state;
}

function blobId(content: string, format: string): string {
  const body = Buffer.from(content, 'utf8');
  return createHash(format === 'sha256' ? 'sha256' : 'sha1').update(`blob ${body.length}\0`).update(body).digest('hex');
}

function applyPhase(before: TreeState, layout: PhaseLayout, files: readonly RenderedFile[], format: string): TreeState {
  const after: TreeState = new Map([...before].filter(([p]) => !layout.ownedDirs.some((d) => p === d || p.startsWith(`${d}/`))));
  for (const f of files) after.set(f.path, `100644 ${blobId(f.content, format)}`);
  return after;
}

function sameTree(a: TreeState, b: TreeState): boolean {
  return a.size === b.size && [...a].every(([p, v]) => b.get(p) === v);
}

// ---------------------------------------------------------------------------------------------
// fast-import

/** `git commit` tidies a message given with --file; do the same, so both modes make the same commit. */
function cleanMessage(message: string): string {
  return `${message
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

function quotePath(p: string): string {
  if ([...p].some((c) => c < ' ' || c === '"' || c === '\\')) throw new OsvError('USAGE', `cannot write the path ${JSON.stringify(p)}`);
  return `"${p}"`;
}

function data(text: string): string {
  return `data ${Buffer.byteLength(text, 'utf8')}\n${text}\n`;
}

interface PlannedCommit {
  readonly phase: PhasePlan;
  readonly branch: string;
  readonly mark: number;
  /** A commit id, or `:<mark>` of a commit earlier in the same stream. */
  readonly from: string;
  readonly message: string;
  readonly files: readonly RenderedFile[];
}

function fastImportStream(commits: readonly PlannedCommit[], ownedDirs: readonly string[], ident: { author: string; committer: string }): string {
  return commits
    .map((c) =>
      [
        `commit refs/heads/${c.branch}\n`,
        `mark :${c.mark}\n`,
        `author ${ident.author}\n`,
        `committer ${ident.committer}\n`,
        data(c.message),
        `from ${c.from}\n`,
        ...ownedDirs.map((d) => `D ${quotePath(d)}\n`),
        ...c.files.map((f) => `M 100644 inline ${quotePath(f.path)}\n${data(f.content)}`),
        '\n',
      ].join(''),
    )
    .join('');
}

// ---------------------------------------------------------------------------------------------
// pull-request descriptions

let prTemplate: string | undefined;

function pullRequestText(plan: UpdatePlan, phase: PhasePlan, chain: readonly { phase: PhasePlan; branch: string; merged: boolean }[], base: string, prBase: string): { title: string; body: string } {
  prTemplate ??= readFileSync(join(projectRoot(), 'templates', 'pull-request.md'), 'utf8');
  const gitPhases = plan.phases.filter((p) => p.git.changes);
  const at = gitPhases.indexOf(phase);
  const next = chain.find((c) => c.phase === gitPhases[at + 1]);
  // the phases between this one and the next pull request: Git gets nothing, the gates still hold
  const quiet = plan.phases.filter((p) => p.index > phase.index && !p.git.changes && (!next || p.index < next.phase.index));
  const rows = phaseImageRows(plan, phase);
  const text = fill(prTemplate, {
    number: String(at + 1),
    total: String(gitPhases.length),
    phaseId: phase.id,
    deployed: plan.versions.deployed,
    target: plan.versions.target,
    title: phase.title,
    gitSummary: phase.git.summary,
    branch: chain.find((c) => c.phase === phase)?.branch ?? '',
    prBase,
    planId: plan.id,
    imageCount: String(rows.length),
    imageTable: rows.length ? rows.join('\n') : '- none',
    gateSummary: phase.gate.summary,
    gateChecks: phase.gate.checks.map((c) => `- ${checkText(c)}`).join('\n'),
    quietPhases: quiet.length ? `\nThen, in phases that change nothing in Git:\n${quiet.map((p) => `- ${p.id}: ${p.gate.summary}`).join('\n')}\n` : '',
    mergeOrder: chain.map((c, i) => `${i + 1}. \`${c.branch}\`${c.phase === phase ? ' (this pull request)' : c.merged ? ` (merged into \`${base}\`)` : ''}`).join('\n'),
    dependency: next
      ? `\`${next.branch}\` is built on this branch: merge this pull request first, then point the next one at \`${base}\`.`
      : 'This is the last phase that changes Git: nothing depends on this branch.',
  });
  const [title = '', ...rest] = text.split('\n');
  return { title, body: `${rest.join('\n').trim()}\n` };
}

// ---------------------------------------------------------------------------------------------

export async function commitBranchPerPhase(inputs: RenderInputs, opts: BranchPerPhaseOptions): Promise<BranchPerPhaseResult> {
  const { repo } = opts;
  const plan = inputs.plan;
  const target = plan.versions.target;
  const path = posix.normalize(opts.path ?? 'openstack-update');
  if (path.startsWith('..') || posix.isAbsolute(path)) throw new OsvError('USAGE', `--path must be inside the repository, not "${path}"`);
  if ((await tryGit(repo, ['rev-parse', '--git-dir'])) === undefined) throw new OsvError('GIT_FAILED', `${repo} is not a Git repository`);
  const current = (await tryGit(repo, ['symbolic-ref', '--short', 'HEAD']))?.trim() ?? '';
  const base = opts.branch ?? current;
  if (base === '') throw new OsvError('GIT_FAILED', 'HEAD is detached; pass --branch with the base branch of the pull requests');
  const baseTip = (await tryGit(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${base}^{commit}`]))?.trim();
  if (!baseTip) throw new OsvError('GIT_FAILED', `the base branch ${base} has no commit`, { hint: 'Commit something on it first, or pass --branch with an existing branch.' });

  const ours = (commits: Awaited<ReturnType<typeof phaseCommits>>) => new Set(commits.filter((c) => c.target === target).map((c) => c.phase));
  const merged = ours(await phaseCommits(repo, `refs/heads/${base}`));
  const gitPhases = plan.phases.filter((p) => p.git.changes);
  const branches = await Promise.all(
    gitPhases.map(async (p) => {
      const branch = phaseBranchName(target, p.id);
      const tip = (await tryGit(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]))?.trim();
      const done = merged.has(p.id) || (tip !== undefined && ours(await phaseCommits(repo, `refs/heads/${branch}`)).has(p.id));
      return { phase: p, branch, tip, done, merged: merged.has(p.id) };
    }),
  );
  const pending = branches.filter((b) => !b.done);
  const selected = new Set(opts.all ? pending : opts.uptoPhase !== undefined ? pending.filter((b) => b.phase.index <= opts.uptoPhase!) : pending.slice(0, 1));
  const checkedOut = [...selected].find((b) => b.tip !== undefined && b.branch === current);
  if (checkedOut) throw new OsvError('GIT_FAILED', `${checkedOut.branch} is checked out; switch to another branch first`);

  // walk the chain: each new commit goes on the previous phase (its branch, or the base once merged)
  const format = (await tryGit(repo, ['rev-parse', '--show-object-format']))?.trim() || 'sha1';
  let layout: PhaseLayout | undefined;
  let parent = baseTip;
  let state: TreeState | undefined;
  let mark = 0;
  const planned: PlannedCommit[] = [];
  for (const b of branches) {
    if (b.merged) {
      parent = baseTip;
      state = undefined;
      continue;
    }
    if (b.done) {
      parent = b.tip!;
      state = undefined;
      continue;
    }
    if (!selected.has(b)) break; // later phases need this one first
    const from = b.tip ?? parent;
    // a --version-file is read where the chain starts; once edited it stays the same for every phase
    layout ??= await layoutFor(inputs, { repo, engine: opts.engine, ...(opts.versionFile ? { versionFile: opts.versionFile } : {}) }, path, from.startsWith(':') ? baseTip : from);
    if (b.tip !== undefined || state === undefined) state = await treeState(repo, from, layout.paths);
    const files = layout.files(b.phase);
    const after = applyPhase(state, layout, files, format);
    if (sameTree(state, after)) continue; // the tree already holds this phase
    mark += 1;
    planned.push({ phase: b.phase, branch: b.branch, mark, from, message: cleanMessage(commitMessage(plan, b.phase, opts.extraTrailers)), files });
    parent = `:${mark}`;
    state = after;
  }

  const committed: { phase: string; branch: string; sha: string }[] = [];
  if (planned.length) {
    const dateOpt = opts.date ? { date: opts.date } : {};
    const ident = {
      author: (await git(repo, ['var', 'GIT_AUTHOR_IDENT'], dateOpt)).trim(),
      committer: (await git(repo, ['var', 'GIT_COMMITTER_IDENT'], dateOpt)).trim(),
    };
    await git(repo, ['fast-import', '--quiet'], { input: fastImportStream(planned, layout!.ownedDirs, ident) });
    for (const c of planned) committed.push({ phase: c.phase.id, branch: c.branch, sha: (await git(repo, ['rev-parse', `refs/heads/${c.branch}`])).trim() });
  }

  // the open pull requests, in merge order
  const open: { phase: PhasePlan; branch: string; sha: string; merged: boolean }[] = [];
  for (const b of branches) {
    const sha = committed.find((c) => c.branch === b.branch)?.sha ?? b.tip;
    if (b.merged || sha === undefined) continue;
    open.push({ phase: b.phase, branch: b.branch, sha, merged: false });
  }
  const chain = branches.map((b) => ({ phase: b.phase, branch: b.branch, merged: b.merged }));
  const result: PhaseBranch[] = open.map((o, i) => {
    const prBase = i > 0 ? open[i - 1]!.branch : base;
    const { title, body } = pullRequestText(plan, o.phase, chain, base, prBase);
    const file = opts.prDir !== undefined ? join(opts.prDir, target, `${phaseDirName(o.phase)}.md`) : undefined;
    return { phase: o.phase.id, index: o.phase.index, branch: o.branch, prBase, sha: o.sha, title, body, ...(file ? { file } : {}) };
  });
  for (const r of result) {
    if (r.file === undefined) continue;
    mkdirSync(join(r.file, '..'), { recursive: true });
    writeFileSync(r.file, `${r.title}\n\n${r.body}`);
  }

  const pushed: string[] = [];
  if (opts.push && result.length) {
    try {
      await git(repo, ['push', '--quiet', opts.push.remote, ...result.map((r) => `refs/heads/${r.branch}:refs/heads/${r.branch}`)]);
      pushed.push(...result.map((r) => r.branch));
    } catch (e) {
      const msg = e instanceof OsvError ? e.details.join('\n') : String(e);
      if (/rejected|non-fast-forward|fetch first/i.test(msg)) {
        throw new OsvError('GIT_PUSH_REJECTED', `push to ${opts.push.remote} was rejected: a phase branch moved on the remote`, {
          hint: 'Fetch, rebase the phase branches, then run commit again (it will not duplicate phases).',
          cause: e,
        });
      }
      throw e;
    }
  }
  return { base, committed, alreadyCommitted: branches.filter((b) => b.done).map((b) => b.phase.id), branches: result, pushed };
}
