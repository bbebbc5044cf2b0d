/**
 * Start-up cost (issue 14): a command loads what it needs and nothing else. The built CLI runs as a
 * real process with a recorder (record-imports.mjs) that writes down every module it loaded; the
 * Kubernetes client, cdk8s(-plus), CEL and Lua take from a third of a second to over a second each
 * to import, so `--version`, `--help`, `plan` and `status --from-files` must never load them.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExampleDump } from '../../scripts/example-dump.mjs';
import { exitWhenWritten, run } from '../../src/cli/main.js';
import { startRehearsalCluster } from '../../src/simulate/rehearsal.js';
import { sealGitEnv } from '../helpers/git-repo.js';
import { rehearsalInputs } from '../helpers/rehearsal.js';
import { CLI_BIN, ensureBuilt } from '../safety/built-cli.js';
import { PROJECT_ROOT } from '../safety/sandbox.js';

const RECORDER = join(import.meta.dirname, 'record-imports.mjs');
const HEAVY = ['@kubernetes/client-node', 'cdk8s', 'cdk8s-plus-28', '@bufbuild/cel', 'fengari'];

const BUNDLE_DIR = join(PROJECT_ROOT, 'dist', 'cli');
/** The npm packages bundled into each file of the CLI (written by scripts/build.mjs). */
const bundled = (): Record<string, string[]> => JSON.parse(readFileSync(join(BUNDLE_DIR, 'packages.json'), 'utf8')) as Record<string, string[]>;

const work = mkdtempSync(join(tmpdir(), 'osv-startup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The npm packages a CLI process loaded (by their folder under node_modules), our own files it loaded, and its exit code. */
async function packagesLoaded(args: readonly string[], cwd = work): Promise<{ code: number; packages: Set<string>; ownFiles: Set<string>; requiredFiles: Set<string>; stdout: string; stderr: string }> {
  const record = join(work, `record-${Math.random().toString(36).slice(2)}.txt`);
  const env = { ...process.env, OSV_RECORD_IMPORTS: record, NO_COLOR: '1' };
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', RECORDER, CLI_BIN, ...args], { cwd, env, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
  const packages = new Set<string>();
  const ownFiles = new Set<string>();
  const requiredFiles = new Set<string>(); // our files in the require cache (paths, not URLs): the bundles
  for (const line of readFileSync(record, 'utf8').split('\n')) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
    if (m) packages.add(m[1]!);
    else if (line.startsWith(`file://${PROJECT_ROOT}/`)) ownFiles.add(line);
    else if (line.startsWith(`${PROJECT_ROOT}/`)) {
      requiredFiles.add(line);
      // a package bundled into a file of the CLI counts as loaded when the file is
      for (const name of bundled()[line.slice(`${BUNDLE_DIR}/`.length)] ?? []) packages.add(name);
    }
  }
  return { code, packages, ownFiles, requiredFiles, stdout, stderr };
}

/** A must-gather of the example: the OpenStackVersion, the control plane and the nodesets. */
function exampleDump(): string {
  const dir = mkdtempSync(join(work, 'dump-'));
  copyExampleDump(join(PROJECT_ROOT, 'fixtures', 'example'), dir);
  return dir;
}

describe('start-up: each command loads only what it needs', () => {
  beforeAll(() => ensureBuilt(), 300_000);

  it('--version loads the launcher only: it answers before the bundle loads', async () => {
    const r = await packagesLoaded(['--version']);
    expect(r.code, r.stderr).toBe(0);
    expect([...r.packages]).toEqual([]);
    // not the hundreds of files tsc emits, not the bundle (the recorder's hook sees the launcher, the entry, resolved)
    expect([...r.ownFiles]).toEqual([`file://${PROJECT_ROOT}/bin/osv-gitops.cjs`]);
    expect([...r.requiredFiles].map((f) => f.slice(`${PROJECT_ROOT}/`.length)).sort()).toEqual(['bin/osv-gitops.cjs', 'package.json']);
  });

  it('a command loads the bundle of our code and no vendor bundle until it needs one', async () => {
    const r = await packagesLoaded(['plan', '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect([...r.ownFiles]).toEqual([`file://${PROJECT_ROOT}/bin/osv-gitops.cjs`]);
    expect([...r.requiredFiles].map((f) => f.slice(`${PROJECT_ROOT}/`.length)).sort()).toEqual(['bin/load-bundle.cjs', 'bin/osv-gitops.cjs', 'dist/cli/cli.cjs']);
    // the light packages bundled with our code (commander, semver) are in that file; no other is loaded
    expect([...r.packages].sort()).toEqual(bundled()['cli.cjs']);
    expect(HEAVY.filter((p) => bundled()['cli.cjs']!.includes(p))).toEqual([]);
  });

  it('--version and -V print the package version, as commander printed it, from the launcher and from the CLI itself', async () => {
    const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const argv of [['--version'], ['-V'], ['plan', '--version']]) {
      let out = '';
      // run() in this process: what the bundle answers (`plan --version` goes to commander's answer)
      const code = await run(argv, { cwd: work, stdout: (t) => (out += t), stderr: () => {}, color: false });
      expect([code, out]).toEqual([0, `${version}\n`]);
    }
    for (const flag of ['--version', '-V']) {
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [CLI_BIN, flag], { cwd: work, timeout: 60_000 }, (err, out) => (err ? reject(err) : resolve(out))),
      );
      expect(stdout).toBe(`${version}\n`);
    }
  });

  it('exits only once stdout and stderr have both reported their writes done, as late as they do', async () => {
    const exits: number[] = [];
    const finish: (() => void)[] = [];
    // streams whose writes are handed over later, as to a pipe on macOS
    const slow = { write: (_: string, done: () => void) => finish.push(done) } as unknown as Pick<NodeJS.WritableStream, 'write'>;
    exitWhenWritten(3, [slow, slow], (code) => exits.push(code));
    await new Promise((r) => setTimeout(r, 20));
    expect(exits).toEqual([]);
    finish[1]!();
    expect(exits).toEqual([]);
    finish[0]!();
    expect(exits).toEqual([3]);
  });

  it('exits as soon as the command is over, yet a slow reader of its output still gets every byte', async () => {
    // 71 KB of JSON, more than a pipe holds: the process may exit only once the reader has it all
    let inProcess = '';
    expect(await run(['plan', '--example', '--json'], { cwd: work, stdout: (t) => (inProcess += t), stderr: () => {}, color: false })).toBe(0);
    expect(inProcess.length).toBeGreaterThan(65_536);
    const child = spawn(process.execPath, [CLI_BIN, 'plan', '--example', '--json'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    // read nothing for half a second: the pipe fills, and the CLI's last writes wait for us
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), 500);
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(inProcess);
  });

  it.each([[['--help']], [['plan', '--help']], [['plan', '--example']], [['plan', '--example', '--json']]])('%j loads none of the heavy packages', async (args) => {
    const r = await packagesLoaded(args);
    expect(r.code, r.stderr).toBe(0);
    expect(HEAVY.filter((p) => r.packages.has(p))).toEqual([]);
  });

  it('plan --example does not load the yaml parser: its inputs are plain, the fast reader reads them', async () => {
    const r = await packagesLoaded(['plan', '--example']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.packages.has('yaml')).toBe(false);
  });

  it('an input the fast reader steps aside for loads the yaml parser on demand and plans the same', async () => {
    const dir = mkdtempSync(join(work, 'block-scalar-'));
    const ex = join(PROJECT_ROOT, 'fixtures', 'example');
    const csv = readFileSync(join(ex, 'csv.yaml'), 'utf8');
    const withBlock = csv.replace('  displayName: OpenStack\n', '  displayName: OpenStack\n  description: |\n    A block scalar, which only the full parser reads.\n');
    expect(withBlock).not.toBe(csv);
    writeFileSync(join(dir, 'csv.yaml'), withBlock);
    const inputs = ['--csv', join(dir, 'csv.yaml'), '--openstack-version', join(ex, 'openstackversion.yaml'), '--nodesets', join(ex, 'nodesets'), '--controlplane', join(ex, 'controlplane.yaml')];
    const [r, example] = await Promise.all([packagesLoaded(['plan', ...inputs, '--json']), packagesLoaded(['plan', '--example', '--json'])]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(example.stdout);
    // the require cache names the bundle of yaml
    expect([...r.requiredFiles].some((f) => f.endsWith('/dist/cli/vendor/yaml.cjs'))).toBe(true);
  });

  it('status --from-files does not load the Kubernetes client (nor cdk8s, CEL, Lua)', async () => {
    const r = await packagesLoaded(['status', '--example', '--from-files', exampleDump(), '--agent', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(HEAVY.filter((p) => r.packages.has(p))).toEqual([]);
  });

  it('the recorder sees a heavy package when a command does load one (render loads cdk8s)', async () => {
    const r = await packagesLoaded(['render', '--example', '--engine', 'plain', '--repo-path', '.', '--out', mkdtempSync(join(work, 'out-'))]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.packages.has('cdk8s')).toBe(true);
  });

  it('render --engine argocd builds its gate Jobs without cdk8s-plus (plain cdk8s objects), and writes YAML without the parser', async () => {
    const out = mkdtempSync(join(work, 'out-'));
    const r = await packagesLoaded(['render', '--example', '--engine', 'argocd', '--repo-url', 'https://git.example.com/ops.git', '--repo-path', '.', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const [version] = readdirSync(join(out, 'updates'));
    expect(readdirSync(join(out, 'updates', version!, '01-ovn-controlplane'))).toContain('job-osv-gate-18-0-4-1764633600-01.yaml');
    expect(r.packages.has('cdk8s')).toBe(true);
    expect(r.packages.has('cdk8s-plus-28')).toBe(false);
    expect(Object.values(bundled()).flat()).not.toContain('cdk8s-plus-28');
    // cdk8s's own require of yaml is a stand-in (scripts/build.mjs), the writer's YAML 1.1 tests come with the bundle
    expect(r.packages.has('yaml')).toBe(false);
  });

  it('the recorder sees a bundled heavy package too (status on a cluster loads the Kubernetes client)', async () => {
    const kubeconfig = join(work, 'kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {token: t}}]\n');
    const r = await packagesLoaded(['status', '--example', '--kubeconfig', kubeconfig, '--agent', 'none', '--request-timeout', '1']);
    expect(r.packages.has('@kubernetes/client-node'), r.stderr).toBe(true);
  });

  it('a waiting advance step loads the Kubernetes client but not the renderer (cdk8s, cdk8s-plus) nor CEL or Lua; the committing step does', async () => {
    sealGitEnv();
    const cluster = await startRehearsalCluster(rehearsalInputs('example', 'flux', 'commits'));
    try {
      // the agent stands still: after the first phase is committed, every step waits on it
      await cluster.operator.stop();
      await cluster.agent.stop();
      const args = ['advance', '--example', '--repo', cluster.repo.work, '--kubeconfig', cluster.kubeconfigPath, '--agent', 'flux:flux-system/openstack', '--csv-namespace', 'openstack-operators'];
      const committing = await packagesLoaded(args, cluster.repo.work);
      expect(committing.code, committing.stderr).toBe(0);
      expect(committing.stdout).toMatch(/^advanced: committed ovn-controlplane/);
      expect(committing.packages.has('cdk8s')).toBe(true);

      const waiting = await packagesLoaded(args, cluster.repo.work);
      expect(waiting.code, waiting.stderr).toBe(3);
      expect(waiting.stdout).toMatch(/^waiting in ovn-controlplane/);
      expect(waiting.packages.has('@kubernetes/client-node')).toBe(true);
      expect(HEAVY.filter((p) => waiting.packages.has(p))).toEqual(['@kubernetes/client-node']);
    } finally {
      await cluster.stop();
    }
  }, 180_000);
});
