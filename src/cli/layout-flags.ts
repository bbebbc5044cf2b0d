/**
 * `--app-path`, `--version-file`, `--deployments-dir`: where the update goes in the user's
 * repository, shared by `commit`, `advance`, `watch` and `cleanup`. `--app-path` finds the version
 * file by reading the app's kustomization graph at the branch's commit (src/git/app-path.ts);
 * an explicit `--version-file` always wins (that is how a shared base is accepted on purpose).
 */
import { posix } from 'node:path';
import { OsvError } from '../errors.js';
import { safeRelativePath } from '../fs/contained.js';
import { adoptAppPath, DEFAULT_DEPLOYMENTS_FOLDER } from '../git/app-path.js';
import { openRepo } from '../git/commit-phases.js';
import type { UpdatePlan } from '../plan/types.js';

export interface LayoutFlags {
  readonly appPath?: string;
  readonly versionFile?: string;
  readonly deploymentsDir?: string;
}

export interface VersionFileChoice {
  readonly path: string;
  readonly deploymentsDir?: string;
  /** What --app-path found, in words (for stderr). */
  readonly adopted?: string;
}

/** The flags checked against their grammar, before any input is read. */
export function checkLayoutFlags(flags: LayoutFlags): void {
  if (flags.appPath !== undefined) safeRelativePath('--app-path', flags.appPath, { allowRoot: true });
  if (flags.versionFile !== undefined) safeRelativePath('--version-file', flags.versionFile);
  if (flags.deploymentsDir !== undefined) safeRelativePath('--deployments-dir', flags.deploymentsDir);
  if (flags.deploymentsDir !== undefined && flags.versionFile === undefined && flags.appPath === undefined) {
    throw new OsvError('USAGE', '--deployments-dir goes with --version-file or --app-path');
  }
}

/**
 * The version file and deployments folder the flags mean, or undefined for the default (copies)
 * layout. `--app-path` is read at the commit `branch` points to (HEAD's when it does not exist).
 */
export async function resolveLayoutFlags(repo: string, branch: string | undefined, flags: LayoutFlags, plan: Pick<UpdatePlan, 'openStackVersion'>): Promise<VersionFileChoice | undefined> {
  checkLayoutFlags(flags);
  if (flags.appPath === undefined) {
    return flags.versionFile !== undefined ? { path: flags.versionFile, ...(flags.deploymentsDir !== undefined ? { deploymentsDir: flags.deploymentsDir } : {}) } : undefined;
  }
  const appPath = safeRelativePath('--app-path', flags.appPath, { allowRoot: true });
  if (flags.versionFile !== undefined) return { path: flags.versionFile, deploymentsDir: flags.deploymentsDir ?? posix.join(appPath, DEFAULT_DEPLOYMENTS_FOLDER) };
  const at = await openRepo(repo, branch);
  // the deployments default into the app found, which may be another folder than --app-path
  const adopted = await adoptAppPath(at.top, at.start, appPath, plan, flags.deploymentsDir);
  const via = adopted.via?.length ? ` (followed ${adopted.via.join(' -> ')} to ${adopted.appPath})` : '';
  return { path: adopted.versionFile, deploymentsDir: adopted.deploymentsDir, adopted: `adopting ${appPath}${via}: editing ${adopted.versionFile} in place, deployments in ${adopted.deploymentsDir}` };
}

/** The library's `versionFile` option from a choice (without the words for stderr). */
export function versionFileOption(choice: VersionFileChoice | undefined): { versionFile?: { path: string; deploymentsDir?: string } } {
  if (choice === undefined) return {};
  return { versionFile: { path: choice.path, ...(choice.deploymentsDir !== undefined ? { deploymentsDir: choice.deploymentsDir } : {}) } };
}
