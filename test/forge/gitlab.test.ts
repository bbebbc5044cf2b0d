/**
 * The GitLab driver's requests, as a local server receives them: method, path, query, body and
 * the token header, checked against GitLab's REST API (merge requests, commit statuses).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitLabForge } from '../../src/forge/gitlab.js';

const TOKEN = 'glpat-standin-0123456789abcdef';
const SHA = 'a'.repeat(40);

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

const mr = (iid: number, state: string, extra: Record<string, unknown> = {}) => ({
  id: 100 + iid, iid, project_id: 7, web_url: `https://gitlab.example.invalid/platform/openstack/gitops/-/merge_requests/${iid}`, state, title: 't', description: 'd',
  source_branch: 'osv-update/1.0/01-a', target_branch: 'main', sha: SHA, merge_commit_sha: null, squash_commit_sha: null, ...extra,
});

describe('GitLab driver requests', () => {
  let server: Server;
  let url = '';
  const seen: Seen[] = [];
  let reply: (s: Seen) => [number, unknown] = () => [200, {}];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        const text = Buffer.concat(chunks).toString('utf8');
        // the raw path: the project path must arrive encoded as one segment
        const s: Seen = { method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, query: Object.fromEntries(u.searchParams), body: text ? (JSON.parse(text) as unknown) : undefined, headers: req.headers };
        seen.push(s);
        const [status, body] = reply(s);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v4`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const forge = () => createGitLabForge({ kind: 'gitlab', apiUrl: url, repository: { owner: 'platform/openstack', name: 'gitops' }, token: TOKEN });
  const project = '/api/v4/projects/platform%2Fopenstack%2Fgitops';

  it('finds, opens, updates and merges merge requests with the documented requests', async () => {
    const gl = forge();
    seen.length = 0;
    reply = (s) => (s.method === 'GET' && s.path.endsWith('/merge_requests') ? [200, [mr(3, 'merged', { merge_commit_sha: 'b'.repeat(40) }), mr(2, 'closed')]] : s.method === 'PUT' && s.path.endsWith('/merge') ? [200, mr(1, 'merged', { squash_commit_sha: 'c'.repeat(40) })] : s.method === 'GET' ? [200, mr(1, 'merged', { squash_commit_sha: 'c'.repeat(40) })] : [s.method === 'POST' ? 201 : 200, mr(1, 'opened', { title: 'phase 1 of 2: a', description: 'body' })]);
    const found = await gl.findPullRequest('osv-update/1.0/01-a', 'main');
    expect(found).toMatchObject({ number: 3, state: 'merged', mergeCommitSha: 'b'.repeat(40), head: 'osv-update/1.0/01-a', base: 'main' });
    const opened = await gl.openPullRequest({ head: 'osv-update/1.0/01-a', base: 'main', title: 'phase 1 of 2: a', body: 'body' });
    expect(opened).toMatchObject({ number: 1, state: 'open', title: 'phase 1 of 2: a', body: 'body' });
    await gl.updatePullRequest(1, { title: 'new', body: 'new body' });
    const merged = await gl.mergePullRequest(1, 'squash');
    expect(merged).toMatchObject({ state: 'merged', mergeCommitSha: 'c'.repeat(40) });
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      `GET ${project}/merge_requests`,
      `POST ${project}/merge_requests`,
      `PUT ${project}/merge_requests/1`,
      `PUT ${project}/merge_requests/1/merge`,
      `GET ${project}/merge_requests/1`,
    ]);
    expect(seen[0]!.query).toMatchObject({ source_branch: 'osv-update/1.0/01-a', target_branch: 'main', order_by: 'created_at', sort: 'desc' });
    expect(seen[1]!.body).toEqual({ source_branch: 'osv-update/1.0/01-a', target_branch: 'main', title: 'phase 1 of 2: a', description: 'body' });
    expect(seen[2]!.body).toEqual({ title: 'new', description: 'new body' });
    expect(seen[3]!.body).toEqual({ squash: true });
    for (const s of seen) {
      expect(s.headers['private-token']).toBe(TOKEN);
      expect(JSON.stringify([s.path, s.query, s.body])).not.toContain(TOKEN);
    }
  });

  it('posts and lists commit statuses (name = context, failed = failure), newest first', async () => {
    const gl = forge();
    seen.length = 0;
    reply = (s) =>
      s.method === 'POST'
        ? [201, { id: 9, sha: SHA, status: 'failed', name: 'osv-gitops/a' }]
        : [200, [{ id: 1, status: 'pending', name: 'osv-gitops/a', description: 'waiting', target_url: null }, { id: 2, status: 'failed', name: 'osv-gitops/a', description: 'failed', target_url: 'https://x.invalid' }]];
    await gl.setCommitStatus({ sha: SHA, state: 'failure', context: 'osv-gitops/a', description: 'gate failed', targetUrl: 'https://x.invalid' });
    const list = await gl.listCommitStatuses(SHA);
    expect(list.map((s) => s.state)).toEqual(['failure', 'pending']);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([`POST ${project}/statuses/${SHA}`, `GET ${project}/repository/commits/${SHA}/statuses`]);
    expect(seen[0]!.body).toEqual({ state: 'failed', name: 'osv-gitops/a', description: 'gate failed', target_url: 'https://x.invalid' });
  });

  it('reports a refusal as FORGE_FAILED with the status, without the token', async () => {
    reply = () => [401, { message: '401 Unauthorized' }];
    const err = await forge().getPullRequest(1).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORGE_FAILED', message: expect.stringContaining('HTTP 401') });
    expect(JSON.stringify(err) + String(err)).not.toContain(TOKEN);
  });

  it('needs an API base that ends in /api/v4', () => {
    expect(() => createGitLabForge({ kind: 'gitlab', apiUrl: 'https://gitlab.example.com', repository: { owner: 'a', name: 'b' }, token: TOKEN })).toThrow(/must end in \/api\/v4/);
  });
});
