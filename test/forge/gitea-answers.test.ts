/**
 * What the Gitea driver does with answers a healthy Gitea does not give (a proxy's HTML page, a
 * wrong type, an unknown state, a message that echoes the token): FORGE_FAILED every time, the
 * token never in it. The happy paths run against a real Gitea in test/e2e-real/gitea-real.test.ts;
 * a real Gitea cannot be made to answer like this, so a plain HTTP server does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OsvError } from '../../src/errors.js';
import { createGiteaForge } from '../../src/forge/gitea.js';
import type { Forge } from '../../src/forge/types.js';

const TOKEN = '0123456789abcdef0123456789abcdef01234567';
const SHA = 'a'.repeat(40);

function pull(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    number: 7,
    html_url: 'http://forge/o/r/pulls/7',
    state: 'open',
    merged: false,
    title: 't',
    body: null,
    head: { ref: 'phase', sha: SHA, repo_id: 1 },
    base: { ref: 'main', sha: SHA, repo_id: 1 },
    ...overrides,
  };
}

/** Answers by path: `/pulls/<n>` with the body registered for n. */
const answers = new Map<string, { status: number; type: string; body: string }>();
const seenAuth: string[] = [];
let server: Server;
let forge: Forge;

beforeAll(async () => {
  server = createServer((req, res) => {
    seenAuth.push(req.headers.authorization ?? '');
    const path = (req.url ?? '').replace(/\?.*$/, '').replace(/^\/api\/v1\/repos\/o\/r/, '');
    const answer = answers.get(path) ?? { status: 404, type: 'application/json', body: '{"message":"not found"}' };
    res.writeHead(answer.status, { 'Content-Type': answer.type });
    res.end(answer.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  forge = createGiteaForge({ kind: 'gitea', apiUrl: `http://127.0.0.1:${port}/api/v1/`, repository: { owner: 'o', name: 'r' }, token: TOKEN });
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

function answer(path: string, body: unknown, status = 200, type = 'application/json'): void {
  answers.set(path, { status, type, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function failure(p: Promise<unknown>): Promise<OsvError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OsvError);
  const err = e as OsvError;
  expect(err.code).toBe('FORGE_FAILED');
  expect(`${err.message} ${err.hint ?? ''} ${JSON.stringify(err.toJSON())}`).not.toContain(TOKEN);
  return err;
}

describe('Gitea driver: answers it must not trust', () => {
  it('reads a well-formed pull request, sends the token as a header only, and trims the API URL', async () => {
    answer('/pulls/7', pull());
    expect(await forge.getPullRequest(7)).toEqual({ number: 7, url: 'http://forge/o/r/pulls/7', state: 'open', title: 't', body: '', head: 'phase', base: 'main', headSha: SHA });
    expect(seenAuth.at(-1)).toBe(`token ${TOKEN}`);
  });

  it('takes merged from the merged flag, and then requires the merge commit', async () => {
    answer('/pulls/8', pull({ number: 8, state: 'closed', merged: true, merge_commit_sha: 'b'.repeat(40) }));
    expect((await forge.getPullRequest(8)).mergeCommitSha).toBe('b'.repeat(40));
    answer('/pulls/9', pull({ number: 9, state: 'closed', merged: true, merge_commit_sha: null }));
    expect((await failure(forge.getPullRequest(9))).message).toMatch(/merge_commit_sha is not a commit SHA/);
  });

  it.each([
    ['a number as a string', pull({ number: '7' }), /number is not a positive integer/],
    ['an unknown state', pull({ state: 'draft' }), /state "draft"/],
    ['a head SHA that is not one', pull({ head: { ref: 'phase', sha: 'HEAD', repo_id: 1 } }), /head: sha is not a commit SHA/],
    ['no head at all', pull({ head: null }), /head: not an object/],
    ['a list instead of an object', [pull()], /not an object/],
  ])('refuses %s', async (_name, body, message) => {
    answer('/pulls/7', body);
    expect((await failure(forge.getPullRequest(7))).message).toMatch(message);
  });

  it('refuses a body that is not JSON (a proxy page)', async () => {
    answer('/pulls/7', '<html>login</html>', 200, 'text/html');
    expect((await failure(forge.getPullRequest(7))).message).toMatch(/not JSON/);
  });

  it("quotes the forge's message with the status, one bounded line, with the token cut out", async () => {
    answer('/pulls/7', { message: `bad token ${TOKEN}\nsecond line ${'x'.repeat(500)}` }, 500);
    const e = await failure(forge.getPullRequest(7));
    expect(e.message).toMatch(/^Gitea: GET \/repos\/o\/r\/pulls\/7: HTTP 500: bad token \*\*\* second line x+…$/);
    expect(e.message.length).toBeLessThan(400);
  });

  it('leaves out commit statuses in states we never write, and sorts the rest by context', async () => {
    answer(`/commits/${SHA}/status`, {
      state: 'pending',
      statuses: [
        { id: 3, status: 'warning', context: 'ci/lint', description: 'w', target_url: '' },
        { id: 2, status: 'success', context: 'osv/b', description: null, target_url: '' },
        { id: 1, status: 'pending', context: 'osv/a', description: 'd', target_url: 'http://x/1' },
      ],
    });
    expect(await forge.listCommitStatuses(SHA)).toEqual([
      { sha: SHA, state: 'pending', context: 'osv/a', description: 'd', targetUrl: 'http://x/1' },
      { sha: SHA, state: 'success', context: 'osv/b', description: '' },
    ]);
  });
});
