/**
 * The package as a new user gets it: `npm pack`, the tarball installed under a temporary prefix,
 * and every command run from a folder outside the checkout, with a fresh HOME (no Git identity,
 * no kubeconfig). What the tests of the checkout cannot see: a data folder missing from "files",
 * a build step that needs devDependencies, a server left listening after an error.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../safety/built-cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MIN = 60_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly killed: boolean;
}

/** Run a process to its end, or kill it at `timeoutMs`: a command that never exits is a failure we must see. */
function run(file: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(file, args, { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr, ms: Date.now() - t0, killed: Boolean(e?.killed) });
    });
  });
}

const timings: string[] = [];
function timed(what: string, r: Run): Run {
  timings.push(`${what.padEnd(44)} ${(r.ms / 1000).toFixed(1).padStart(6)} s  exit ${r.code ?? (r.killed ? 'killed' : '?')}`);
  return r;
}

/** The source files under `dir` (recursively). */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
}

describe('the npm package, installed from its tarball', () => {
  let tmp: string;
  let tarball: string;
  let packed: string[];
  let prefix: string;
  let pkgDir: string;
  let bin: string;
  let cwd: string;
  let userEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'osv-pack-'));
    // npm itself keeps the real HOME: its cache is there, so the install needs no network for what was installed before
    const npmEnv = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
    // dist/ is built once, under the lock the other process tests share: a second build beside
    // them would rewrite files their CLI processes are loading
    await ensureBuilt();
    const pack = timed('npm pack --ignore-scripts', await run('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp, '--json'], { cwd: ROOT, env: npmEnv, timeoutMs: 8 * MIN }));
    expect(pack.code, pack.stderr).toBe(0);
    const info = (JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[])[0]!;
    tarball = join(tmp, info.filename);
    packed = info.files.map((f) => f.path);

    prefix = join(tmp, 'prefix');
    const install = timed(
      'npm install -g --prefix TMP <tarball>',
      await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: tmp, env: npmEnv, timeoutMs: 8 * MIN }),
    );
    expect(install.code, install.stderr).toBe(0);
    pkgDir = join(prefix, 'lib', 'node_modules', 'osv-gitops');
    bin = join(prefix, 'bin', 'osv-gitops');

    // a user's machine: another folder, a HOME with no Git identity and no kubeconfig
    const home = join(tmp, 'home');
    cwd = join(tmp, 'work');
    mkdirSync(home);
    mkdirSync(cwd);
    userEnv = { PATH: process.env['PATH'], HOME: home, NO_COLOR: '1', LANG: 'C' };
  }, 20 * MIN);

  afterAll(() => {
    if (timings.length) console.log(`package timings:\n  ${timings.join('\n  ')}`);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const cli = async (args: string[], timeoutMs = 2 * MIN) => timed(`osv-gitops ${args.join(' ')}`.slice(0, 44), await run(bin, args, { cwd, env: userEnv, timeoutMs }));

  it('ships the license, the compiled CLI and every data folder the code reads', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string; scripts: Record<string, string> };
    expect(pkg.license).toBe('Apache-2.0');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    for (const f of ['LICENSE', 'README.md', 'package.json', 'bin/osv-gitops.cjs', 'bin/load-bundle.cjs', 'dist/cli/cli.cjs', 'dist/cli/cli.cjs.map', 'dist/cli/cli.cjs.v8-cache', 'dist/cli/vendor/cdk8s.cjs', 'dist/src/cli/main.js', 'dist/src/cli/main.d.ts']) expect(packed).toContain(f);
    // every `join(projectRoot(), 'a', 'b', ...)` in the code must find its folder or file in the tarball
    const read = new Set<string>();
    for (const file of sources(join(ROOT, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/projectRoot\(\),((?:\s*'[^']+'\s*,?)+)/g)) {
        read.add([...m[1]!.matchAll(/'([^']+)'/g)].map((s) => s[1]).join('/'));
      }
    }
    expect([...read].sort()).toEqual(expect.arrayContaining(['crds', 'fixtures/example', 'reference-data/openstack-operator/services', 'templates']));
    const missing = [...read].filter((p) => !packed.some((f) => f === p || f.startsWith(`${p}/`)));
    expect(missing, `read by the code but not in the package: ${missing.join(', ')}`).toEqual([]);
  });

  it('installs without compiling: no install scripts run, no devDependency is needed', () => {
    const installed = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    for (const s of ['preinstall', 'install', 'postinstall']) expect(installed.scripts?.[s], s).toBeUndefined();
    expect(existsSync(join(pkgDir, 'node_modules', 'typescript'))).toBe(false);
    expect(existsSync(join(prefix, 'lib', 'node_modules', 'typescript'))).toBe(false);
    expect(statSync(join(pkgDir, 'dist', 'cli', 'cli.cjs')).isFile()).toBe(true);
    expect(relative(ROOT, cwd).startsWith('..')).toBe(true);
  });

  it('answers --help for the program and for every command', async () => {
    const top = await cli(['--help']);
    expect(top.code, top.stderr).toBe(0);
    const commands = [...top.stdout.split(/^Commands:$/m)[1]!.matchAll(/^ {2}([a-z-]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['plan', 'render', 'commit', 'status', 'advance', 'watch', 'simulate']));
    for (const c of commands) {
      const r = await cli([c, '--help']);
      expect(r.code, `${c} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`Usage: osv-gitops ${c}`);
    }
    const v = await cli(['--version']);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version);
  }, 10 * MIN);

  it('runs plan, render, commit and status --from-files on the bundled example', async () => {
    const plan = await cli(['plan', '--example', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const target = (JSON.parse(plan.stdout) as { versions: { target: string } }).versions.target;
    expect(target).toMatch(/^18\.0\./);

    const out = join(cwd, 'rendered');
    const render = await cli(['render', '--example', '--out', out]);
    expect(render.code, render.stderr).toBe(0);
    expect(readdirSync(join(out, 'updates', target)).length).toBeGreaterThan(3);

    // a fresh repository of the user's, with the user's identity in it
    const repo = join(cwd, 'gitops');
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', repo], { env: userEnv });
    execFileSync('git', ['-C', repo, 'config', 'user.name', 'New User'], { env: userEnv });
    execFileSync('git', ['-C', repo, 'config', 'user.email', 'new.user@example.invalid'], { env: userEnv });
    const commit = await cli(['commit', '--example', '--repo', repo]);
    expect(commit.code, commit.stderr).toBe(0);
    expect(execFileSync('git', ['-C', repo, 'log', '--format=%s'], { env: userEnv, encoding: 'utf8' })).toMatch(/^osv-gitops: phase 1 of \d+ /);

    const status = await cli(['status', '--example', '--from-files', join(pkgDir, 'fixtures', 'example'), '--json']);
    expect([0, 3], status.stderr).toContain(status.code);
    expect((JSON.parse(status.stdout) as { target: string }).target).toBe(target);
  }, 10 * MIN);

  it('rehearses the example with simulate and exits', async () => {
    const sim = await cli(['simulate', '--example', '--step-ms', '30'], 5 * MIN);
    expect(sim.killed, 'simulate did not exit').toBe(false);
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stdout).toMatch(/rehearsal complete/);
  }, 6 * MIN);
});
