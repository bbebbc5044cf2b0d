#!/usr/bin/env node
// Run by scripts/build.mjs after the bundles are built: runs the CLI's common commands on the
// bundled example in this process, then writes the V8 code cache of every bundle they loaded
// (bin/load-bundle.cjs reads it). The cache holds every function the warm-up compiled, so a command
// it ran starts without compiling them again. Each command works in a temporary folder; none
// reaches the network (the cluster it is pointed at refuses at once).
//
// A command that fails here only leaves its functions out of the cache: each run's exit code is
// printed, and the caches are written anyway.
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheFileOf, compiledScripts, loadBundle } from '../bin/load-bundle.cjs';
import { copyExampleDump } from './example-dump.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'osv-code-cache-'));
const example = join(root, 'fixtures', 'example');

/** A must-gather of the example (what `status --from-files` reads). */
function exampleDump() {
  const dir = join(work, 'dump');
  mkdirSync(dir);
  copyExampleDump(example, dir);
  return dir;
}

/**
 * The example's CSV with a block scalar, as `oc get csv -o yaml` gives it: the fast reader steps
 * aside for it, and the yaml parser reads it.
 */
function csvWithBlockScalar() {
  const file = join(work, 'csv.yaml');
  const csv = readFileSync(join(example, 'csv.yaml'), 'utf8');
  writeFileSync(file, csv.replace(/^spec:\n/m, 'spec:\n  description: |\n    A block scalar, which only the full parser reads.\n'));
  return file;
}

/** A Git work tree to commit into, with an identity of its own, cloned from a bare repository to push to. */
function repository() {
  const remote = join(work, 'remote.git');
  const dir = join(work, 'repo');
  const git = (cwd, ...args) => execFileSync('git', args, { cwd, stdio: 'ignore' });
  git(work, 'init', '-q', '--bare', '-b', 'main', remote);
  git(work, 'clone', '-q', remote, dir);
  git(dir, 'config', 'user.name', 'osv-gitops build');
  git(dir, 'config', 'user.email', 'build@osv-gitops.invalid');
  // none of the builder's own hooks or signing runs for this throwaway repository
  mkdirSync(join(work, 'no-hooks'));
  git(dir, 'config', 'core.hooksPath', join(work, 'no-hooks'));
  git(dir, 'config', 'commit.gpgsign', 'false');
  git(dir, 'commit', '-q', '--allow-empty', '-m', 'start');
  git(dir, 'push', '-q', 'origin', 'main');
  return dir;
}

/** A kubeconfig whose server refuses every connection. */
function unreachableKubeconfig() {
  const file = join(work, 'kubeconfig');
  writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {token: t}}]\n');
  return file;
}

const quiet = { cwd: work, stdout: () => {}, stderr: () => {}, color: false };
const runs = [
  ['--help'],
  ['plan', '--help'],
  ['plan', '--example'],
  ['plan', '--example', '--json'],
  ['plan', '--csv', csvWithBlockScalar(), '--openstack-version', join(example, 'openstackversion.yaml'), '--controlplane', join(example, 'controlplane.yaml'), '--nodesets', join(example, 'nodesets')],
  ['render', '--example', '--engine', 'flux', '--repo-path', '.', '--out', join(work, 'flux')],
  ['render', '--example', '--engine', 'argocd', '--repo-url', 'https://git.example.com/ops/openstack.git', '--repo-path', '.', '--out', join(work, 'argocd')],
  ['render', '--example', '--engine', 'plain', '--repo-path', '.', '--out', join(work, 'plain')],
  ['status', '--example', '--from-files', exampleDump(), '--agent', 'none'],
];
const kubeconfig = unreachableKubeconfig();
/** Runs at the same time: each waits out its retries against the cluster that refuses. */
const unreachable = [['status', '--example', '--kubeconfig', kubeconfig, '--agent', 'none', '--request-timeout', '1']];
try {
  const repo = repository();
  // advance reads the repository, then stops at the cluster; commit then commits every phase and pushes
  unreachable.push(['advance', '--example', '--repo', repo, '--kubeconfig', kubeconfig, '--agent', 'flux:flux-system/openstack', '--request-timeout', '1']);
  runs.push(['commit', '--example', '--all', '--push', '--repo', repo]);
} catch (e) {
  console.log(`code cache: no Git repository to warm advance and commit with (${e.message.split('\n')[0]})`);
}

try {
  const cli = loadBundle(join(root, 'dist', 'cli', 'cli.cjs'));
  const codes = [];
  const exitOf = async (argv) => `${argv.slice(0, 2).join(' ')} ${await cli.run(argv, quiet)}`;
  codes.push(...(await Promise.all(unreachable.map(exitOf))));
  for (const argv of runs) codes.push(await exitOf(argv));
  console.log(`code cache: warm-up exit codes: ${codes.join(', ')}`);
  for (const [file, { script, hash }] of compiledScripts) {
    const data = script.createCachedData();
    writeFileSync(cacheFileOf(file), Buffer.concat([hash, data]));
  }
  console.log(`code cache: ${compiledScripts.size} bundles: ${[...compiledScripts.keys()].map((f) => f.slice(root.length + 1)).join(', ')}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
