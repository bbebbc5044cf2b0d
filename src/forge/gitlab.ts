/**
 * The GitLab driver of the pull-request flow (merge requests), on GitLab's client
 * `@gitbeaker/rest`. The token goes to the client only (the `PRIVATE-TOKEN` header); errors carry
 * the HTTP status and GitLab's message, never the request.
 *
 * GitLab differs from GitHub in three ways that matter here: the number is the merge request's
 * `iid`; the commit on the target branch is `merge_commit_sha` or, for a squash without a merge
 * commit, `squash_commit_sha` (a fast-forward leaves both empty: then the head itself is on the
 * target); and a commit status has a `name` (our context) and the state `failed` for `failure`.
 */
import { Commits, MergeRequests } from '@gitbeaker/rest';
import { OsvError } from '../errors.js';
import type { CommitStatus, CommitStatusState, Forge, ForgeConfig, MergeMethod, PullRequest, PullRequestState } from './types.js';

/** The fields of a merge request we read (GitLab's REST names). */
interface GitLabMergeRequest {
  readonly iid: number;
  readonly web_url: string;
  readonly state: string;
  readonly title: string;
  readonly description?: string | null;
  readonly source_branch: string;
  readonly target_branch: string;
  readonly sha: string;
  readonly merge_commit_sha?: string | null;
  readonly squash_commit_sha?: string | null;
}

const TO_GITLAB_STATE: Record<CommitStatusState, 'pending' | 'success' | 'failed'> = { pending: 'pending', success: 'success', failure: 'failed', error: 'failed' };
const FROM_GITLAB_STATE: Record<string, CommitStatusState> = { pending: 'pending', running: 'pending', success: 'success', failed: 'failure', canceled: 'error' };

function toPullRequest(m: GitLabMergeRequest): PullRequest {
  const state: PullRequestState = m.state === 'opened' || m.state === 'locked' ? 'open' : m.state === 'merged' ? 'merged' : 'closed';
  const onTarget = m.merge_commit_sha || m.squash_commit_sha || m.sha;
  return {
    number: m.iid,
    url: m.web_url,
    state,
    title: m.title,
    body: m.description ?? '',
    head: m.source_branch,
    base: m.target_branch,
    headSha: m.sha,
    ...(state === 'merged' && onTarget ? { mergeCommitSha: onTarget } : {}),
  };
}

/** What went wrong, without the request (its headers hold the token). */
function failure(what: string, e: unknown): OsvError {
  const cause = e instanceof Error ? (e.cause as { response?: { status?: number } } | undefined) : undefined;
  const status = cause?.response?.status;
  const message = e instanceof Error ? e.message.split('\n')[0]!.slice(0, 300) : 'unknown error';
  const hint =
    status === 401 ? 'The token was refused: check the variable named by --forge-token-env.'
    : status === 403 || status === 404 ? 'The token may lack the api scope or access to the project, or --forge-repo is wrong.'
    : undefined;
  return new OsvError('FORGE_FAILED', `GitLab: ${what} failed${status ? ` (HTTP ${status})` : ''}: ${message}`, { ...(hint ? { hint } : {}) });
}

/** gitbeaker takes the host and adds `/api/v4` itself. */
function hostOf(apiUrl: string): string {
  const m = /^(.*)\/api\/v4\/?$/.exec(apiUrl);
  if (!m) throw new OsvError('FORGE_CONFIG', `--forge-url ${apiUrl} is not a GitLab API base: it must end in /api/v4`);
  return m[1]!;
}

export function createGitLabForge(config: ForgeConfig): Forge {
  const options = { host: hostOf(config.apiUrl), token: config.token };
  const mergeRequests = new MergeRequests(options);
  const commits = new Commits(options);
  // the path, not a numeric id: gitbeaker encodes it (`group%2Fsub%2Fname`)
  const project = `${config.repository.owner}/${config.repository.name}`;
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      throw failure(what, e);
    }
  };
  const getPullRequest = (number: number) => call(`reading merge request !${number}`, async () => toPullRequest((await mergeRequests.show(project, number)) as GitLabMergeRequest));

  return {
    kind: 'gitlab',
    findPullRequest: (head, base) =>
      call(`looking up the merge request from ${head}`, async () => {
        const list = (await mergeRequests.all({ projectId: project, sourceBranch: head, targetBranch: base, orderBy: 'created_at', sort: 'desc', perPage: 100, maxPages: 1 })) as GitLabMergeRequest[];
        const ours = list.filter((m) => m.source_branch === head && m.target_branch === base);
        return ours.length ? toPullRequest(ours[0]!) : undefined;
      }),
    getPullRequest,
    openPullRequest: (spec) =>
      call(`opening a merge request from ${spec.head}`, async () => toPullRequest((await mergeRequests.create(project, spec.head, spec.base, spec.title, { description: spec.body })) as GitLabMergeRequest)),
    updatePullRequest: (number, change) =>
      call(`updating merge request !${number}`, async () => toPullRequest((await mergeRequests.edit(project, number, { title: change.title, description: change.body })) as GitLabMergeRequest)),
    mergePullRequest: async (number, method: MergeMethod) => {
      // GitLab's merge method (merge commit, semi-linear, fast-forward) is a project setting; squash is per merge request
      await call(`merging merge request !${number}`, () => mergeRequests.accept(project, number, method === 'squash' ? { squash: true } : {}));
      return getPullRequest(number);
    },
    setCommitStatus: (status) =>
      call(`posting the commit status ${status.context}`, async () => {
        await commits.editStatus(project, status.sha, TO_GITLAB_STATE[status.state], {
          name: status.context,
          description: status.description,
          ...(status.targetUrl ? { targetUrl: status.targetUrl } : {}),
        });
      }),
    listCommitStatuses: (sha) =>
      call(`reading the commit statuses of ${sha.slice(0, 12)}`, async () => {
        const list = (await commits.allStatuses(project, sha)) as { status: string; name: string; description?: string | null; target_url?: string | null; id: number }[];
        // newest first, as the Forge interface promises (GitLab lists oldest first)
        return [...list].sort((a, b) => b.id - a.id).map(
          (s): CommitStatus => ({ sha, state: FROM_GITLAB_STATE[s.status] ?? 'pending', context: s.name, description: s.description ?? '', ...(s.target_url ? { targetUrl: s.target_url } : {}) }),
        );
      }),
  };
}
