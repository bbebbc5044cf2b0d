#!/usr/bin/env node
// Issue 14's table: every row with its target and pass/miss, whole processes (see timing.mjs), on
// the example and on synthetic estates of 200 and 2,000 nodesets (every image changed). Render rows
// write into a new folder each run (the same render again writes nothing: a row of its own) and are
// judged against `kubectl kustomize` of their own output, timed in the same run, in pairs: each
// render run is followed by one kustomize run.
// Run `npm run build` first (npm run bench does). BENCH_RUNS (default 5) and BENCH_LARGE_RUNS
// (default 3, the 2,000-nodeset rows) set the runs.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { copyExampleDump } from '../scripts/example-dump.mjs';
import { bin, fileCreation, git, header, measure, measureCli, median, root, runs, spawnTimed } from './timing.mjs';

const largeRuns = Number(process.env.BENCH_LARGE_RUNS ?? 3);
const work = mkdtempSync(join(tmpdir(), 'osv-bench-'));
const example = join(root, 'fixtures', 'example');

/** An estate of `n` nodesets of 10 nodes each, from the example's compute-a. */
function estate(n) {
  const dir = join(work, `estate-${n}`);
  mkdirSync(join(dir, 'nodesets'), { recursive: true });
  for (const f of ['csv.yaml', 'openstackversion.yaml', 'controlplane.yaml']) copyFileSync(join(example, f), join(dir, f));
  const template = parse(readFileSync(join(example, 'nodesets', 'compute-a.yaml'), 'utf8'));
  for (let i = 0; i < n; i++) {
    const ns = structuredClone(template);
    ns.metadata.name = `compute-${String(i).padStart(4, '0')}`;
    ns.spec.nodes = Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`${ns.metadata.name}-${k}`, { hostName: `${ns.metadata.name}-${k}` }]));
    writeFileSync(join(dir, 'nodesets', `${ns.metadata.name}.yaml`), stringify(ns));
  }
  return dir;
}

const inputs = ['--csv', 'csv.yaml', '--openstack-version', 'openstackversion.yaml', '--controlplane', 'controlplane.yaml', '--nodesets', 'nodesets', '--batch', 'compute-0000'];
const engineArgs = (engine) => ['--engine', engine, ...(engine === 'argocd' ? ['--repo-url', 'https://git.example.com/ops/openstack.git'] : [])];
const gitEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'b@example.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'b@example.invalid' };

/** A work tree with one commit and a bare `origin`. */
function freshRepo() {
  const dir = mkdtempSync(join(work, 'git-'));
  git(['init', '--quiet', '--bare', '--initial-branch=main', join(dir, 'remote.git')]);
  git(['init', '--quiet', '--initial-branch=main', join(dir, 'work')]);
  git(['-C', join(dir, 'work'), 'commit', '--quiet', '--allow-empty', '-m', 'init'], { env: gitEnv });
  git(['-C', join(dir, 'work'), 'remote', 'add', 'origin', `file://${join(dir, 'remote.git')}`]);
  return join(dir, 'work');
}

/** `commit --all --push` into a fresh repository each run (the repository is made outside the timing). */
function measureCommit(cwd, n, memoryRuns) {
  return measure((memory) => spawnTimed(process.execPath, [bin, 'commit', ...inputs, '--repo', freshRepo(), '--all', '--push'], { cwd, env: gitEnv, memory }), n, memoryRuns);
}

/** `node bin/osv-gitops.cjs ARGS(out)` measured with a new `out` folder each run. */
function measureFresh(args, opts, n, memoryRuns) {
  let run = 0;
  return measure((memory) => spawnTimed(process.execPath, [bin, ...args(`out-${++run}`)], { ...opts, memory }), n, memoryRuns);
}

/**
 * One `kubectl kustomize` of every phase folder a render wrote into `out`, one after the other (the
 * time to build what we wrote), as a function that times it; undefined when kubectl is missing.
 */
function kustomizeBuildOf(out) {
  const kubectl = join(root, '.cache', 'bin', 'kubectl');
  if (!existsSync(kubectl)) return undefined;
  const base = join(out, 'updates');
  const version = readdirSync(base)[0];
  const dirs = readdirSync(join(base, version)).filter((d) => /^\d\d-/.test(d) || d === 'flux' || d === 'argocd').map((d) => join(base, version, d));
  return () => {
    const t0 = process.hrtime.bigint();
    for (const d of dirs) execFileSync(kubectl, ['kustomize', d], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUBECONFIG: '/dev/null' }, maxBuffer: 256 << 20 });
    return { ms: Number(process.hrtime.bigint() - t0) / 1e6 };
  };
}

/**
 * `renderOnce(memory)` measured as `measure` does, each timed run followed by one `kustomizeOnce()`:
 * this machine's speed drifts by ±10 % within a minute, and in pairs the drift slows both sides
 * alike. `ratio` is the median of the pairs' ratios, `kustomize` kustomize's median (ms).
 */
function pairedWithKustomize(renderOnce, kustomizeOnce, n = runs) {
  let mb = renderOnce(true).mb;
  kustomizeOnce?.();
  const own = [];
  const theirs = [];
  const ratios = [];
  for (let i = 0; i < n; i++) {
    own.push(renderOnce(false).ms);
    if (!kustomizeOnce) continue;
    theirs.push(kustomizeOnce().ms);
    ratios.push(own[i] / theirs[i]);
  }
  const m = { median: median(own), min: Math.min(...own), max: Math.max(...own), mb };
  return kustomizeOnce ? { ...m, kustomize: median(theirs), ratio: median(ratios) } : m;
}

/** A dump of the example as `status --from-files` reads it. */
function exampleDump() {
  const dir = join(work, 'dump');
  mkdirSync(dir);
  copyExampleDump(example, dir);
  return dir;
}

/**
 * A rehearsal cluster standing still in another process (waiting-cluster.mjs): the first `advance`
 * commits phase 1, every later one waits for the stopped agent (exit 3). Resolves to the flags.
 */
async function waitingCluster() {
  const child = spawn(process.execPath, [join(root, 'bench', 'waiting-cluster.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const info = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))));
    });
    child.on('exit', (code) => reject(new Error(`waiting-cluster.mjs exited ${code}`)));
  });
  const args = ['advance', '--example', '--repo', info.repo, '--kubeconfig', info.kubeconfig, '--agent', info.agent, '--csv-namespace', info.csvNamespace];
  return { args, stop: () => child.stdin.end() };
}

const rows = [];
const ms = (x) => `${(x / 1000).toFixed(2)} s`;
function row(what, m, target, { limitMs, limitMb, limitRatio, against } = {}) {
  const okTime = (limitMs === undefined || m.median <= limitMs) && (limitRatio === undefined || (m.ratio !== undefined && m.ratio <= limitRatio));
  const okMem = limitMb === undefined || (m.mb !== undefined && m.mb <= limitMb);
  rows.push({ what, median: ms(m.median), range: `${ms(m.min)}-${ms(m.max)}`, mb: m.mb === undefined ? '' : `${m.mb.toFixed(0)} MB`, against: against ?? '', target, verdict: okTime && okMem ? 'pass' : 'miss' });
}

try {
  console.log(header('issue 14: whole-process timings against their targets'));
  row('osv-gitops --version', measureCli(['--version']), '≤ 0.18 s', { limitMs: 180 });
  row('plan --example', measureCli(['plan', '--example']), '≤ 0.25 s', { limitMs: 250 });
  row('status --from-files (example)', measureCli(['status', '--example', '--from-files', exampleDump(), '--agent', 'none'], { okCodes: [0, 3] }), '≤ 0.35 s', { limitMs: 350 });
  const cluster = await waitingCluster();
  try {
    spawnTimed(process.execPath, [bin, ...cluster.args], { env: gitEnv }); // commits phase 1 (exit 0)
    row('advance, one waiting step (rehearsal API server)', measureCli(cluster.args, { env: gitEnv, okCodes: [3] }), '≤ 0.6 s', { limitMs: 600 });
  } finally {
    cluster.stop();
  }

  const e200 = estate(200);
  row('plan, 200 nodesets', measureCli(['plan', ...inputs, '--json'], { cwd: e200 }), '≤ 0.40 s', { limitMs: 400 });
  for (const engine of ['flux', 'argocd']) {
    const render = (out) => ['render', ...inputs, ...engineArgs(engine), '--repo-path', '.', '--out', out];
    const renderInto = (out) => (memory) => spawnTimed(process.execPath, [bin, ...render(out)], { cwd: e200, memory });
    // each engine renders into folders of its own: one the other wrote would be replaced, not written
    const out = (n) => `out-${engine}-${n}`;
    renderInto(out(0))(false); // what kustomize builds
    const kustomize = kustomizeBuildOf(join(e200, out(0)));
    const vsKustomize = (m) => ({ limitRatio: 0.5, against: m.ratio === undefined ? '' : `${m.ratio.toFixed(2)} ×` });
    const target = (m) => (m.ratio === undefined ? '≤ 0.5 × kubectl kustomize (not installed: npm run tools)' : `≤ 0.5 × kubectl kustomize (${ms(m.kustomize)})`);
    // a new folder each run: a render that writes every file (the same render again writes nothing)
    let run = 0;
    const first = pairedWithKustomize((memory) => renderInto(out(++run))(memory), kustomize);
    row(`render ${engine}, 200 nodesets`, first, target(first), vsKustomize(first));
    const again = pairedWithKustomize(renderInto(out(0)), kustomize);
    row(`  the same render again (nothing written)`, again, target(again), vsKustomize(again));
  }
  row('commit --all --push, 200 nodesets', measureCommit(e200), '≤ 0.8 s', { limitMs: 800 });
  rmSync(e200, { recursive: true, force: true });

  const e2000 = estate(2000);
  // rows with a memory target: peak memory from as many untimed runs as timed ones
  const large = (args, opts) => measure((memory) => spawnTimed(process.execPath, [bin, ...args], { cwd: e2000, ...opts, memory }), largeRuns, largeRuns);
  row('plan, 2,000 nodesets', large(['plan', ...inputs, '--json']), '≤ 1.5 s, ≤ 150 MB', { limitMs: 1500, limitMb: 150 });
  row('render flux, 2,000 nodesets', measureFresh((out) => ['render', ...inputs, '--engine', 'flux', '--repo-path', '.', '--out', out], { cwd: e2000 }, largeRuns, largeRuns), '≤ 4 s, ≤ 150 MB', { limitMs: 4000, limitMb: 150 });
  row('commit --all --push, 2,000 nodesets', measureCommit(e2000, largeRuns, largeRuns), '≤ 4 s, ≤ 150 MB', { limitMs: 4000, limitMb: 150 });
} finally {
  rmSync(work, { recursive: true, force: true });
}

const cols = [['what', 'row'], ['median', 'median'], ['range', 'min-max'], ['mb', 'peak'], ['against', 'ratio'], ['target', 'target'], ['verdict', '']];
const width = cols.map(([k, h]) => Math.max(h.length, ...rows.map((r) => r[k].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(width[i])).join(' | ')} |`;
console.log(line(cols.map(([, h]) => h)));
console.log(`|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(cols.map(([k]) => r[k])));
console.log(`load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${fileCreation()}`);
