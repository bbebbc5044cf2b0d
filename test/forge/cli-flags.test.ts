/** `advance`/`watch --pull-request`: the forge flags are checked before the cluster is read. */
import { beforeAll, describe, expect, it } from 'vitest';
import { newRepo, sealGitEnv, sh } from '../helpers/git-repo.js';
import { runCli } from '../helpers/cli.js';

describe('--pull-request flags', () => {
  let work: string;
  beforeAll(() => {
    sealGitEnv();
    work = newRepo().work;
  });
  // an unreachable kubeconfig: any error below must come before the cluster is tried
  const base = (cmd: string) => [cmd, '--example', '--repo', work, '--kubeconfig', '/nonexistent/kubeconfig'];

  it('refuses a forge it cannot guess from a file:// remote, naming what to pass', async () => {
    for (const cmd of ['advance', 'watch']) {
      const r = await runCli([...base(cmd), '--pull-request'], work);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/cannot tell the forge from the remote/);
      expect(r.stderr).toMatch(/--forge github\|gitlab\|gitea/);
    }
  });

  it('names an unset token variable, never a token', async () => {
    process.env['OSV_TEST_SET_TOKEN'] = 'value-that-must-not-show';
    const unset = await runCli([...base('advance'), '--pull-request', '--forge', 'github', '--forge-repo', 'acme/gitops', '--forge-token-env', 'OSV_TEST_UNSET_TOKEN'], work);
    expect(unset.exitCode).toBe(2);
    expect(unset.stderr).toMatch(/environment variable OSV_TEST_UNSET_TOKEN is not set/);
    sh(work, 'remote', 'set-url', 'origin', 'https://github.com/acme/gitops.git');
    try {
      const bad = await runCli([...base('advance'), '--pull-request', '--forge-url', 'http://example.com', '--forge-token-env', 'OSV_TEST_SET_TOKEN'], work);
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toMatch(/must be https/);
      expect(bad.stderr + bad.stdout).not.toContain('value-that-must-not-show');
    } finally {
      delete process.env['OSV_TEST_SET_TOKEN'];
    }
  });

  it('refuses forge flags without --pull-request, and --pull-request with --no-push', async () => {
    const stray = await runCli([...base('advance'), '--forge-repo', 'acme/gitops'], work);
    expect(stray.exitCode).toBe(2);
    expect(stray.stderr).toMatch(/--forge-repo goes with --pull-request/);
    const noPush = await runCli([...base('watch'), '--pull-request', '--no-push'], work);
    expect(noPush.exitCode).toBe(2);
    expect(noPush.stderr).toMatch(/does not go with --no-push/);
  });
});
