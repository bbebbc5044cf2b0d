/**
 * The Gitea (and Forgejo) driver of the Forge interface, over Gitea's REST API v1 with Node's own
 * fetch: Gitea has no well-kept official JavaScript client. Every answer is checked before use
 * (numbers, states, SHAs); every failure is an `OsvError('FORGE_FAILED')` with the HTTP status and
 * Gitea's message, never the token. Every request has a timeout.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { OsvError } from '../errors.js';
import { escapeControls } from '../validate/quote.js';
import type { CommitStatus, CommitStatusSpec, CommitStatusState, Forge, ForgeConfig, MergeMethod, PullRequest, PullRequestSpec, PullRequestState } from './types.js';

const REQUEST_TIMEOUT_MS = 30_000;
/** Gitea's default MAX_RESPONSE_ITEMS: a larger `limit` is cut to it anyway. */
const PAGE_SIZE = 50;
/** Bounds the pages read for one listing. */
const MAX_PAGES = 40;
/**
 * A pull request is "checking" (conflict test) for a moment after it is opened or its head moves;
 * Gitea then answers a merge with 405 "Please try again later". Retried for this long.
 */
const MERGE_RETRY_MS = 60_000;
/** Some Gitea releases merge in a queue: the pull request is read back until `merged` for this long. */
const MERGED_READBACK_MS = 60_000;
const POLL_MS = 500;
/** Longest part of the forge's own message quoted in an error. */
const MESSAGE_MAX = 300;
/** SHA-1 or SHA-256 object names (Gitea supports both object formats). */
const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const STATUS_STATES: ReadonlySet<string> = new Set<CommitStatusState>(['pending', 'success', 'failure', 'error']);

type Fields = Record<string, unknown>;

interface Answer {
  readonly status: number;
  readonly text: string;
}

export function createGiteaForge(config: ForgeConfig): Forge {
  const repoPath = `/repos/${encodeURIComponent(config.repository.owner)}/${encodeURIComponent(config.repository.name)}`;
  const api = new GiteaApi(config.apiUrl.replace(/\/+$/, ''), config.token);

  const getPullRequest = async (number: number): Promise<PullRequest> =>
    toPullRequest(await api.call('GET', `${repoPath}/pulls/${number}`), `pull request #${number}`);

  return {
    kind: 'gitea',

    async findPullRequest(head: string, base: string): Promise<PullRequest | undefined> {
      // Gitea lists newest first by default: the first page with a match holds the newest one.
      for (let page = 1; page <= MAX_PAGES; page++) {
        const query = new URLSearchParams({ state: 'all', base_branch: base, limit: String(PAGE_SIZE), page: String(page) });
        const items = arrayOf(await api.call('GET', `${repoPath}/pulls?${query.toString()}`), 'pull request list');
        const matches = items
          .filter((item) => isSameRepoHead(item, head, base))
          .map((item) => toPullRequest(item, 'pull request list item'));
        if (matches.length > 0) return matches.reduce((a, b) => (b.number > a.number ? b : a));
        if (items.length < PAGE_SIZE) return undefined;
      }
      return undefined;
    },

    getPullRequest,

    async openPullRequest(spec: PullRequestSpec): Promise<PullRequest> {
      const body = { head: spec.head, base: spec.base, title: spec.title, body: spec.body };
      return toPullRequest(await api.call('POST', `${repoPath}/pulls`, body), 'new pull request');
    },

    async updatePullRequest(number: number, change: { readonly title: string; readonly body: string }): Promise<PullRequest> {
      const body = { title: change.title, body: change.body };
      return toPullRequest(await api.call('PATCH', `${repoPath}/pulls/${number}`, body), `pull request #${number}`);
    },

    async mergePullRequest(number: number, method: MergeMethod): Promise<PullRequest> {
      const pr = await getPullRequest(number);
      if (pr.state !== 'open') throw forgeError(`Gitea: pull request #${number} is ${pr.state}, not open: nothing to merge`);
      // head_commit_id: merge exactly the head read here, or fail if someone pushed meanwhile.
      const form: Fields = { Do: method, head_commit_id: pr.headSha };
      // Gitea's API squashes with the title alone; the head commit's message as the body keeps
      // its trailers (Osv-Update-Target, Osv-Update-Phase) on the squash commit.
      if (method === 'squash') form['merge_message_field'] = await headCommitMessage(pr.headSha);
      await mergeWhenReady(api, `${repoPath}/pulls/${number}/merge`, form);
      const deadline = Date.now() + MERGED_READBACK_MS;
      for (;;) {
        const after = await getPullRequest(number);
        if (after.state === 'merged') return after;
        if (Date.now() > deadline) throw forgeError(`Gitea accepted the merge of pull request #${number} but it is still ${after.state} after ${MERGED_READBACK_MS / 1000}s`);
        await sleep(POLL_MS);
      }
    },

    async setCommitStatus(status: CommitStatusSpec): Promise<void> {
      const body: Fields = { state: status.state, context: status.context, description: status.description };
      if (status.targetUrl !== undefined) body['target_url'] = status.targetUrl;
      await api.call('POST', `${repoPath}/statuses/${encodeURIComponent(status.sha)}`, body);
    },

    /** The latest status of each context (Gitea's combined status), sorted by context. */
    async listCommitStatuses(sha: string): Promise<readonly CommitStatus[]> {
      const statuses: CommitStatus[] = [];
      for (let page = 1; page <= MAX_PAGES; page++) {
        const query = new URLSearchParams({ limit: String(PAGE_SIZE), page: String(page) });
        const combined = objectOf(await api.call('GET', `${repoPath}/commits/${encodeURIComponent(sha)}/status?${query.toString()}`), 'combined status');
        const items = combined['statuses'] === null || combined['statuses'] === undefined ? [] : arrayOf(combined['statuses'], 'combined status: statuses');
        for (const item of items) {
          const status = toCommitStatus(item, sha);
          if (status) statuses.push(status);
        }
        if (items.length < PAGE_SIZE) break;
      }
      return statuses.sort((a, b) => (a.context < b.context ? -1 : a.context > b.context ? 1 : 0));
    },
  };

  async function headCommitMessage(sha: string): Promise<string> {
    const query = new URLSearchParams({ stat: 'false', verification: 'false', files: 'false' });
    const answer = objectOf(await api.call('GET', `${repoPath}/git/commits/${encodeURIComponent(sha)}?${query.toString()}`), `commit ${sha}`);
    return text(objectOf(answer['commit'], `commit ${sha}: commit`), 'message', `commit ${sha}`);
  }
}

/** Merges, retrying while Gitea still checks the pull request for conflicts (405 "try again later"). */
async function mergeWhenReady(api: GiteaApi, path: string, form: Fields): Promise<void> {
  const deadline = Date.now() + MERGE_RETRY_MS;
  for (;;) {
    const answer = await api.send('POST', path, form);
    if (answer.status >= 200 && answer.status < 300) return;
    const stillChecking = answer.status === 405 && /try again later/i.test(forgeMessage(answer.text));
    if (!stillChecking || Date.now() > deadline) throw api.httpError('POST', path, answer);
    await sleep(POLL_MS);
  }
}

/** The HTTP edge: one place that holds the token, sets the timeout and turns failures into errors. */
class GiteaApi {
  readonly #base: string;
  readonly #token: string;

  constructor(base: string, token: string) {
    this.#base = base;
    this.#token = token;
  }

  /** The parsed JSON of a 2xx answer (undefined when empty), or FORGE_FAILED. */
  async call(method: string, path: string, body?: Fields): Promise<unknown> {
    const answer = await this.send(method, path, body);
    if (answer.status < 200 || answer.status >= 300) throw this.httpError(method, path, answer);
    if (answer.text.trim() === '') return undefined;
    try {
      return JSON.parse(answer.text) as unknown;
    } catch {
      throw forgeError(`Gitea answered ${method} ${pathOnly(path)} with a body that is not JSON`);
    }
  }

  async send(method: string, path: string, body?: Fields): Promise<Answer> {
    const headers: Record<string, string> = { Accept: 'application/json', Authorization: `token ${this.#token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      const res = await fetch(`${this.#base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        // a redirect could carry the token elsewhere: the API URL must be the final one
        redirect: 'error',
      });
      return { status: res.status, text: await res.text() };
    } catch (e) {
      throw forgeError(`Gitea: ${method} ${pathOnly(path)} failed: ${this.#redact(transportReason(e))}`);
    }
  }

  httpError(method: string, path: string, answer: Answer): OsvError {
    const message = this.#redact(forgeMessage(answer.text));
    const hint =
      answer.status === 401 || answer.status === 403
        ? 'check the token (the environment variable named in the forge settings) and that it has the write:repository scope'
        : answer.status === 404
          ? 'check the API URL and the repository owner/name, and that the token can see the repository'
          : undefined;
    return forgeError(`Gitea: ${method} ${pathOnly(path)}: HTTP ${answer.status}${message ? `: ${message}` : ''}`, hint);
  }

  /** The forge may echo what it was sent; the token never leaves in a message. */
  #redact(text: string): string {
    return this.#token === '' ? text : text.split(this.#token).join('***');
  }
}

function forgeError(message: string, hint?: string): OsvError {
  return new OsvError('FORGE_FAILED', message, hint ? { hint } : {});
}

/** The path without its query: short, and all a reader needs to place the error. */
function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

/** Gitea's `{"message": ...}` (with `errors` for validation failures), else the raw text; one line, bounded. */
function forgeMessage(body: string): string {
  let message = body;
  try {
    const parsed = JSON.parse(body) as unknown;
    if (isFields(parsed)) {
      const parts = [parsed['message'], ...(Array.isArray(parsed['errors']) ? parsed['errors'] : [])].filter((p): p is string => typeof p === 'string' && p !== '');
      if (parts.length > 0) message = parts.join('; ');
    }
  } catch {
    // not JSON: the raw text
  }
  const line = escapeControls(message.trim().replace(/\s+/g, ' '));
  return line.length > MESSAGE_MAX ? `${line.slice(0, MESSAGE_MAX)}…` : line;
}

function transportReason(e: unknown): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return `no answer within ${REQUEST_TIMEOUT_MS / 1000}s`;
  const cause = e instanceof Error ? (e.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return escapeControls(cause.message);
  return e instanceof Error ? escapeControls(e.message) : 'unknown error';
}

// ---- reading Gitea's JSON: checked once here, typed values onwards

function isFields(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unexpected(what: string, detail: string): OsvError {
  return forgeError(`Gitea answered with an unexpected ${what}: ${detail}`);
}

function objectOf(v: unknown, what: string): Fields {
  if (!isFields(v)) throw unexpected(what, 'not an object');
  return v;
}

function arrayOf(v: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(v)) throw unexpected(what, 'not a list');
  return v;
}

function text(o: Fields, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw unexpected(what, `${key} is not a string`);
  return v;
}

/** Optional text fields (a PR body, a status description) come as "" or null. */
function optionalText(o: Fields, key: string, what: string): string {
  const v = o[key];
  if (v === null || v === undefined) return '';
  return text(o, key, what);
}

function positiveInteger(o: Fields, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw unexpected(what, `${key} is not a positive integer`);
  return v;
}

function sha(o: Fields, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string' || !SHA.test(v)) throw unexpected(what, `${key} is not a commit SHA`);
  return v;
}

/** A pull request whose head is `head` in the base repository itself (not a fork's branch of that name). */
function isSameRepoHead(item: unknown, head: string, base: string): boolean {
  if (!isFields(item) || !isFields(item['head']) || !isFields(item['base'])) return false;
  const h = item['head'];
  const b = item['base'];
  return h['ref'] === head && b['ref'] === base && typeof h['repo_id'] === 'number' && h['repo_id'] === b['repo_id'];
}

function toPullRequest(v: unknown, what: string): PullRequest {
  const o = objectOf(v, what);
  const head = objectOf(o['head'], `${what}: head`);
  const base = objectOf(o['base'], `${what}: base`);
  const rawState = text(o, 'state', what);
  if (rawState !== 'open' && rawState !== 'closed') throw unexpected(what, `state ${JSON.stringify(rawState).slice(0, 40)}`);
  if (o['merged'] !== undefined && typeof o['merged'] !== 'boolean') throw unexpected(what, 'merged is not a boolean');
  const state: PullRequestState = o['merged'] === true ? 'merged' : rawState;
  const mergeCommitSha = state === 'merged' ? sha(o, 'merge_commit_sha', what) : undefined;
  return {
    number: positiveInteger(o, 'number', what),
    url: text(o, 'html_url', what),
    state,
    title: text(o, 'title', what),
    body: optionalText(o, 'body', what),
    head: text(head, 'ref', `${what}: head`),
    base: text(base, 'ref', `${what}: base`),
    headSha: sha(head, 'sha', `${what}: head`),
    ...(mergeCommitSha === undefined ? {} : { mergeCommitSha }),
  };
}

/**
 * One entry of a combined status. Gitea also knows `warning` and `skipped`; a status in those
 * states was not written by us (we write the four of CommitStatusState) and is left out.
 */
function toCommitStatus(v: unknown, commit: string): CommitStatus | undefined {
  const what = 'commit status';
  const o = objectOf(v, what);
  const state = text(o, 'status', what);
  if (!STATUS_STATES.has(state)) return undefined;
  const targetUrl = optionalText(o, 'target_url', what);
  return {
    sha: commit,
    state: state as CommitStatusState,
    context: text(o, 'context', what),
    description: optionalText(o, 'description', what),
    ...(targetUrl === '' ? {} : { targetUrl }),
  };
}
