/**
 * The GitHub driver against a stand-in for api.github.com whose every request and response is
 * checked against GitHub's OpenAPI description, over a real bare repository.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubForge } from '../../src/forge/github.js';
import { newRepo, sealGitEnv, sh } from '../helpers/git-repo.js';
import { GitHubStandIn } from './github-standin.js';

function commitFile(work: string, name: string, text: string): void {
  writeFileSync(join(work, name), `${text}\n`);
  sh(work, 'add', name);
  sh(work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', text);
}

const TOKEN = 'ghp_standin_0123456789abcdefghijkl';

describe('GitHub driver, checked against the OpenAPI description', () => {
  let hub: GitHubStandIn;
  let bare: string;
  let work: string;
  beforeAll(async () => {
    sealGitEnv();
    ({ bare, work } = newRepo());
    sh(work, 'checkout', '--quiet', '-b', 'osv-update/1.0/01-a');
    commitFile(work, 'a.txt', 'phase a');
    sh(work, 'push', '--quiet', 'origin', 'osv-update/1.0/01-a');
    hub = await new GitHubStandIn(bare, 'acme', 'gitops', TOKEN).start();
  });
  afterAll(() => hub.stop());

  const forge = () => createGitHubForge({ kind: 'github', apiUrl: hub.url, repository: { owner: 'acme', name: 'gitops' }, token: TOKEN });

  it('opens, finds, updates and merges a pull request, and posts and reads commit statuses', async () => {
    const gh = forge();
    expect(await gh.findPullRequest('osv-update/1.0/01-a', 'main')).toBeUndefined();
    const opened = await gh.openPullRequest({ head: 'osv-update/1.0/01-a', base: 'main', title: 'phase 1 of 2: a', body: 'the body\n' });
    expect(opened).toMatchObject({ number: 1, state: 'open', head: 'osv-update/1.0/01-a', base: 'main', title: 'phase 1 of 2: a' });
    expect(opened.headSha).toBe(sh(bare, 'rev-parse', 'osv-update/1.0/01-a').trim());
    expect((await gh.findPullRequest('osv-update/1.0/01-a', 'main'))?.number).toBe(1);
    expect(await gh.findPullRequest('osv-update/1.0/01-a', 'other')).toBeUndefined();
    const updated = await gh.updatePullRequest(1, { title: 'phase 1 of 2: a (new)', body: 'new body\n' });
    expect(updated).toMatchObject({ title: 'phase 1 of 2: a (new)', body: 'new body\n' });
    await gh.setCommitStatus({ sha: opened.headSha, state: 'pending', context: 'osv-gitops/a', description: 'waiting'.repeat(40) });
    await gh.setCommitStatus({ sha: opened.headSha, state: 'success', context: 'osv-gitops/a', description: 'passed', targetUrl: 'https://example.invalid/x' });
    const statuses = await gh.listCommitStatuses(opened.headSha);
    expect(statuses.map((s) => s.state)).toEqual(['success', 'pending']);
    expect(statuses[1]!.description.length).toBe(140);
    const merged = await gh.mergePullRequest(1, 'squash');
    expect(merged.state).toBe('merged');
    expect(merged.mergeCommitSha).toBe(sh(bare, 'rev-parse', 'main').trim());
    expect(sh(bare, 'log', '-1', '--format=%B', 'main')).toContain('new body');
    // every request carried the token, in the header only
    expect(hub.requests.length).toBeGreaterThanOrEqual(9);
    for (const r of hub.requests) {
      expect(r.authorization).toBe(`token ${TOKEN}`);
      expect(JSON.stringify([r.path, r.query, r.body])).not.toContain(TOKEN);
    }
    expect(hub.violations).toEqual([]);
  });

  it('reports a refused token as FORGE_FAILED without the token in it', async () => {
    const gh = createGitHubForge({ kind: 'github', apiUrl: hub.url, repository: { owner: 'acme', name: 'gitops' }, token: 'ghp_wrong_token_value_123456' });
    const err = await gh.getPullRequest(1).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORGE_FAILED', message: expect.stringContaining('HTTP 401') });
    expect(JSON.stringify(err) + String(err) + ((err as Error).stack ?? '')).not.toContain('ghp_wrong_token_value_123456');
  });

  it('a second pull request for the same branch is refused by the forge (422)', async () => {
    const gh = forge();
    sh(work, 'checkout', '--quiet', '-b', 'osv-update/1.0/02-b');
    commitFile(work, 'b.txt', 'phase b');
    sh(work, 'push', '--quiet', 'origin', 'osv-update/1.0/02-b');
    await gh.openPullRequest({ head: 'osv-update/1.0/02-b', base: 'main', title: 't', body: 'b' });
    await expect(gh.openPullRequest({ head: 'osv-update/1.0/02-b', base: 'main', title: 't', body: 'b' })).rejects.toMatchObject({ code: 'FORGE_FAILED', message: expect.stringContaining('HTTP 422') });
    expect(hub.violations).toEqual([]);
  });

  it('the checker catches a request and a response the description does not allow', () => {
    const url = new URL(`${hub.url}/repos/acme/gitops/pulls`);
    expect(hub.check.checkRequest('POST', url, { base: 'main', title: 'no head' }, 'application/json').join('\n')).toMatch(/request body .*required.*head/);
    expect(hub.check.checkRequest('POST', url, { head: 'h', base: 'main', draft: 'yes' }, 'application/json').join('\n')).toMatch(/draft must be boolean/);
    expect(hub.check.checkRequest('GET', new URL(`${url}?state=merged`), undefined, undefined).join('\n')).toMatch(/query parameters\/state must be equal to one of the allowed values/);
    expect(hub.check.checkRequest('GET', new URL(`${url}?colour=red`), undefined, undefined).join('\n')).toMatch(/must NOT have additional properties/);
    expect(hub.check.checkRequest('DELETE', url, undefined, undefined)).toEqual([`DELETE /repos/acme/gitops/pulls: no such operation`]);
    const found = hub.check.find('GET', '/repos/acme/gitops/pulls/1')!;
    expect(hub.check.checkResponse(found, 200, { number: 'one' }).join('\n')).toMatch(/must have required property/);
    expect(hub.check.checkResponse(found, 201, {})).toEqual(['GET /repos/{owner}/{repo}/pulls/{pull_number} -> 201: status not in the description']);
  });
});
