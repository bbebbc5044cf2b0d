/**
 * The one interface `advance --pull-request` talks to, whatever the forge (GitHub, GitLab,
 * Gitea/Forgejo). Drivers wrap the forge's own client; they take validated values only and never
 * log or return the token.
 */

export type ForgeKind = 'github' | 'gitlab' | 'gitea';

/**
 * How a pull request was (or is to be) merged. The SHA never survives; the trailers survive a merge
 * and a rebase, and a squash only when its message keeps them (Gitea's API squash keeps only the
 * title unless the driver sends the message; GitLab's default squash template is the title).
 */
export type MergeMethod = 'merge' | 'squash' | 'rebase';

/** A repository on a forge: `owner/name` (GitLab: the full namespace path and project name). */
export interface ForgeRepository {
  readonly owner: string;
  readonly name: string;
}

export interface ForgeConfig {
  readonly kind: ForgeKind;
  /** API base URL, validated (e.g. https://api.github.com, https://gitlab.example/api/v4, http://127.0.0.1:3000/api/v1). */
  readonly apiUrl: string;
  readonly repository: ForgeRepository;
  /** Read from the environment variable the user named; never written, logged or put in an error. */
  readonly token: string;
}

export type PullRequestState = 'open' | 'merged' | 'closed';

export interface PullRequest {
  /** The forge's number (GitHub/Gitea `number`, GitLab `iid`). */
  readonly number: number;
  readonly url: string;
  readonly state: PullRequestState;
  readonly title: string;
  readonly body: string;
  /** Branch names, without `refs/heads/`. */
  readonly head: string;
  readonly base: string;
  readonly headSha: string;
  /** The commit on `base` that the merge made (merge commit, squash commit or last rebased commit). */
  readonly mergeCommitSha?: string;
}

export interface PullRequestSpec {
  readonly head: string;
  readonly base: string;
  readonly title: string;
  readonly body: string;
}

/** A commit status (GitHub/Gitea "status", GitLab "commit status"). */
export type CommitStatusState = 'pending' | 'success' | 'failure' | 'error';

export interface CommitStatusSpec {
  readonly sha: string;
  readonly state: CommitStatusState;
  /** Stable per gate, e.g. `osv-gitops/gate/<phase-id>`, so a later verdict replaces the earlier one. */
  readonly context: string;
  readonly description: string;
  readonly targetUrl?: string;
}

export type CommitStatus = CommitStatusSpec;

export interface Forge {
  readonly kind: ForgeKind;
  /** The pull request from `head` into `base`, open or not, newest first; undefined when there is none. */
  findPullRequest(head: string, base: string): Promise<PullRequest | undefined>;
  getPullRequest(number: number): Promise<PullRequest>;
  openPullRequest(spec: PullRequestSpec): Promise<PullRequest>;
  /** Title and body only: the head branch is moved by `git push`, never through the API. */
  updatePullRequest(number: number, change: { readonly title: string; readonly body: string }): Promise<PullRequest>;
  /** Used by tests and by users who let osv-gitops merge (`--merge`); branch protection still applies. */
  mergePullRequest(number: number, method: MergeMethod): Promise<PullRequest>;
  setCommitStatus(status: CommitStatusSpec): Promise<void>;
  listCommitStatuses(sha: string): Promise<readonly CommitStatus[]>;
}
