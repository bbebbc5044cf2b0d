/** `osv-gitops cleanup`: retire a finished update (one commit, trailer Osv-Update-Retired). */
import { resolve } from 'node:path';
import { safeRelativePath } from '../fs/contained.js';
import { retireUpdate } from '../git/retire.js';
import { parseGitRef, parseIsoDate } from '../validate/grammar.js';
import { loadUpdate } from './inputs.js';
import type { CliIo } from './io.js';
import { checkLayoutFlags, resolveLayoutFlags, versionFileOption, type LayoutFlags } from './layout-flags.js';
import type { InputFlags } from './options.js';

export interface CleanupFlags extends InputFlags, LayoutFlags {
  readonly repo: string;
  readonly branch?: string;
  readonly path?: string;
  readonly keepDeployments?: boolean;
  readonly force?: boolean;
  readonly push?: string | boolean;
  readonly date?: string;
  readonly json?: boolean;
  /** commander's negation of --no-verify */
  readonly verify?: boolean;
}

/** The action of `osv-gitops cleanup` (its flags and help are registered in commands.ts). */
export async function cleanupAction(flags: CleanupFlags, io: CliIo, setExit: (code: number) => void): Promise<void> {
  const date = flags.date !== undefined ? parseIsoDate(flags.date) : undefined;
  const path = safeRelativePath('--path', flags.path ?? 'openstack-update');
  if (flags.branch !== undefined) parseGitRef(flags.branch, '--branch');
  if (typeof flags.push === 'string') parseGitRef(flags.push, '--push');
  checkLayoutFlags(flags);
  const update = loadUpdate(flags, io);
  const repo = resolve(io.cwd, flags.repo);
  const layout = await resolveLayoutFlags(repo, flags.branch, flags, update.plan);
  if (layout?.adopted !== undefined) io.stderr(`${layout.adopted}\n`);
  const result = await retireUpdate(update.plan, {
    repo,
    path,
    ...versionFileOption(layout),
    ...(flags.branch ? { branch: flags.branch } : {}),
    ...(flags.keepDeployments ? { keepDeployments: true } : {}),
    ...(flags.force ? { force: true } : {}),
    ...(date !== undefined ? { date } : {}),
    ...(flags.push !== undefined && flags.push !== false ? { push: { remote: typeof flags.push === 'string' ? flags.push : 'origin' } } : {}),
    verify: flags.verify !== false,
  });
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  if (flags.json) io.stdout(JSON.stringify({ plan: update.plan.id, ...result }, null, 2) + '\n');
  else if (result.sha === undefined) io.stdout(`nothing to retire: ${result.nothing ?? 'no change'}\n`);
  else {
    io.stdout(`retired the update to ${result.target}: ${result.sha.slice(0, 12)} on ${result.branch}\n`);
    if (result.unwired) io.stdout(`  unwired from ${result.unwired}\n`);
    if (result.removed.length) io.stdout(`  removed ${result.removed.length} file${result.removed.length > 1 ? 's' : ''}\n`);
    if (result.kept.length) io.stdout(`  kept ${result.kept.length} file${result.kept.length > 1 ? 's' : ''} (--keep-deployments)\n`);
    if (result.pushed) io.stdout(`pushed ${result.branch}\n`);
  }
  setExit(0);
}
