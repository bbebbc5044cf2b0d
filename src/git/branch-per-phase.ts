/**
 * `commit --branch-per-phase`: every phase that changes Git gets its own branch
 * `osv-update/<version>/<phase-id>`, built on the previous phase's branch (the first on the base
 * branch), so a team merges them as pull requests in order. Each branch carries the same commit,
 * with the same trailers, that commits mode would make, and a pull-request description.
 *
 * The branches are written with `git fast-import`, never through the work tree: the user's checkout,
 * index and current branch stay as they are, and one process writes every phase.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OsvError } from '../errors.js';
import { safeRelativePath, writeOwnFileUnder } from '../fs/contained.js';
import { assertNoSecretsInFiles } from '../validate/secrets.js';
import { checkText } from '../plan/phases.js';
import type { PhasePlan, UpdatePlan } from '../plan/types.js';
import { followingQuietPhases, phaseImages, phaseLabel, phaseSlug } from '../plan/numbering.js';
import { gateCommandsText } from '../plan/gate-commands.js';
import { commitMessage, fill, imageDetails, imageRow, laterPhasesSection, quietImageSections, serviceDefaultsSection, UNPLACED_HEADING, unplacedImages } from '../render/commit-message.js';
import { type Engine, type RenderInputs } from '../render/render.js';
import { projectRoot } from '../validate/project-root.js';
import { assertSingleOwner } from './owners.js';
import { checkOurPaths, layoutFor, openRepo, type CommitOptions, type PhaseLayout } from './commit-phases.js';
import { tryGit } from './git.js';
import { applyFiles, assertRemote, buildCommits, identity, moveRefs, objectFormat, push, runVetoHooks, sameState, treeState, vetoHooks, type CommitToBuild, type RefMove, type TreeState } from './land.js';
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
  /** Run the repository's pre-commit and commit-msg hooks on our commits. @default true */
  readonly verify?: boolean;
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
  /** Problems that do not stop the commits but will stop the update (printed on stderr). */
  readonly warnings: string[];
}

/** `osv-update/<version>/<phase-id>`. */
export function phaseBranchName(target: string, phaseId: string): string {
  return `osv-update/${target}/${phaseId}`;
}

// ---------------------------------------------------------------------------------------------
// pull-request descriptions

let prTemplate: string | undefined;

/**
 * A phase's pull-request title and body. `oneAtATime`: the pull-request flow of `advance`, which
 * opens the next phase's pull request itself once this one's gate holds (no chain of branches).
 */
export function pullRequestText(plan: UpdatePlan, phase: PhasePlan, chain: readonly { phase: PhasePlan; branch: string; merged: boolean }[], base: string, prBase: string, oneAtATime = false): { title: string; body: string } {
  prTemplate ??= readFileSync(join(projectRoot(), 'templates', 'pull-request.md'), 'utf8');
  const gitPhases = plan.phases.filter((p) => p.git.changes);
  const at = gitPhases.indexOf(phase);
  const next = chain.find((c) => c.phase === gitPhases[at + 1]);
  // the phases between this one and the next pull request: Git gets nothing, the gates still hold
  const quiet = followingQuietPhases(plan, phase);
  const images = phaseImages(plan, phase);
  const quietImages = quietImageSections(plan, phase).map((q) => imageDetails(`Images rolling out in ${q.label}, which has no pull request of its own`, q.images));
  const unplaced = unplacedImages(plan, phase);
  const quietRows = quiet.map((p) => {
    const n = phaseImages(plan, p).length;
    return `- ${phaseLabel(plan, p)} ${p.id}: ${p.gate.summary}${n ? ` (${n} image${n === 1 ? '' : 's'} roll${n === 1 ? 's' : ''} out)` : ''}`;
  });
  const quietChecks = quiet
    .map((p) => ({ p, text: gateCommandsText(plan, p, false) }))
    .filter((q) => q.text !== '')
    .map((q) => `\nCheck ${phaseLabel(plan, q.p)} ${q.p.id} on the cluster:\n\`\`\`sh\n${q.text}\n\`\`\`\n`);
  const text = fill(prTemplate, {
    phase: phaseLabel(plan, phase),
    phaseId: phase.id,
    deployed: plan.versions.deployed,
    target: plan.versions.target,
    title: phase.title,
    gitSummary: phase.git.summary,
    branch: chain.find((c) => c.phase === phase)?.branch ?? '',
    prBase,
    planId: plan.id,
    imageCount: String(images.length),
    imageTable: images.length ? images.map(imageRow).join('\n') : '- none',
    imageDetails: [imageDetails('Full image references', images), imageDetails(UNPLACED_HEADING, unplaced)].filter(Boolean).map((d) => `\n\n${d}`).join(''),
    laterPhases: laterPhasesSection(plan, phase, true),
    serviceDefaults: serviceDefaultsSection(plan, phase, true),
    gateSummary: phase.gate.summary,
    gateChecks: phase.gate.checks.map((c) => `- ${checkText(c)}`).join('\n'),
    gateCommands: gateCommandsText(plan, phase),
    quietPhases: quiet.length
      ? `\nThen, in phases that change nothing in Git (${next ? 'their gates hold the next pull request too' : 'osv-gitops waits for their gates too'}):\n${quietRows.join('\n')}\n${quietChecks.join('')}${quietImages.map((d) => `\n${d}\n`).join('')}`
      : '',
    mergeOrder: chain.map((c, i) => `${i + 1}. \`${c.branch}\`, ${phaseLabel(plan, c.phase)}${c.phase === phase ? ' (this pull request)' : c.merged ? ` (merged into \`${base}\`)` : ''}`).join('\n'),
    dependency: oneAtATime
      ? next
        ? `osv-gitops opens the pull request of \`${next.branch}\` itself, on \`${base}\`, once the gate above holds.`
        : 'This is the last phase that changes Git.'
      : next
      ? `\`${next.branch}\` is built on this branch: merge this pull request first, then point the next one at \`${base}\`.`
      : 'This is the last phase that changes Git: nothing depends on this branch.',
  });
  const [title = '', ...rest] = text.split('\n');
  return { title, body: `${rest.join('\n').trim()}\n` };
}

// ---------------------------------------------------------------------------------------------

export async function commitBranchPerPhase(inputs: RenderInputs, opts: BranchPerPhaseOptions): Promise<BranchPerPhaseResult> {
  const plan = inputs.plan;
  const target = plan.versions.target;
  const path = safeRelativePath('--path', opts.path ?? 'openstack-update');
  const at = await openRepo(opts.repo, opts.branch);
  const { top, current, branch: base } = at;
  const baseTip = at.tip;
  if (!baseTip) throw new OsvError('GIT_FAILED', `the base branch ${base} has no commit`, { hint: 'Commit something on it first, or pass --branch with an existing branch.' });
  if (opts.push) await assertRemote(top, opts.push.remote);
  const hooks = opts.verify === false ? [] : await vetoHooks(top);

  const ours = (commits: Awaited<ReturnType<typeof phaseCommits>>) => new Set(commits.filter((c) => c.target === target).map((c) => c.phase));
  const merged = ours(await phaseCommits(top, `refs/heads/${base}`));
  const gitPhases = plan.phases.filter((p) => p.git.changes);
  const branches = await Promise.all(
    gitPhases.map(async (p) => {
      const branch = phaseBranchName(target, p.id);
      const tip = (await tryGit(top, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]))?.trim() || undefined;
      const done = merged.has(p.id) || (tip !== undefined && ours(await phaseCommits(top, `refs/heads/${branch}`)).has(p.id));
      return { phase: p, branch, tip, done, merged: merged.has(p.id) };
    }),
  );
  const pending = branches.filter((b) => !b.done);
  const selected = new Set(opts.all ? pending : opts.uptoPhase !== undefined ? pending.filter((b) => b.phase.index <= opts.uptoPhase!) : pending.slice(0, 1));
  const checkedOut = [...selected].find((b) => b.tip !== undefined && b.branch === current);
  if (checkedOut) throw new OsvError('GIT_FAILED', `${checkedOut.branch} is checked out; switch to another branch first`);

  // walk the chain: each new commit goes on the previous phase (its branch, or the base once merged)
  const format = await objectFormat(top);
  let layout: PhaseLayout | undefined;
  let parent = baseTip;
  let state: TreeState | undefined;
  const planned: (CommitToBuild & { phase: PhasePlan; branch: string; old: string | undefined })[] = [];
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
    if (layout === undefined) {
      // a --version-file is read where the chain starts; once edited it stays the same for every phase
      layout = await layoutFor(inputs, { repo: top, engine: opts.engine, ...(opts.versionFile ? { versionFile: opts.versionFile } : {}) }, path, from.startsWith(':') ? baseTip : from);
      await checkOurPaths({ ...at, branch: '' }, layout.paths); // containment only: the checkout is never touched
    }
    if (b.tip !== undefined || state === undefined) state = await treeState(top, from, layout.paths);
    const files = await layout.files(b.phase);
    const clear = layout.clears?.(b.phase) ?? layout.ownedDirs;
    const after = applyFiles(state, clear, files, format);
    if (sameState(state, after)) continue; // the tree already holds this phase
    const mark = planned.length + 1;
    planned.push({ phase: b.phase, branch: b.branch, old: b.tip, mark, from, message: commitMessage(plan, b.phase, opts.extraTrailers), clear, files });
    parent = `:${mark}`;
    state = after;
  }

  const committed: { phase: string; branch: string; sha: string }[] = [];
  const moves: RefMove[] = [];
  if (planned.length) {
    await assertSingleOwner(top, baseTip, layout ?? { paths: [], ownedDirs: [] }, planned.flatMap((c) => c.files));
    const ids = await buildCommits(top, planned, await identity(top, opts.date));
    await runVetoHooks(top, hooks, ids.get(planned.length)!, planned.map((c) => ({ label: `phase ${c.phase.id}`, message: c.message })));
    for (const c of planned) moves.push({ ref: `refs/heads/${c.branch}`, old: c.old, next: ids.get(c.mark)! });
    await moveRefs(top, moves, `osv-gitops: ${planned.map((c) => c.branch).join(', ')}`);
    for (const c of planned) committed.push({ phase: c.phase.id, branch: c.branch, sha: ids.get(c.mark)! });
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
    const file = opts.prDir !== undefined ? join(opts.prDir, target, `${phaseSlug(o.phase)}.md`) : undefined;
    return { phase: o.phase.id, index: o.phase.index, branch: o.branch, prBase, sha: o.sha, title, body, ...(file ? { file } : {}) };
  });
  // anything failing from here on takes our new branches back, so an error leaves the refs as they were
  const takeBack = () => (moves.length ? moveRefs(top, moves.map((m) => ({ ref: m.ref, old: m.next, next: m.old })), 'osv-gitops: taken back after an error') : Promise.resolve());
  const pushed: string[] = [];
  try {
    assertNoSecretsInFiles(result.map((r) => ({ path: `pull request ${r.branch}`, content: `${r.title}\n\n${r.body}` })));
    if (opts.push && result.length) {
      await push(top, opts.push.remote, result.map((r) => `refs/heads/${r.branch}:refs/heads/${r.branch}`), `the phase branches`);
      pushed.push(...result.map((r) => r.branch));
    }
  } catch (e) {
    await takeBack();
    throw e;
  }
  // the descriptions last: a refused push must not leave them behind (the folder was checked up front)
  if (opts.prDir !== undefined) {
    for (const r of result) writeOwnFileUnder(opts.prDir, `${target}/${phaseSlug(plan.phases.find((p) => p.id === r.phase)!)}.md`, `${r.title}\n\n${r.body}`, 'a pull-request description');
  }
  return { base, committed, alreadyCommitted: branches.filter((b) => b.done).map((b) => b.phase.id), branches: result, pushed, warnings: [...(layout?.warnings ?? [])] };
}
