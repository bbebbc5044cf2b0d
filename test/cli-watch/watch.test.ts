/**
 * `watch` when the cluster is not there yet: retries with backoff inside --timeout, one live line on
 * a terminal, its own exit code; a missing kubeconfig said plainly; usage errors in JSON under --json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { connect } from '../../src/cli/watch.js';
import { EXIT, OsvError } from '../../src/errors.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { newRepo, sealGitEnv, type TestRepo } from '../helpers/git-repo.js';

/** A port that was free a moment ago and has nothing listening on it now. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** As runCli, but as on a terminal (live progress line). */
async function runTty(args: readonly string[], cwd: string): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const exitCode = await run(args, { cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), color: true });
  return { exitCode, stdout, stderr };
}

const unreachable = () => new OsvError('CLUSTER_UNREACHABLE', 'cluster unreachable: list things: connect ECONNREFUSED 127.0.0.1:1');

describe('connect: retrying the first read of the cluster', () => {
  it('backs off (doubling, capped) and succeeds once the server answers', async () => {
    let calls = 0;
    const waits: number[] = [];
    const ok = await connect(
      { start: async () => void (++calls < 5 && (() => { throw unreachable(); })()) },
      { deadline: undefined, signal: new AbortController().signal, baseMs: 5, maxWaitMs: 20, progress: (_a, _m, w) => waits.push(w) },
    );
    expect(ok).toBe(true);
    expect(calls).toBe(5);
    expect(waits).toEqual([5, 10, 20, 20]);
  });

  it('gives up at the deadline with CLUSTER_UNREACHABLE and the last reason, never later', async () => {
    const t0 = Date.now();
    const err = await connect(
      { start: async () => Promise.reject(unreachable()) },
      { deadline: t0 + 300, signal: new AbortController().signal, baseMs: 20, progress: () => {} },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OsvError);
    expect((err as OsvError).code).toBe('CLUSTER_UNREACHABLE');
    expect((err as OsvError).exitCode).toBe(EXIT.unreachable);
    expect((err as OsvError).message).toMatch(/until --timeout\): list things: connect ECONNREFUSED/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('cuts an attempt that hangs at the deadline', async () => {
    const t0 = Date.now();
    const err = await connect({ start: () => new Promise<void>(() => {}) }, { deadline: t0 + 200, signal: new AbortController().signal, progress: () => {} }).catch((e: unknown) => e);
    expect((err as OsvError).code).toBe('CLUSTER_UNREACHABLE');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('passes any other error through at once, and stops when interrupted', async () => {
    const denied = new OsvError('CLUSTER_UNAVAILABLE', 'list things: HTTP 403');
    await expect(connect({ start: async () => Promise.reject(denied) }, { deadline: undefined, signal: new AbortController().signal, progress: () => {} })).rejects.toBe(denied);
    const ctl = new AbortController();
    const done = connect({ start: async () => Promise.reject(unreachable()) }, { deadline: undefined, signal: ctl.signal, baseMs: 60_000, progress: () => ctl.abort() });
    await expect(done).resolves.toBe(false);
  });
});

describe('watch against a cluster that does not answer', () => {
  let base: string;
  let repo: TestRepo;
  let kubeconfig: string;
  const savedEnv = { HOME: process.env['HOME'], KUBECONFIG: process.env['KUBECONFIG'] };

  beforeAll(async () => {
    sealGitEnv();
    base = mkdtempSync(join(tmpdir(), 'osv-watch-'));
    repo = newRepo();
    kubeconfig = join(base, 'kubeconfig');
    const port = await closedPort();
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: gone, context: {cluster: gone, user: u, namespace: openstack}}]
current-context: gone
`,
    );
  });

  afterAll(() => {
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(base, { recursive: true, force: true });
    rmSync(repo.base, { recursive: true, force: true });
  });

  const args = () => ['watch', '--example', '--repo', repo.work, '--kubeconfig', kubeconfig, '--agent', 'none', '--timeout', '4s'];

  it('retries until --timeout, one plain line per retry, then exits 4 (not 1, a failed gate)', async () => {
    const t0 = Date.now();
    const res = await runCli(args(), repo.work);
    const ms = Date.now() - t0;
    console.log(`watch unreachable, --timeout 4s: exit ${res.exitCode} after ${ms} ms (loading the example and the client included)\n${res.stderr}`);
    expect(res.exitCode, res.stderr).toBe(EXIT.unreachable);
    expect(ms).toBeGreaterThanOrEqual(4000);
    // the clock starts once the inputs are loaded; well under the 3 s-then-exit-1 of before plus the test's own limit
    expect(ms).toBeLessThan(20_000);
    const lines = res.stderr.trim().split('\n');
    const retries = lines.filter((l) => l.startsWith('cluster unreachable (attempt '));
    // more attempts than fit in 4 s are covered by connect's own tests above
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries[0]).toMatch(/^cluster unreachable \(attempt 1, \d+s\): list .*ECONNREFUSED.*; retrying in 1\.0s$/);
    // nothing but our retry lines and the final error: the client's own per-request retries are not printed
    expect(lines.filter((l) => !l.startsWith('cluster unreachable (attempt ') && !l.startsWith('hint: '))).toEqual([expect.stringMatching(/^error \[CLUSTER_UNREACHABLE\]: cluster unreachable for \ds \(\d attempts, until --timeout\): .*ECONNREFUSED/)]);
    expect(res.stdout).toBe('');
  }, 60_000);

  it('on a terminal keeps one live line, and answers in JSON under --json', async () => {
    const tty = await runTty([...args().slice(0, -1), '6s'], repo.work);
    expect(tty.exitCode).toBe(EXIT.unreachable);
    const beforeError = tty.stderr.slice(0, tty.stderr.indexOf('error ['));
    expect(beforeError.startsWith('\r\x1b[Kcluster unreachable (attempt 1, ')).toBe(true);
    // each retry rewrites the line; it is cleared before the error
    expect(beforeError).not.toContain('\n');
    expect(beforeError.endsWith('\r\x1b[K')).toBe(true);

    const json = await runCli([...args(), '--json'], repo.work);

    expect(json.exitCode).toBe(EXIT.unreachable);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'CLUSTER_UNREACHABLE', message: expect.stringContaining('ECONNREFUSED') } });
    const events = json.stderr.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event: string; attempt: number; retryInMs: number });
    expect(events[0]).toMatchObject({ event: 'unreachable', attempt: 1, retryInMs: 1000 });
  }, 60_000);

  it('says "no kubeconfig found" when there is none at all', async () => {
    process.env['HOME'] = base;
    delete process.env['KUBECONFIG'];
    for (const cmd of [['watch', '--timeout', '4s'], ['status'], ['advance']]) {
      const res = await runCli([...cmd, '--example', '--repo', repo.work], repo.work);
      expect(res.exitCode, `${cmd[0]}: ${res.stderr}`).toBe(EXIT.usage);
      expect(res.stderr).toContain('error [CLUSTER_CONFIG]: no kubeconfig found (set KUBECONFIG or --kubeconfig)');
      expect(res.stderr).not.toMatch(/skipTLSVerify/);
    }
  });

  it('answers an unknown option in JSON under --json, as any other error', async () => {
    for (const cmd of [['watch', '--repo', repo.work], ['plan'], ['status']]) {
      const res = await runCli([...cmd, '--json', '--no-such-flag'], repo.work);
      expect(res.exitCode).toBe(EXIT.usage);
      expect(JSON.parse(res.stdout)).toEqual({ error: { code: 'USAGE', message: "unknown option '--no-such-flag'", commander: 'commander.unknownOption' } });
    }
    const plain = await runCli(['watch', '--repo', repo.work, '--no-such-flag'], repo.work);
    expect(plain.exitCode).toBe(EXIT.usage);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toContain("unknown option '--no-such-flag'");
  });
});
