/** `osv-gitops commit`: the commits delivery mode, one commit per phase that changes Git. */
import { resolve } from 'node:path';
import { OsvError } from '../errors.js';
import { assertFolderOrMissing, safeRelativePath } from '../fs/contained.js';
import { parseGitRef, parseIsoDate, parsePhaseIndex } from '../validate/grammar.js';
import { commitBranchPerPhase } from '../git/branch-per-phase.js';
import { commitPhases, startRepoReads } from '../git/commit-phases.js';
import { loadUpdate } from './inputs.js';
import type { InputFlags } from './options.js';
import type { CliIo } from './io.js';
import { engineOf } from './render.js';
import { checkLayoutFlags, resolveLayoutFlags, versionFileOption } from './layout-flags.js';

export interface CommitFlags extends InputFlags {
  readonly repo: string;
  readonly branch?: string;
  readonly path?: string;
  readonly push?: string | boolean;
  readonly phase?: string;
  readonly all?: boolean;
  readonly engine?: string;
  readonly date?: string;
  readonly json?: boolean;
  readonly versionFile?: string;
  readonly deploymentsDir?: string;
  readonly appPath?: string;
  readonly branchPerPhase?: boolean;
  readonly prDir?: string;
  /** commander's negation of --no-verify */
  readonly verify?: boolean;
}

/** The action of `osv-gitops commit` (its flags and help are registered in commands.ts). */
export async function commitAction(flags: CommitFlags, io: CliIo, setExit: (code: number) => void): Promise<void> {
  // every flag against its grammar before any input is read or anything is written
  const upto = flags.phase !== undefined ? parsePhaseIndex(flags.phase) : undefined;
  const date = flags.date !== undefined ? parseIsoDate(flags.date) : undefined;
  const path = safeRelativePath('--path', flags.path ?? 'openstack-update');
  if (flags.branch !== undefined) parseGitRef(flags.branch, '--branch');
  if (typeof flags.push === 'string') parseGitRef(flags.push, '--push');
  checkLayoutFlags(flags);
  if (flags.prDir !== undefined && !flags.branchPerPhase) throw new OsvError('USAGE', '--pr-dir goes with --branch-per-phase');
  const engine = engineOf(flags.engine);
  const repo = resolve(io.cwd, flags.repo);
  const repoFlags = {
    repo,
    ...(flags.branch ? { branch: flags.branch } : {}),
    ...(date !== undefined ? { date } : {}),
    ...(flags.push !== undefined && flags.push !== false ? { push: { remote: typeof flags.push === 'string' ? flags.push : 'origin' } } : {}),
  };
  // Git answers about the repository while the inputs are read and the plan is made (issue 14)
  const reads = flags.branchPerPhase ? undefined : startRepoReads(repoFlags);
  const update = loadUpdate(flags, io);
  if (flags.phase !== undefined) parsePhaseIndex(flags.phase, '--phase', update.plan.phases.length);
  const layout = await resolveLayoutFlags(repo, flags.branch, flags, update.plan);
  if (layout?.adopted !== undefined) io.stderr(`${layout.adopted}\n`);
  const common = {
    ...repoFlags,
    engine,
    path,
    ...(upto !== undefined ? { uptoPhase: upto } : {}),
    ...(flags.all ? { all: true } : {}),
    verify: flags.verify !== false,
    ...versionFileOption(layout),
  };
  if (flags.verify === false) io.stderr('warning: --no-verify: your pre-commit and commit-msg hooks are skipped for these commits\n');
  if (flags.branchPerPhase) {
    if (flags.prDir !== undefined) assertFolderOrMissing(resolve(io.cwd, flags.prDir), '--pr-dir');
    const result = await commitBranchPerPhase(update, { ...common, ...(flags.prDir !== undefined ? { prDir: resolve(io.cwd, flags.prDir) } : {}) });
    for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
    if (flags.json) io.stdout(JSON.stringify({ plan: update.plan.id, target: update.plan.versions.target, mode: 'branch-per-phase', ...result }, null, 2) + '\n');
    else {
      for (const c of result.committed) io.stdout(`committed ${c.phase} on ${c.branch} ${c.sha.slice(0, 12)}\n`);
      if (!result.committed.length) io.stdout(`nothing to commit: ${result.alreadyCommitted.length ? `phases ${result.alreadyCommitted.join(', ')} already committed` : 'no phase changes Git'}\n`);
      if (result.branches.length) io.stdout(`pull requests, merge in this order:\n`);
      for (const b of result.branches) io.stdout(`  ${b.branch} -> ${b.prBase}${b.file ? `  (${b.file})` : ''}\n`);
      if (result.branches.length && flags.prDir === undefined) io.stdout('descriptions: --pr-dir DIR writes them as files, --json prints them\n');
      if (result.pushed.length) io.stdout(`pushed ${result.pushed.join(', ')}\n`);
    }
    setExit(0);
    return;
  }
  const result = await commitPhases(update, common, reads);
  // on stderr in every output mode: --json keeps them in its `warnings` too
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  if (flags.json) io.stdout(JSON.stringify({ plan: update.plan.id, target: update.plan.versions.target, ...result }, null, 2) + '\n');
  else {
    if (result.recovered) io.stdout(`caught up ${flags.path ?? 'openstack-update'} with ${result.branch}: an earlier run was stopped before it finished\n`);
    for (const c of result.committed) io.stdout(`committed ${c.phase} ${c.sha.slice(0, 12)}${result.checkedOut ? '' : ` on ${result.branch} (not checked out)`}\n`);
    if (result.hooksRun.length) io.stdout(`your ${result.hooksRun.join(' and ')} hook${result.hooksRun.length > 1 ? 's' : ''} passed\n`);
    if (!result.committed.length) io.stdout(`nothing to commit: ${result.alreadyCommitted.length ? `phases ${result.alreadyCommitted.join(', ')} already committed` : 'no phase changes Git'}\n`);
    if (result.pushed) io.stdout(`pushed ${result.branch}\n`);
  }
  setExit(0);
}
