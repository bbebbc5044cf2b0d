/**
 * The GitHub driver of the pull-request flow, on GitHub's own client (`@octokit/rest`). Its
 * requests and the fields it reads are checked against GitHub's OpenAPI description in
 * test/forge/github.test.ts. The token goes to the client only; errors carry the HTTP status and
 * GitHub's message, never the request's headers.
 */
import { Octokit } from '@octokit/rest';
import { OsvError } from '../errors.js';
import type { CommitStatus, CommitStatusState, Forge, ForgeConfig, MergeMethod, PullRequest, PullRequestState } from './types.js';

/** The fields of a pull request we read (the same in GitHub's "pull-request" and "pull-request-simple"). */
interface GitHubPull {
  readonly number: number;
  readonly html_url: string;
  readonly state: string;
  readonly title: string;
  readonly body: string | null;
  readonly head: { readonly ref: string; readonly sha: string };
  readonly base: { readonly ref: string };
  readonly merged_at: string | null;
  readonly merge_commit_sha: string | null;
}

/** A GitHub commit status description is at most 140 characters. */
const DESCRIPTION_MAX = 140;

function toPullRequest(p: GitHubPull): PullRequest {
  const state: PullRequestState = p.state === 'open' ? 'open' : p.merged_at ? 'merged' : 'closed';
  return {
    number: p.number,
    url: p.html_url,
    state,
    title: p.title,
    body: p.body ?? '',
    head: p.head.ref,
    base: p.base.ref,
    headSha: p.head.sha,
    ...(state === 'merged' && p.merge_commit_sha ? { mergeCommitSha: p.merge_commit_sha } : {}),
  };
}

/** What went wrong, without anything of the request (its headers hold the token). */
function failure(what: string, e: unknown): OsvError {
  const status = typeof e === 'object' && e !== null && 'status' in e ? Number((e as { status: unknown }).status) : undefined;
  const message = e instanceof Error ? e.message.split('\n')[0]!.slice(0, 300) : 'unknown error';
  const hint =
    status === 401 ? 'The token was refused: check the variable named by --forge-token-env.'
    : status === 403 || status === 404 ? 'The token may lack access to the repository (pull requests: write, commit statuses: write), or --forge-repo is wrong.'
    : status === 422 ? 'GitHub refused the request as invalid: read its message.'
    : undefined;
  return new OsvError('FORGE_FAILED', `GitHub: ${what} failed${status ? ` (HTTP ${status})` : ''}: ${message}`, { ...(hint ? { hint } : {}) });
}

export function createGitHubForge(config: ForgeConfig, options: { readonly fetch?: typeof fetch } = {}): Forge {
  const { owner, name: repo } = config.repository;
  const octokit = new Octokit({
    auth: config.token,
    baseUrl: config.apiUrl,
    userAgent: 'osv-gitops',
    // the client's own logger prints warnings (deprecations) to the console: we report errors ourselves
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    request: { ...(options.fetch ? { fetch: options.fetch } : {}) },
  });
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      throw failure(what, e);
    }
  };

  const getPullRequest = (number: number) => call(`reading pull request #${number}`, async () => toPullRequest((await octokit.rest.pulls.get({ owner, repo, pull_number: number })).data));

  return {
    kind: 'github',
    findPullRequest: (head, base) =>
      call(`looking up the pull request from ${head}`, async () => {
        // `head` must be owner:branch, or GitHub ignores the filter and lists every pull request
        const { data } = await octokit.rest.pulls.list({ owner, repo, head: `${owner}:${head}`, base, state: 'all', sort: 'created', direction: 'desc', per_page: 100 });
        const ours = data.filter((p) => p.head.ref === head && p.base.ref === base);
        return ours.length ? toPullRequest(ours[0]!) : undefined;
      }),
    getPullRequest,
    openPullRequest: (spec) =>
      call(`opening a pull request from ${spec.head}`, async () => toPullRequest((await octokit.rest.pulls.create({ owner, repo, head: spec.head, base: spec.base, title: spec.title, body: spec.body, maintainer_can_modify: false })).data)),
    updatePullRequest: (number, change) =>
      call(`updating pull request #${number}`, async () => toPullRequest((await octokit.rest.pulls.update({ owner, repo, pull_number: number, title: change.title, body: change.body })).data)),
    mergePullRequest: async (number, method: MergeMethod) => {
      await call(`merging pull request #${number}`, () => octokit.rest.pulls.merge({ owner, repo, pull_number: number, merge_method: method }));
      return getPullRequest(number);
    },
    setCommitStatus: (status) =>
      call(`posting the commit status ${status.context}`, async () => {
        await octokit.rest.repos.createCommitStatus({
          owner,
          repo,
          sha: status.sha,
          state: status.state,
          context: status.context,
          description: status.description.slice(0, DESCRIPTION_MAX),
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
        });
      }),
    listCommitStatuses: (sha) =>
      call(`reading the commit statuses of ${sha.slice(0, 12)}`, async () => {
        const { data } = await octokit.rest.repos.listCommitStatusesForRef({ owner, repo, ref: sha, per_page: 100 });
        return data.map(
          (s): CommitStatus => ({
            sha,
            state: s.state as CommitStatusState,
            context: s.context,
            description: s.description ?? '',
            ...(s.target_url ? { targetUrl: s.target_url } : {}),
          }),
        );
      }),
  };
}
