// Shared by the benchmarks: whole-process timing (wall median over runs after one warm-up), peak
// memory of the timed process, and the header that says what machine and load the figures are from.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const bin = join(root, 'bin', 'osv-gitops.cjs');
export const runs = Number(process.env.BENCH_RUNS ?? 5);
const RSS_PRELOAD = join(root, 'bench', 'peak-rss.cjs');

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Node, the processors and the load average: figures from a shared machine mean little without them. */
export function header(what) {
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${what}\nnode ${process.version}, ${cpus().length} cores, load average ${load}, ${fileCreation()}, ${runs} runs after one warm-up, wall-clock medians`;
}

/**
 * How fast this disk makes files right now: a render writes hundreds, and on a shared machine the
 * time to create one swings twentyfold within minutes. Printed so that a table can be read with it.
 */
export function fileCreation() {
  const dir = mkdtempSync(join(tmpdir(), 'osv-bench-disk-'));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 500; i++) writeFileSync(join(dir, `f${i}`), 'x', { flag: 'wx' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(dir, { recursive: true, force: true });
  return `500 new files in ${ms.toFixed(0)} ms`;
}

/**
 * Run `file ARGS` once; wall milliseconds and, with `memory` for a node process, the peak resident
 * memory in MB (read by a preload at exit). Output is discarded; a failing run stops the benchmark
 * unless `okCodes` lists its exit code.
 */
export function spawnTimed(file, args, { cwd = root, env = process.env, okCodes = [0], memory = false } = {}) {
  const isNode = memory && file === process.execPath;
  const dir = isNode ? mkdtempSync(join(tmpdir(), 'osv-bench-rss-')) : undefined;
  const rssFile = dir && join(dir, 'rss');
  const childEnv = isNode ? { ...env, OSV_BENCH_RSS_FILE: rssFile, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --require "${RSS_PRELOAD}"`.trim() } : env;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { cwd, env: childEnv, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!okCodes.includes(r.status)) throw new Error(`${file} ${args.join(' ')} exited ${r.status ?? r.signal}: ${String(r.stderr).slice(0, 400)}`);
  let mb;
  try {
    if (rssFile) mb = Number(readFileSync(rssFile, 'utf8')) / 1024;
  } catch {
    mb = undefined;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  return { ms, mb };
}

/**
 * `fn(memory)` once to warm up, then `n` times: wall median, min and max in ms, and the largest
 * peak memory seen. Peak memory comes from untimed runs (the warm-up, and `memoryRuns` more): its
 * preload makes Node start its option parsing and a module load it would not otherwise (~5 % of a
 * 0.2 s process), so the timed runs are the process as a user runs it.
 */
export function measure(fn, n = runs, memoryRuns = 0) {
  let mb = fn(true).mb;
  const samples = [];
  for (let i = 0; i < n; i++) samples.push(fn(false).ms);
  for (let i = 0; i < memoryRuns; i++) {
    const r = fn(true).mb;
    if (r !== undefined) mb = Math.max(mb ?? 0, r);
  }
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), mb };
}

/** `node bin/osv-gitops.cjs ARGS`, measured. */
export function measureCli(args, opts) {
  return measure((memory) => spawnTimed(process.execPath, [bin, ...args], { ...opts, memory }));
}

export function git(args, opts = {}) {
  return execFileSync('git', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
}
