/**
 * The flags of the pull-request flow, shared by `advance` and `watch`: `--pull-request` turns it
 * on, the `--forge*` flags say where the forge is (guessed from the remote's URL when they are not
 * given). Checked before the cluster is read; the forge's client is loaded only when the mode is on.
 */
import type { Command } from 'commander';
import { OsvError } from '../errors.js';
import { forgeConfigFrom, type ForgeFlags } from '../forge/create.js';
import type { ForgeConfig } from '../forge/types.js';
import { assertRemote } from '../git/land.js';
import { tryGit } from '../git/git.js';

export interface PullRequestFlags extends ForgeFlags {
  readonly pullRequest?: boolean;
}

export function addPullRequestOptions(cmd: Command): Command {
  return cmd
    .option('--pull-request', 'open a pull request per phase into --branch and wait for its merge, instead of pushing to --branch (see README, Pull-request flow)')
    .option('--forge <kind>', 'with --pull-request: github, gitlab or gitea (default: from the remote URL, github.com or gitlab.com)')
    .option('--forge-url <url>', 'with --pull-request: the API base (default https://api.github.com, https://gitlab.com/api/v4; required for gitea)')
    .option('--forge-repo <owner/name>', "with --pull-request: the repository on the forge (default: from the remote's URL)")
    .option('--forge-token-env <name>', 'with --pull-request: environment variable holding the token (default GITHUB_TOKEN, GITLAB_TOKEN or GITEA_TOKEN); never logged');
}

/** The forge configuration when `--pull-request` is on; the forge flags without it are a usage error. */
export async function pullRequestConfig(flags: PullRequestFlags & { readonly push?: boolean }, repo: string, remote: string): Promise<ForgeConfig | undefined> {
  const given = (['forge', 'forgeUrl', 'forgeRepo', 'forgeTokenEnv'] as const).filter((k) => flags[k] !== undefined);
  if (!flags.pullRequest) {
    if (given.length) throw new OsvError('USAGE', `--${given[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} goes with --pull-request`);
    return undefined;
  }
  if (flags.push === false) throw new OsvError('USAGE', '--pull-request pushes the phase branch: it does not go with --no-push');
  await assertRemote(repo, remote);
  const url = (await tryGit(repo, ['remote', 'get-url', '--', remote]))?.trim();
  return forgeConfigFrom(flags, url);
}
