/**
 * A local HTTP server standing in for api.github.com, over a real bare Git repository. Every
 * request it receives and every response it sends is checked against GitHub's OpenAPI description
 * (test/forge/github-openapi.json); the problems are collected in `violations`, which a test
 * expects empty. A request the description does not allow is answered 422, as GitHub would.
 *
 * Merges are done the way GitHub does them, in the bare repository: a merge commit, a squash
 * commit whose message is the pull request's title and description, or a rebase that replays the
 * head's commits on the base with new SHAs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MergeMethod } from '../../src/forge/types.js';
import { OpenApiCheck } from './openapi-check.js';

export const GITHUB_OPENAPI = join(import.meta.dirname, 'github-openapi.json');

interface Pull {
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  mergedAt: string | null;
  mergeCommitSha: string | null;
  /** Frozen when the pull request is merged or closed; read from the branch while open. */
  headSha: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

interface Status {
  id: number;
  sha: string;
  state: string;
  context: string;
  description: string | null;
  targetUrl: string | null;
  at: string;
}

export interface StandInRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body: unknown;
  readonly authorization: string | undefined;
}

function git(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', ...(input !== undefined ? { input } : {}), env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'GitHub', GIT_AUTHOR_EMAIL: 'noreply@github.invalid', GIT_COMMITTER_NAME: 'GitHub', GIT_COMMITTER_EMAIL: 'noreply@github.invalid' } }).trim();
}

export class GitHubStandIn {
  readonly check = new OpenApiCheck(GITHUB_OPENAPI);
  readonly violations: string[] = [];
  readonly requests: StandInRequest[] = [];
  private readonly pulls: Pull[] = [];
  private readonly statuses: Status[] = [];
  private server: Server | undefined;
  private clock = Date.parse('2026-11-25T08:00:00Z');
  url = '';
  /** A test seam: fail the next requests matching (method, path regexp) with this status. */
  failNext: { method: string; path: RegExp; status: number; times: number } | undefined;

  constructor(
    readonly bare: string,
    readonly owner: string,
    readonly repo: string,
    readonly token: string,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        // a stand-in bug must fail the test, not hang the client
        this.violations.push(`the stand-in failed: ${String(e)}`);
        res.writeHead(500).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  pull(number: number): Pull | undefined {
    return this.pulls.find((p) => p.number === number);
  }

  pullsOf(head: string): readonly Pull[] {
    return this.pulls.filter((p) => p.head === head);
  }

  get pullCount(): number {
    return this.pulls.length;
  }

  statusesOf(sha: string): readonly Status[] {
    return this.statuses.filter((s) => s.sha === sha);
  }

  private branchSha(branch: string): string | undefined {
    try {
      return git(this.bare, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]);
    } catch {
      return undefined;
    }
  }

  /** Close without merging (a reviewer said no). */
  close(number: number): void {
    const p = this.pull(number)!;
    p.headSha = this.branchSha(p.head) ?? p.headSha;
    Object.assign(p, { state: 'closed', closedAt: this.now(), updatedAt: this.now() });
  }

  /** Merge as GitHub does, moving the base branch of the bare repository; returns the new base tip. */
  merge(number: number, method: MergeMethod, squashMessage?: string): string {
    const p = this.pull(number)!;
    if (p.state !== 'open') throw new Error(`#${number} is not open`);
    const headSha = this.branchSha(p.head)!;
    const work = mkdtempSync(join(tmpdir(), 'osv-standin-merge-'));
    try {
      git(work, ['clone', '--quiet', '--branch', p.base, `file://${this.bare}`, '.']);
      git(work, ['fetch', '--quiet', 'origin', `refs/heads/${p.head}:refs/remotes/origin/${p.head}`]);
      if (method === 'merge') {
        git(work, ['merge', '--quiet', '--no-ff', '-m', `Merge pull request #${number} from ${this.owner}/${p.head}\n\n${p.title}`, `origin/${p.head}`]);
      } else if (method === 'squash') {
        git(work, ['merge', '--quiet', '--squash', `origin/${p.head}`]);
        // GitHub's "Pull request title and description" squash message
        git(work, ['commit', '--quiet', '-F', '-'], squashMessage ?? `${p.title} (#${number})\n\n${p.body}`);
      } else {
        git(work, ['checkout', '--quiet', '-b', 'replay', `origin/${p.head}`]);
        // a later committer date, so every replayed commit gets a new SHA even on an unchanged base
        this.clock += 60_000;
        execFileSync('git', ['rebase', '--quiet', '--force-rebase', p.base], { cwd: work, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_COMMITTER_NAME: 'GitHub', GIT_COMMITTER_EMAIL: 'noreply@github.invalid', GIT_COMMITTER_DATE: new Date(this.clock).toISOString() } });
        git(work, ['checkout', '--quiet', p.base]);
        git(work, ['merge', '--quiet', '--ff-only', 'replay']);
      }
      git(work, ['push', '--quiet', 'origin', `HEAD:refs/heads/${p.base}`]);
      const tip = git(work, ['rev-parse', 'HEAD']);
      Object.assign(p, { state: 'closed', mergedAt: this.now(), closedAt: this.now(), updatedAt: this.now(), mergeCommitSha: tip, headSha });
      return tip;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  // -------------------------------------------------------------------------------------------
  // the HTTP side

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      this.violations.push(`${req.method} ${url.pathname}: the body is not JSON`);
    }
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), body, authorization: req.headers.authorization });
    const send = (status: number, payload?: unknown) => {
      const found = this.check.find(method, url.pathname);
      if (found) this.violations.push(...this.check.checkResponse(found, status, payload));
      res.writeHead(status, payload === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    if (req.headers.authorization !== `token ${this.token}` && req.headers.authorization !== `Bearer ${this.token}`) {
      // 401 is not described for these operations: answer it without checking (GitHub's shape)
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' }));
      return;
    }
    const problems = this.check.checkRequest(method, url, body, req.headers['content-type']);
    if (problems.length) {
      this.violations.push(...problems);
      return send(422, { message: 'Validation Failed', documentation_url: 'https://docs.github.com/rest', errors: problems.map((p) => ({ code: 'invalid', message: p })) });
    }
    const f = this.failNext;
    if (f && f.method === method && f.path.test(url.pathname) && f.times > 0) {
      f.times--;
      // an injected fault, in GitHub's error shape; not every operation describes every status
      res.writeHead(f.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'injected failure', documentation_url: 'https://docs.github.com/rest' }));
      return;
    }
    const found = this.check.find(method, url.pathname)!;
    const prefix = `/repos/${this.owner}/${this.repo}`;
    if (found.pathParams['owner'] !== this.owner || found.pathParams['repo'] !== this.repo) return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    const op = `${method} ${found.operation.template}`;
    const b = (body ?? {}) as Record<string, unknown>;
    const number = Number(found.pathParams['pull_number']);
    const pull = this.pull(number);
    switch (op) {
      case 'GET /repos/{owner}/{repo}/pulls': {
        const q = Object.fromEntries(url.searchParams);
        const state = q['state'] ?? 'open';
        let list = this.pulls.filter((p) => (state === 'all' || p.state === state) && (q['base'] === undefined || p.base === q['base']));
        if (q['head'] !== undefined) list = list.filter((p) => `${this.owner}:${p.head}` === q['head']);
        list = [...list].sort((x, y) => (q['direction'] === 'asc' ? x.number - y.number : y.number - x.number));
        return send(200, list.map((p) => this.pullJson(p, false)));
      }
      case 'POST /repos/{owner}/{repo}/pulls': {
        const head = String(b['head']);
        const base = String(b['base']);
        if (!this.branchSha(head) || !this.branchSha(base)) return send(422, { message: 'Validation Failed', documentation_url: 'https://docs.github.com/rest', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] });
        if (this.pulls.some((p) => p.head === head && p.base === base && p.state === 'open')) {
          return send(422, { message: 'Validation Failed', documentation_url: 'https://docs.github.com/rest', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${this.owner}:${head}.` }] });
        }
        const at = this.now();
        const p: Pull = { number: this.pulls.length + 1, head, base, title: String(b['title'] ?? ''), body: String(b['body'] ?? ''), state: 'open', mergedAt: null, mergeCommitSha: null, headSha: null, createdAt: at, updatedAt: at, closedAt: null };
        this.pulls.push(p);
        return send(201, this.pullJson(p, true));
      }
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}':
        return pull ? send(200, this.pullJson(pull, true)) : send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      case 'PATCH /repos/{owner}/{repo}/pulls/{pull_number}': {
        if (!pull) return send(422, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
        if (typeof b['title'] === 'string') pull.title = b['title'];
        if (typeof b['body'] === 'string') pull.body = b['body'];
        if (b['state'] === 'closed' && pull.state === 'open') this.close(number);
        pull.updatedAt = this.now();
        return send(200, this.pullJson(pull, true));
      }
      case 'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge': {
        if (!pull) return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
        if (pull.state !== 'open') return send(405, { message: 'Pull Request is not mergeable', documentation_url: 'https://docs.github.com/rest' });
        const sha = this.merge(number, (b['merge_method'] as MergeMethod | undefined) ?? 'merge');
        return send(200, { sha, merged: true, message: 'Pull Request successfully merged' });
      }
      case 'POST /repos/{owner}/{repo}/statuses/{sha}': {
        const sha = found.pathParams['sha']!;
        try {
          git(this.bare, ['cat-file', '-e', `${sha}^{commit}`]);
        } catch {
          // GitHub answers 422 "No commit found for SHA"; the description lists only 201 here
          res.writeHead(422, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: `No commit found for SHA: ${sha}`, documentation_url: 'https://docs.github.com/rest' }));
          return;
        }
        const s: Status = { id: this.statuses.length + 1, sha, state: String(b['state']), context: String(b['context'] ?? 'default'), description: (b['description'] as string | undefined) ?? null, targetUrl: (b['target_url'] as string | undefined) ?? null, at: this.now() };
        this.statuses.push(s);
        return send(201, this.statusJson(s));
      }
      case 'GET /repos/{owner}/{repo}/commits/{ref}/statuses': {
        const ref = found.pathParams['ref']!;
        return send(200, this.statuses.filter((s) => s.sha === ref).reverse().map((s) => this.statusJson(s)));
      }
      default:
        this.violations.push(`${op}: the stand-in does not serve it (${prefix})`);
        return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    }
  }

  // -------------------------------------------------------------------------------------------
  // GitHub's objects, with every field the description requires

  private user(login: string, id: number) {
    const api = `${this.url}/users/${login}`;
    return {
      login, id, node_id: `U_${id}`, avatar_url: `https://avatars.example.invalid/u/${id}`, gravatar_id: '', url: api, html_url: `https://github.example.invalid/${login}`,
      followers_url: `${api}/followers`, following_url: `${api}/following{/other_user}`, gists_url: `${api}/gists{/gist_id}`, starred_url: `${api}/starred{/owner}{/repo}`,
      subscriptions_url: `${api}/subscriptions`, organizations_url: `${api}/orgs`, repos_url: `${api}/repos`, events_url: `${api}/events{/privacy}`,
      received_events_url: `${api}/received_events`, type: 'User', site_admin: false,
    };
  }

  private repository() {
    const api = `${this.url}/repos/${this.owner}/${this.repo}`;
    const urls = ['archive', 'assignees', 'blobs', 'branches', 'collaborators', 'comments', 'commits', 'compare', 'contents', 'contributors', 'deployments', 'downloads', 'events', 'forks', 'git_commits', 'git_refs', 'git_tags', 'hooks', 'issue_comment', 'issue_events', 'issues', 'keys', 'labels', 'languages', 'merges', 'milestones', 'notifications', 'pulls', 'releases', 'stargazers', 'statuses', 'subscribers', 'subscription', 'tags', 'teams', 'trees'];
    return {
      id: 1, node_id: 'R_1', name: this.repo, full_name: `${this.owner}/${this.repo}`, owner: this.user(this.owner, 1), private: true, description: null, fork: false,
      url: api, html_url: `https://github.example.invalid/${this.owner}/${this.repo}`,
      ...Object.fromEntries(urls.map((u) => [`${u}_url`, `${api}/${u}`])),
      clone_url: `https://github.example.invalid/${this.owner}/${this.repo}.git`, git_url: `git://github.example.invalid/${this.owner}/${this.repo}.git`,
      ssh_url: `git@github.example.invalid:${this.owner}/${this.repo}.git`, svn_url: `https://github.example.invalid/${this.owner}/${this.repo}`, mirror_url: null,
      homepage: null, language: null, forks: 0, forks_count: 0, stargazers_count: 0, watchers: 0, watchers_count: 0, size: 1, default_branch: 'main',
      open_issues: 0, open_issues_count: 0, has_issues: true, has_projects: false, has_wiki: false, has_pages: false, has_downloads: false, archived: false, disabled: false,
      license: null, pushed_at: '2026-11-25T08:00:00Z', created_at: '2026-11-25T08:00:00Z', updated_at: '2026-11-25T08:00:00Z',
    };
  }

  private pullJson(p: Pull, full: boolean) {
    const api = `${this.url}/repos/${this.owner}/${this.repo}`;
    const html = `https://github.example.invalid/${this.owner}/${this.repo}/pull/${p.number}`;
    const headSha = p.headSha ?? this.branchSha(p.head) ?? '0'.repeat(40);
    const baseSha = this.branchSha(p.base) ?? '0'.repeat(40);
    const link = (href: string) => ({ href });
    const repo = this.repository();
    const owner = this.user(this.owner, 1);
    const simple = {
      url: `${api}/pulls/${p.number}`, id: 1000 + p.number, node_id: `PR_${p.number}`, html_url: html, diff_url: `${html}.diff`, patch_url: `${html}.patch`,
      issue_url: `${api}/issues/${p.number}`, commits_url: `${api}/pulls/${p.number}/commits`, review_comments_url: `${api}/pulls/${p.number}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`, comments_url: `${api}/issues/${p.number}/comments`, statuses_url: `${api}/statuses/${headSha}`,
      number: p.number, state: p.state, locked: false, title: p.title, user: this.user('osv-gitops-bot', 2), body: p.body || null, labels: [], milestone: null,
      created_at: p.createdAt, updated_at: p.updatedAt, closed_at: p.closedAt, merged_at: p.mergedAt, merge_commit_sha: p.mergeCommitSha,
      assignee: null, assignees: [], requested_reviewers: [], requested_teams: [],
      head: { label: `${this.owner}:${p.head}`, ref: p.head, sha: headSha, user: owner, repo },
      base: { label: `${this.owner}:${p.base}`, ref: p.base, sha: baseSha, user: owner, repo },
      _links: {
        self: link(`${api}/pulls/${p.number}`), html: link(html), issue: link(`${api}/issues/${p.number}`), comments: link(`${api}/issues/${p.number}/comments`),
        review_comments: link(`${api}/pulls/${p.number}/comments`), review_comment: link(`${api}/pulls/comments{/number}`), commits: link(`${api}/pulls/${p.number}/commits`),
        statuses: link(`${api}/statuses/${headSha}`),
      },
      author_association: 'MEMBER', auto_merge: null, draft: false,
    };
    if (!full) return simple;
    return {
      ...simple, merged: p.mergedAt !== null, mergeable: p.state === 'open' ? true : null, rebaseable: p.state === 'open' ? true : null, mergeable_state: p.state === 'open' ? 'clean' : 'unknown',
      merged_by: p.mergedAt ? this.user('reviewer', 3) : null, comments: 0, review_comments: 0, maintainer_can_modify: false, commits: 1, additions: 1, deletions: 0, changed_files: 1,
    };
  }

  private statusJson(s: Status) {
    return {
      url: `${this.url}/repos/${this.owner}/${this.repo}/statuses/${s.sha}`, avatar_url: null, id: s.id, node_id: `SC_${s.id}`, state: s.state,
      description: s.description, target_url: s.targetUrl, context: s.context, created_at: s.at, updated_at: s.at, creator: this.user('osv-gitops-bot', 2),
    };
  }
}
