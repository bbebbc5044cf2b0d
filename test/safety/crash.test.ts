/**
 * Crash convergence (issue 9): kill -9 the CLI (or its whole process group) at a git call of
 * `commit`, `commit --all`, `commit --branch-per-phase --all`, `commit --version-file` and
 * `advance`, all with a push to a bare remote; then run the same command again, without the killer,
 * until a run completes (exit 0; for advance: advanced or waiting). It must get there, within three
 * re-runs, and the repository must end as a
 * clean run leaves it: exactly one commit per phase (trailer Osv-Update-Phase), the remote equal to
 * the local branch, a clean `git status`, a clean `git fsck`, no lock file left in .git.
 *
 * Kill points come from a clean run's git calls: by default a deterministic sample that covers every
 * distinct git step (see killPoints); OSV_CRASH_FULL=1 kills at every call in both modes.
 * OSV_CRASH_JOBS sets how many kill runs go at once (default 2).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceOnce } from '../../src/advance/advance.js';
import { loadUpdate } from '../../src/cli/inputs.js';
import { runCli } from '../helpers/cli.js';
import { sealGitEnv, TEST_DATE } from '../helpers/git-repo.js';
import { clusterAt } from '../helpers/snapshots.js';
import { ensureBuilt, spawnCli, spawnNode, type ProcessResult } from './built-cli.js';
import { killPoints, makeKiller, realGit, type KillMode, type KillPoint } from './crash-harness.js';
import { git, PROJECT_ROOT, USER_OSV, USER_OSV_PATH, DEPLOYMENTS_DIR, userGit } from './sandbox.js';

const FULL = process.env['OSV_CRASH_FULL'] === '1';
const JOBS = Math.max(1, Number(process.env['OSV_CRASH_JOBS'] ?? '2') || 2);
const MAX_RERUNS = 3;

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const update = loadUpdate({ example: true }, io);
const plan = update.plan;
const T = plan.versions.target;
const GIT_PHASES = plan.phases.filter((p) => p.git.changes).map((p) => p.id);

/** A driver for `advance` as a real process: the library from dist/, one cluster snapshot from a file. */
const ADVANCE_DRIVER = `import { readFileSync } from 'node:fs';
const [dist, snapshotFile, repo, date] = process.argv.slice(2);
const { loadUpdate } = await import(new URL('src/cli/inputs.js', dist));
const { advanceOnce } = await import(new URL('src/advance/advance.js', dist));
const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
try {
  const update = loadUpdate({ example: true }, io);
  const snapshot = JSON.parse(readFileSync(snapshotFile, 'utf8'));
  const r = await advanceOnce(update, { repo, engine: 'flux', remote: 'origin', date, readSnapshot: async () => snapshot, log: (l) => process.stderr.write(l + '\\n') });
  process.stdout.write(JSON.stringify({ outcome: r.outcome, committed: r.committed ?? null, pushed: r.pushed }) + '\\n');
  process.exitCode = r.exitCode;
} catch (e) {
  process.stderr.write('error [' + (e && e.code ? e.code : 'INTERNAL') + ']: ' + (e && e.message ? e.message : String(e)) + '\\n');
  process.exitCode = e && typeof e.exitCode === 'number' ? e.exitCode : 70;
}
`;

interface Scenario {
  readonly name: string;
  /** Build the template: `repo/` (origin = ../remote.git) and `remote.git/` under `dir`. */
  readonly prepare: (dir: string) => Promise<void>;
  /** How to run it in a sandbox `dir`. */
  readonly run: (dir: string, env: NodeJS.ProcessEnv) => Promise<ProcessResult>;
  /** Did this run report that nothing is left to do? */
  readonly done: (r: ProcessResult) => boolean;
  /** Phases that must each have exactly one commit at the end. */
  readonly phases: readonly string[];
  /** Branches whose local and remote tips must be equal (all osv-update/* branches too for branch-per-phase). */
  readonly perPhaseBranches?: boolean;
}

let driverFile = '';
const distUrl = pathToFileURL(join(PROJECT_ROOT, 'dist')).href + '/';

function bareAndRepo(dir: string): string {
  const repo = join(dir, 'repo');
  git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', join(dir, 'remote.git'));
  git(dir, 'init', '--quiet', '--initial-branch=main', repo);
  writeFileSync(join(repo, 'README.md'), 'our GitOps repository\n');
  userGit(repo, 'add', 'README.md');
  userGit(repo, 'commit', '--quiet', '-m', 'init');
  git(repo, 'remote', 'add', 'origin', '../remote.git');
  git(repo, 'push', '--quiet', 'origin', 'main');
  return repo;
}

const jsonOf = (r: ProcessResult): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};
/** `commit` is done when a run completes: it commits every pending phase (or finds none) and pushes. */
const commitDone = (r: ProcessResult) => r.exitCode === 0 && Array.isArray(jsonOf(r)?.['committed']);
const cli = (args: readonly string[]) => (dir: string, env: NodeJS.ProcessEnv) => spawnCli(args, { cwd: dir, env, timeoutMs: 120_000 });
const advanceRun = (dir: string, env: NodeJS.ProcessEnv) => spawnNode(driverFile, [distUrl, join(dir, 'snapshot.json'), join(dir, 'repo'), TEST_DATE], { cwd: dir, env, timeoutMs: 120_000 });
/** `advance` is done when a step completes: it advanced (committed and pushed) or waits for the next gate. */
const advanceDone = (r: ProcessResult) => (r.exitCode === 3 || r.exitCode === 0) && ['advanced', 'waiting'].includes(String(jsonOf(r)?.['outcome']));

const VF_ARGS = ['--version-file', USER_OSV_PATH, '--deployments-dir', DEPLOYMENTS_DIR];

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'commit (the next phase) --push',
    prepare: async (dir) => {
      const repo = bareAndRepo(dir);
      // the first two phases are in already; the killed run commits the last one
      const r = await runCli(['commit', '--example', '--repo', repo, '--phase', '2', '--push'], dir);
      if (r.exitCode !== 0) throw new Error(`template: ${r.stderr}`);
    },
    run: cli(['commit', '--example', '--repo', 'repo', '--push', '--json']),
    done: commitDone,
    phases: GIT_PHASES,
  },
  {
    name: 'commit --all --push',
    prepare: async (dir) => void bareAndRepo(dir),
    run: cli(['commit', '--example', '--repo', 'repo', '--all', '--push', '--json']),
    done: commitDone,
    phases: GIT_PHASES,
  },
  {
    name: 'commit --branch-per-phase --all --push',
    prepare: async (dir) => void bareAndRepo(dir),
    run: cli(['commit', '--example', '--repo', 'repo', '--branch-per-phase', '--all', '--push', '--json']),
    done: commitDone,
    phases: GIT_PHASES,
    perPhaseBranches: true,
  },
  {
    name: 'commit --version-file --all --push',
    prepare: async (dir) => {
      const repo = bareAndRepo(dir);
      mkdirSync(join(repo, dirname(USER_OSV_PATH)), { recursive: true });
      writeFileSync(join(repo, USER_OSV_PATH), USER_OSV);
      writeFileSync(join(repo, dirname(USER_OSV_PATH), 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- openstackversion.yaml\n- update-deployments\n');
      userGit(repo, 'add', '.');
      userGit(repo, 'commit', '--quiet', '-m', 'our OpenStackVersion');
      git(repo, 'push', '--quiet', 'origin', 'main');
    },
    run: cli(['commit', '--example', '--repo', 'repo', ...VF_ARGS, '--all', '--push', '--json']),
    done: commitDone,
    phases: GIT_PHASES,
  },
  {
    name: 'advance (preflight passed: commit and push the first phase)',
    prepare: async (dir) => {
      bareAndRepo(dir);
      writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(clusterAt(plan, { targetApplied: false, trueConditions: [] })));
    },
    run: advanceRun,
    done: advanceDone,
    phases: GIT_PHASES.slice(0, 1),
  },
  {
    name: 'advance (first gate passed: commit and push the second phase)',
    prepare: async (dir) => {
      const repo = bareAndRepo(dir);
      const before = clusterAt(plan, { targetApplied: false, trueConditions: [] });
      const first = await advanceOnce(update, { repo, engine: 'flux', remote: 'origin', date: TEST_DATE, readSnapshot: async () => before });
      if (first.outcome !== 'advanced') throw new Error(`template: advance said ${first.outcome}`);
      const sha = git(repo, 'rev-parse', 'HEAD').trim();
      const passed = clusterAt(plan, { targetApplied: true, trueConditions: ['MinorUpdateOVNControlplane'], agentSha: sha });
      writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(passed));
    },
    run: advanceRun,
    done: advanceDone,
    phases: GIT_PHASES.slice(0, 2),
  },
];

// ---------------------------------------------------------------------------------------------
// convergence

function gitResult(cwd: string, ...args: string[]): { code: number; out: string } {
  const r = spawnSync(realGitPath, args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}`.trim() };
}

function locksIn(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name !== 'objects') walk(join(d, e.name), r);
      } else if (e.name.endsWith('.lock')) found.push(r);
    }
  };
  walk(dir, '');
  return found;
}

/** Everything that says the repository is not as a clean run leaves it. */
function divergence(s: Scenario, dir: string): string[] {
  const repo = join(dir, 'repo');
  const remote = join(dir, 'remote.git');
  const problems: string[] = [];
  const refs = s.perPhaseBranches ? ['--branches=osv-update/*'] : ['refs/heads/main'];
  const log = gitResult(repo, 'log', `--format=%(trailers:key=Osv-Update-Target,valueonly,separator=%x2C)%x1f%(trailers:key=Osv-Update-Phase,valueonly,separator=%x2C)`, ...refs);
  const phases = log.out
    .split('\n')
    .map((l) => l.split('\x1f'))
    .filter(([target]) => target?.trim() === T)
    .map(([, phase]) => (phase ?? '').trim().replace(/^\d+\s+/, ''));
  const counts = new Map<string, number>();
  for (const p of phases) counts.set(p, (counts.get(p) ?? 0) + 1);
  for (const p of s.phases) if (counts.get(p) !== 1) problems.push(`${counts.get(p) ?? 0} commits of phase ${p}`);
  for (const p of counts.keys()) if (!s.phases.includes(p)) problems.push(`unexpected commit of phase ${p}`);
  const refList = (cwd: string) => gitResult(cwd, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/').out;
  const local = refList(repo);
  const far = refList(remote);
  if (s.perPhaseBranches) {
    const pick = (text: string) => text.split('\n').filter((l) => l.startsWith('refs/heads/osv-update/') || l.startsWith('refs/heads/main ')).join('\n');
    if (pick(local) !== pick(far)) problems.push(`remote differs from local:\n${pick(far)}\n!=\n${pick(local)}`);
    const branches = pick(local).split('\n').filter((l) => l.startsWith('refs/heads/osv-update/')).length;
    if (branches !== s.phases.length) problems.push(`${branches} osv-update branches, expected ${s.phases.length}`);
  } else {
    const main = (text: string) => text.split('\n').find((l) => l.startsWith('refs/heads/main ')) ?? '(no main)';
    if (main(local) !== main(far)) problems.push(`remote main ${main(far)} != local ${main(local)}`);
  }
  const status = gitResult(repo, 'status', '--porcelain');
  if (status.code !== 0 || status.out !== '') problems.push(`git status not clean: ${status.out.slice(0, 300)}`);
  const head = gitResult(repo, 'symbolic-ref', 'HEAD');
  if (head.out !== 'refs/heads/main') problems.push(`HEAD is ${head.out}, not refs/heads/main`);
  for (const [where, d] of [['local', repo], ['remote', remote]] as const) {
    const fsck = gitResult(d, 'fsck', '--no-progress', '--no-dangling');
    if (fsck.code !== 0 || fsck.out !== '') problems.push(`git fsck (${where}): exit ${fsck.code} ${fsck.out.slice(0, 300)}`);
  }
  const locks = locksIn(join(repo, '.git'));
  if (locks.length) problems.push(`lock files left in .git: ${locks.join(', ')}`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// runs

let realGitPath = 'git';
let base = '';
const templates = new Map<string, string>();
const summary = { scenarios: 0, points: 0, killed: 0, notReached: 0, converged: 0, reruns: 0 };
const failures: string[] = [];

function copyTemplate(template: string): string {
  const root = mkdtempSync(join(tmpdir(), 'osv-crash-'));
  const dir = join(root, 'sb');
  execFileSync('cp', ['-a', template, dir], { stdio: 'ignore' });
  return dir;
}

const short = (r: ProcessResult) => {
  const lines = r.stderr.split('\n').filter(Boolean);
  const error = lines.find((l) => /^error \[|internal error/.test(l));
  return `exit ${r.exitCode}${r.signal ? ` (${r.signal})` : ''} ${[error, lines.at(-1)].filter((l, i, a) => l && a.indexOf(l) === i).join(' | ').slice(0, 300)}`;
};

/** A clean run's git calls: the kill points are chosen from these. */
async function cleanCalls(s: Scenario): Promise<string[][]> {
  const dir = copyTemplate(templates.get(s.name)!);
  const killer = makeKiller(join(dirname(dir), 'killer'), realGitPath);
  killer.reset();
  const r = await s.run(dir, killer.env(0, 'parent'));
  if (!s.done(r) && r.exitCode !== 0 && r.exitCode !== 3) throw new Error(`${s.name}: the clean run failed: ${short(r)}`);
  const problems = divergence(s, dir);
  if (problems.length) throw new Error(`${s.name}: the clean run does not end converged: ${problems.join('; ')}`);
  const calls = killer.calls();
  rmSync(dirname(dir), { recursive: true, force: true });
  return calls;
}

/** Kill at one point, re-run until done, check convergence; returns the problems (empty: converged). */
async function killAndRecover(s: Scenario, p: KillPoint): Promise<string[]> {
  const dir = copyTemplate(templates.get(s.name)!);
  const killer = makeKiller(join(dirname(dir), 'killer'), realGitPath);
  killer.reset();
  const first = await s.run(dir, killer.env(p.at, p.mode));
  if (killer.killed()) summary.killed++;
  else summary.notReached++;
  const log: string[] = [`killed run: ${short(first)}`];
  let done = false;
  for (let i = 0; i < MAX_RERUNS && !done; i++) {
    const r = await s.run(dir, process.env);
    summary.reruns++;
    log.push(`re-run ${i + 1}: ${short(r)}`);
    done = s.done(r);
    if (!done && r.exitCode !== 0 && r.exitCode !== 3) break; // an error will not go away by itself
  }
  const problems = done ? divergence(s, dir) : ['never reported done'];
  if (problems.length === 0) {
    summary.converged++;
    rmSync(dirname(dir), { recursive: true, force: true });
    return [];
  }
  return [`kill ${p.mode} at git call ${p.at} (${p.step}): ${problems.join('; ')} [${log.join(' / ')}] (kept at ${dir})`];
}

async function pool<T, R>(items: readonly T[], jobs: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!);
      }
    }),
  );
  return out;
}

describe('crash convergence (issue 9): kill -9 at a git step, re-run, same end state', () => {
  beforeAll(async () => {
    sealGitEnv();
    realGitPath = realGit();
    await ensureBuilt((l) => console.log(l));
    base = mkdtempSync(join(tmpdir(), 'osv-crash-tpl-'));
    driverFile = join(base, 'advance-driver.mjs');
    writeFileSync(driverFile, ADVANCE_DRIVER);
    for (const [i, s] of SCENARIOS.entries()) {
      const dir = join(base, `s${i}`);
      mkdirSync(dir);
      await s.prepare(dir);
      templates.set(s.name, dir);
    }
  }, 300_000);

  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
    console.log(
      `crash suite: ${summary.scenarios} scenarios, ${summary.points} kill points (${FULL ? 'every call, both modes' : 'sampled'}), ` +
        `${summary.killed} killed runs (${summary.notReached} never reached their call), ${summary.reruns} re-runs, ${summary.converged} converged, ${summary.points - summary.converged} did not`,
    );
    for (const f of failures) console.log(`NOT CONVERGED ${f}`);
  });

  it('the git wrapper kills its caller at the chosen call, and only there', async () => {
    const root = mkdtempSync(join(tmpdir(), 'osv-crash-self-'));
    const killer = makeKiller(join(root, 'killer'), realGitPath);
    killer.reset();
    const script = join(root, 'three-calls.mjs');
    writeFileSync(script, "import { execFileSync } from 'node:child_process';\nfor (let i = 0; i < 3; i++) execFileSync('git', ['--version']);\nprocess.stdout.write('survived');\n");
    const killed = await spawnNode(script, [], { cwd: root, env: killer.env(2, 'parent') });
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.stdout).toBe('');
    expect(killer.calls().length).toBe(2);
    killer.reset();
    const group = await spawnNode(script, [], { cwd: root, env: killer.env(1, 'group') });
    expect(group.signal).toBe('SIGKILL');
    killer.reset();
    const clean = await spawnNode(script, [], { cwd: root, env: killer.env(0, 'parent') });
    expect(clean.stdout).toBe('survived');
    expect(killer.calls().map((c) => c[0])).toEqual(['--version', '--version', '--version']);
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  for (const s of SCENARIOS) {
    it(s.name, async () => {
      summary.scenarios++;
      const calls = await cleanCalls(s);
      const points = killPoints(calls, FULL);
      summary.points += points.length;
      const results = await pool(points, JOBS, (p) => killAndRecover(s, p));
      const broken = results.flat();
      failures.push(...broken.map((b) => `${s.name}: ${b}`));
      const modes = new Set<KillMode>(points.map((p) => p.mode));
      expect(modes.size, 'both kill modes are exercised').toBe(2);
      expect(broken, `${broken.length} of ${points.length} kill points did not converge (clean run: ${calls.length} git calls: ${calls.map((c) => c.filter((a) => !a.startsWith('/')).slice(0, 3).join(' ')).join(', ')})`).toEqual([]);
    }, 600_000);
  }
});
