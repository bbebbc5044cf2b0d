#!/usr/bin/env node
// Benchmarks for osv-gitops. Prints medians; run with `npm run bench` after `npm ci`.
// - plan-example: cold `osv-gitops plan --example` (whole process), the README's main job
// - plan-large: `plan` on a synthetic estate of 200 nodesets with every image changed
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'osv-gitops.js');
const runs = Number(process.env.BENCH_RUNS ?? 7);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(label, args, cwd = root) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    execFileSync(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'ignore', 'ignore'] });
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`${label.padEnd(28)} median ${median(samples).toFixed(0)} ms  (min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)}, ${runs} runs)`);
}

function largeEstate() {
  const dir = mkdtempSync(join(tmpdir(), 'osv-bench-'));
  const ex = join(root, 'fixtures', 'example');
  for (const f of ['csv.yaml', 'openstackversion.yaml', 'controlplane.yaml']) writeFileSync(join(dir, f), readFileSync(join(ex, f)));
  const template = parse(readFileSync(join(ex, 'nodesets', 'compute-a.yaml'), 'utf8'));
  mkdirSync(join(dir, 'nodesets'));
  for (let i = 0; i < 200; i++) {
    const ns = structuredClone(template);
    ns.metadata.name = `compute-${String(i).padStart(3, '0')}`;
    ns.spec.nodes = Object.fromEntries(Array.from({ length: 10 }, (_, n) => [`${ns.metadata.name}-${n}`, { hostName: `${ns.metadata.name}-${n}` }]));
    writeFileSync(join(dir, 'nodesets', `${ns.metadata.name}.yaml`), stringify(ns));
  }
  return dir;
}

console.log(`node ${process.version}`);
time('node startup (baseline)', ['--version']);
time('plan --example (cold)', ['plan', '--example', '--json']);
const estate = largeEstate();
time('plan, 200 nodesets (cold)', ['plan', '--csv', 'csv.yaml', '--openstack-version', 'openstackversion.yaml', '--controlplane', 'controlplane.yaml', '--nodesets', 'nodesets', '--batch', 'compute-000', '--json'], estate);

// render: the 200-nodeset estate, all phases, both engines; compared with kustomize builds of the output
const kubectl = join(root, '.cache', 'bin', 'kubectl');
const estateArgs = ['--csv', 'csv.yaml', '--openstack-version', 'openstackversion.yaml', '--controlplane', 'controlplane.yaml', '--nodesets', 'nodesets', '--batch', 'compute-000'];
for (const engine of ['flux', 'argocd']) {
  time(`render ${engine}, 200 nodesets`, ['render', ...estateArgs, '--engine', engine, ...(engine === 'argocd' ? ['--repo-url', 'https://git.example.com/ops/openstack.git'] : []), '--out', `out-${engine}`], estate);
}
try {
  const base = join(estate, 'out-flux', 'updates');
  const version = execFileSync('ls', [base], { encoding: 'utf8' }).trim();
  const dirs = execFileSync('ls', [join(base, version)], { encoding: 'utf8' }).trim().split('\n').filter((d) => /^\d\d-/.test(d));
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    for (const d of dirs) execFileSync(kubectl, ['kustomize', join(base, version, d)], { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, KUBECONFIG: '/dev/null' } });
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`${'kustomize build of the output'.padEnd(28)} median ${median(samples).toFixed(0)} ms  (${dirs.length} folders, ${runs} runs)`);
} catch (e) {
  console.log(`kustomize build skipped (${e.message.split('\n')[0]}); run npm run tools first`);
}

// commits mode: every phase committed and pushed to a local bare remote
{
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'osv-bench-git-'));
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', join(dir, 'remote.git')]);
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', join(dir, 'work')]);
    const env = { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'b@example.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'b@example.invalid' };
    execFileSync('git', ['-C', join(dir, 'work'), 'commit', '--quiet', '--allow-empty', '-m', 'init'], { env });
    execFileSync('git', ['-C', join(dir, 'work'), 'remote', 'add', 'origin', `file://${join(dir, 'remote.git')}`]);
    const t0 = process.hrtime.bigint();
    execFileSync(process.execPath, [bin, 'commit', ...estateArgs, '--repo', join(dir, 'work'), '--all', '--push'], { cwd: estate, env, stdio: ['ignore', 'ignore', 'ignore'] });
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`${'commit --all --push (200 ns)'.padEnd(28)} median ${median(samples).toFixed(0)} ms  (min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)}, ${runs} runs)`);
}
