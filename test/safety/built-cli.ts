/**
 * The compiled CLI as a real process (`node bin/osv-gitops.cjs`), for the runs that cannot happen
 * in-process: another user, a time limit, a kill -9. dist/ is rebuilt first when any source file
 * is newer than it, or when another Node.js built it: V8 rejects the code caches of another (one
 * build at a time: test files run in parallel workers).
 */
import { execFile, spawn, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_BY_FILE, builtBy } from '../../scripts/built-by.mjs';
import { PROJECT_ROOT } from './sandbox.js';

export const CLI_BIN = join(PROJECT_ROOT, 'bin', 'osv-gitops.cjs');
// written by the build after tsc's dist/src; only the code caches and then built-by.json come after
// it: a build without caches still runs, and one cut off before built-by.json counts as another
// Node.js's and is built again (the lock below keeps tests from reading a build in progress)
const DIST_MAIN = join(PROJECT_ROOT, 'dist', 'cli', 'cli.cjs');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function mtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

/** The Node.js that built dist/ and its code caches, when it is not this one (or nothing says which did). */
function builtByAnotherNode(): string | undefined {
  let built: string;
  try {
    built = readFileSync(BUILT_BY_FILE, 'utf8').trim();
  } catch {
    return 'an unknown Node.js';
  }
  return built === JSON.stringify(builtBy()) ? undefined : built;
}

/** Why dist/ must be built again for these tests, or undefined when it need not. */
function whyDistIsStale(): string | undefined {
  const sources = Math.max(newestSource(join(PROJECT_ROOT, 'src')), newestSource(join(PROJECT_ROOT, 'charts')));
  if (mtime(DIST_MAIN) < sources) return 'dist/ is older than the sources';
  const other = builtByAnotherNode();
  return other === undefined ? undefined : `dist/ was built by ${other}, not ${process.version}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Build dist/ when it is stale (see whyDistIsStale); waits for a build another worker started. */
export async function ensureBuilt(log: (line: string) => void = () => {}): Promise<void> {
  const lock = join(tmpdir(), `osv-gitops-build-${createHash('sha256').update(PROJECT_ROOT).digest('hex').slice(0, 12)}.lock`);
  for (let waited = 0; ; waited += 500) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // a lock older than five minutes is from a killed worker
      if (Date.now() - mtime(lock) > 300_000) rmdirSync(lock);
      else if (waited > 300_000) throw new Error(`waited 5 minutes for the build lock ${lock}`);
      await sleep(500);
    }
  }
  try {
    const why = whyDistIsStale();
    if (why === undefined) return;
    log(`${why}: building it (scripts/build.mjs)`);
    const before = mtime(DIST_MAIN);
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      // with this Node.js (npm's may be another one), so that the caches are made for the tests'
      execFile(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build.mjs')], { cwd: PROJECT_ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
    // tsc still emits when others' work in progress has type errors; the emitted code is what we test
    if (result.code !== 0) {
      if (mtime(DIST_MAIN) <= before) throw new Error(`the build failed and emitted nothing:\n${result.output}`);
      log(`the build reported errors but emitted dist/:\n${result.output.split('\n').slice(0, 10).join('\n')}`);
    }
  } finally {
    rmdirSync(lock);
  }
}

export interface ProcessResult {
  readonly exitCode: number;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly ms: number;
}

export interface SpawnCliOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** Its own process group (so that a kill of the group spares the test runner). */
  readonly detached?: boolean;
}

/** Run `node bin/osv-gitops.cjs ARGS` and collect its output; a time limit kills its whole group. */
export function spawnCli(args: readonly string[], opts: SpawnCliOptions): Promise<ProcessResult> {
  return spawnNode(CLI_BIN, args, opts);
}

/** Run `node SCRIPT ARGS` (in its own process group unless told otherwise) and collect its output. */
export function spawnNode(script: string, args: readonly string[], opts: SpawnCliOptions): Promise<ProcessResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const so: SpawnOptions = {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.detached ?? true,
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    };
    const child = spawn(process.execPath, [script, ...args], so);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            try {
              if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
            } catch {
              child.kill('SIGKILL');
            }
          }, opts.timeoutMs)
        : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ exitCode: code ?? -1, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}
