/**
 * The Gitea forge driver against a real Gitea (test/e2e-real/gitea.ts): pull requests opened,
 * found, edited and merged with each method, commit statuses, and the phase trailers of our
 * commits read back from the base branch after each merge. Errors: a missing repository, a bad
 * token (never echoed), a forge that does not answer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OsvError } from '../../src/errors.js';
import { createGiteaForge } from '../../src/forge/gitea.js';
import type { Forge, MergeMethod } from '../../src/forge/types.js';
import { git } from '../../src/git/git.js';
import { TRAILER_PHASE, TRAILER_PLAN, TRAILER_TARGET, phaseCommits } from '../../src/git/trailers.js';
import { freePort } from './processes.js';
import { describeNeeding } from './describe-real.js';
import { GITEA_NEED, startGitea, type Gitea, type GiteaRepo } from './gitea.js';

const IDENTITY = { GIT_AUTHOR_NAME: 'osv test', GIT_AUTHOR_EMAIL: 'osv@example.invalid', GIT_COMMITTER_NAME: 'osv test', GIT_COMMITTER_EMAIL: 'osv@example.invalid' };
const TARGET = '18.0.4';

async function rejection(p: Promise<unknown>): Promise<OsvError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OsvError);
  return e as OsvError;
}

describeNeeding('Gitea forge driver against a real Gitea', [GITEA_NEED], () => {
  let gitea: Gitea;
  let repo: GiteaRepo;
  let forge: Forge;
  let work: string;
  const timings: string[] = [];
  const gitIn = (args: string[]) => git(work, args, { env: { ...IDENTITY, ...gitea.gitEnv } });

  beforeAll(async () => {
    gitea = await startGitea();
    timings.push(`gitea ${gitea.version} started in ${gitea.startupMs} ms ${JSON.stringify(gitea.startupSteps)}`);
    repo = await gitea.createRepo('gitops');
    forge = createGiteaForge({ kind: 'gitea', apiUrl: gitea.apiUrl, repository: { owner: gitea.owner, name: repo.name }, token: gitea.token });
    work = mkdtempSync(join(tmpdir(), 'osv-gitea-work-'));
    await git(work, ['init', '-q', '-b', 'main']);
    writeFileSync(join(work, 'README.md'), '# gitops\n');
    await gitIn(['add', 'README.md']);
    await gitIn(['commit', '-q', '-m', 'initial']);
    await gitIn(['remote', 'add', 'origin', repo.cloneUrl]);
    await gitIn(['push', '-q', 'origin', 'main']);
    await gitea.waitForFirstPush(repo.name);
  }, 300_000);

  afterAll(async () => {
    await gitea?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    console.log(timings.join('\n'));
  }, 60_000);

  it('keeps the token out of the repository config it pushed from', async () => {
    const config = await git(work, ['config', '--list', '--local']);
    expect(config).not.toContain(gitea.token);
    expect(config).toContain(repo.cloneUrl);
  });

  /**
   * A phase branch with one commit carrying our trailers, off the current main; for rebase off
   * main's parent, so that Gitea really rebases instead of fast-forwarding.
   */
  async function phaseBranch(method: MergeMethod): Promise<{ branch: string; sha: string; phase: string }> {
    const branch = `osv/${TARGET}/phase-${method}`;
    const phase = `ovn-${method}`;
    await gitIn(['fetch', '-q', 'origin', 'main']);
    await gitIn(['checkout', '-q', '-B', branch, method === 'rebase' ? 'origin/main~1' : 'origin/main']);
    writeFileSync(join(work, `${method}.yaml`), `phase: ${phase}\n`);
    await gitIn(['add', `${method}.yaml`]);
    const message = `Update ${TARGET}: ${phase}\n\nThe ${method} phase.\n\n${TRAILER_TARGET}: ${TARGET}\n${TRAILER_PHASE}: 1 ${phase}\n${TRAILER_PLAN}: plan-${method}\n`;
    await gitIn(['commit', '-q', '-m', message]);
    await gitIn(['push', '-q', 'origin', branch]);
    return { branch, sha: (await gitIn(['rev-parse', 'HEAD'])).trim(), phase };
  }

  for (const method of ['merge', 'squash', 'rebase'] as const) {
    it(`opens, finds, edits, gates and merges a pull request (${method}), keeping the phase trailers`, async () => {
      const t0 = performance.now();
      const { branch, sha, phase } = await phaseBranch(method);
      expect(await forge.findPullRequest(branch, 'main')).toBeUndefined();

      const opened = await forge.openPullRequest({ head: branch, base: 'main', title: `Phase ${phase}`, body: 'first body' });
      expect(opened).toMatchObject({ state: 'open', head: branch, base: 'main', headSha: sha, title: `Phase ${phase}`, body: 'first body' });
      expect(opened.url).toContain(`/${repo.fullName}/pulls/${opened.number}`);
      expect((await forge.findPullRequest(branch, 'main'))?.number).toBe(opened.number);
      expect(await forge.findPullRequest(branch, 'other-base')).toBeUndefined();

      const edited = await forge.updatePullRequest(opened.number, { title: `Phase ${phase} (edited)`, body: 'second body' });
      expect(edited).toMatchObject({ number: opened.number, title: `Phase ${phase} (edited)`, body: 'second body' });
      expect((await forge.getPullRequest(opened.number)).title).toBe(`Phase ${phase} (edited)`);

      const context = `osv-gitops/gate/${phase}`;
      await forge.setCommitStatus({ sha, state: 'pending', context, description: 'waiting for the agent' });
      expect(await forge.listCommitStatuses(sha)).toEqual([{ sha, state: 'pending', context, description: 'waiting for the agent' }]);
      await forge.setCommitStatus({ sha, state: 'success', context, description: 'healthy', targetUrl: 'https://example.invalid/run/1' });
      await forge.setCommitStatus({ sha, state: 'failure', context: 'another/check', description: 'not ours' });
      // the latest per context, sorted by context
      expect(await forge.listCommitStatuses(sha)).toEqual([
        { sha, state: 'failure', context: 'another/check', description: 'not ours' },
        { sha, state: 'success', context, description: 'healthy', targetUrl: 'https://example.invalid/run/1' },
      ]);

      const merged = await forge.mergePullRequest(opened.number, method);
      expect(merged.state).toBe('merged');
      expect(merged.mergeCommitSha).toMatch(/^[0-9a-f]{40}$/);
      expect((await forge.findPullRequest(branch, 'main'))?.state).toBe('merged');

      await gitIn(['fetch', '-q', 'origin', 'main']);
      const base = (await gitIn(['rev-parse', 'origin/main'])).trim();
      expect(merged.mergeCommitSha).toBe(base);
      const onBase = (await phaseCommits(work, 'origin/main')).filter((c) => c.phase === phase);
      expect(onBase).toHaveLength(1);
      expect(onBase[0]).toMatchObject({ target: TARGET, index: 1, plan: `plan-${method}` });
      // merge keeps our commit itself; squash and rebase write a new one
      if (method === 'merge') expect(onBase[0]!.sha).toBe(sha);
      else expect(onBase[0]!.sha).not.toBe(sha);
      // the squash commit: Gitea's title, then our commit's message as the body
      if (method === 'squash') {
        const subject = (await gitIn(['log', '-1', '--format=%s', 'origin/main'])).trim();
        expect(subject).toBe(`Phase ${phase} (edited) (#${opened.number})`);
      }
      timings.push(`${method}: ${Math.round(performance.now() - t0)} ms`);
    }, 120_000);
  }

  it('refuses to merge a pull request that is already merged', async () => {
    const pr = await forge.findPullRequest(`osv/${TARGET}/phase-merge`, 'main');
    expect(pr?.state).toBe('merged');
    const e = await rejection(forge.mergePullRequest(pr!.number, 'merge'));
    expect(e.code).toBe('FORGE_FAILED');
    expect(e.message).toMatch(/is merged, not open/);
  });

  it('fails with FORGE_FAILED and HTTP 404 for a repository that does not exist', async () => {
    const missing = createGiteaForge({ kind: 'gitea', apiUrl: gitea.apiUrl, repository: { owner: gitea.owner, name: 'no-such-repo' }, token: gitea.token });
    const e = await rejection(missing.getPullRequest(1));
    expect(e.code).toBe('FORGE_FAILED');
    expect(e.exitCode).toBe(1);
    expect(e.message).toMatch(/HTTP 404/);
    expect(e.hint).toMatch(/owner\/name/);
    expect(JSON.stringify(e.toJSON())).not.toContain(gitea.token);
  });

  it('fails with FORGE_FAILED and HTTP 401 for a bad token, without the token in the error', async () => {
    const badToken = `${gitea.token.slice(0, 20)}${'0'.repeat(20)}`;
    const bad = createGiteaForge({ kind: 'gitea', apiUrl: gitea.apiUrl, repository: { owner: gitea.owner, name: repo.name }, token: badToken });
    const e = await rejection(bad.openPullRequest({ head: 'x', base: 'main', title: 't', body: 'b' }));
    expect(e.code).toBe('FORGE_FAILED');
    expect(e.message).toMatch(/HTTP 401/);
    const everything = `${e.message} ${e.hint ?? ''} ${JSON.stringify(e.toJSON())} ${String(e.stack)}`;
    expect(everything).not.toContain(badToken);
    expect(everything).not.toContain(gitea.token);
  });

  it('fails with FORGE_FAILED when nothing answers', async () => {
    const port = await freePort();
    const gone = createGiteaForge({ kind: 'gitea', apiUrl: `http://127.0.0.1:${port}/api/v1`, repository: { owner: 'o', name: 'r' }, token: gitea.token });
    const e = await rejection(gone.findPullRequest('a', 'main'));
    expect(e.code).toBe('FORGE_FAILED');
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.message).not.toContain(gitea.token);
  });
});
