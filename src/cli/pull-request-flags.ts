/**
 * The flags of the pull-request flow, shared by `advance` and `watch`: `--pull-request` turns it
 * on, the `--forge*` flags say where the forge is (guessed from the remote's URL when they are not
 * given). Registered eagerly, so this file imports nothing: the flags are checked by
 * `pullRequestConfig` (src/cli/advance.ts) before the cluster is read.
 */
import type { Command } from 'commander';
import type { ForgeFlags } from '../forge/create.js';

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
