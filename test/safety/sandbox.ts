/**
 * Sandboxes for the safety suites: a temporary folder holding copies of a fixture's inputs, the
 * user's Git work tree with a bare remote, an allowed output folder and a sentinel folder
 * `outside/` that nothing may ever touch. Every sandbox sits six folders below its temporary root,
 * so a path that climbs out of the sandbox with a few `..` still lands inside the root, where the
 * before/after digest sees it (and never in the machine's real folders).
 *
 * Layout of a sandbox (`sb`, the working directory of every run):
 *   inputs/      the fixture's inputs (csv.yaml, openstackversion.yaml, controlplane.yaml, nodesets/ …)
 *   repo/        the user's GitOps work tree (README.md, clusters/prod/ with their own OpenStackVersion)
 *   remote.git/  its bare `origin`
 *   outside/     sentinel files, byte-compared before and after
 *   out/         where `render --out out` may write (holds one file of the user's)
 *   prs/         where `--pr-dir prs` may write
 *   plan.json    the fixture's plan, saved with `plan --output`
 *   dump/        an `oc get -o yaml` dump for `status --from-files`
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, sep } from 'node:path';
import { parse, stringify } from 'yaml';
import { TEST_DATE } from '../helpers/git-repo.js';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURES = join(PROJECT_ROOT, 'fixtures');

/** How many folders lie between the temporary root and the sandbox. */
export const PADDING = 6;

export interface Sandbox {
  /** The temporary root; everything below it is digested. */
  readonly root: string;
  /** The sandbox folder: the working directory of the CLI. */
  readonly dir: string;
  readonly inputs: string;
  readonly repo: string;
  readonly remote: string;
  readonly outside: string;
  readonly out: string;
  readonly prs: string;
  /** The fixture's input flags, with paths relative to `dir`. */
  readonly inputArgs: readonly string[];
  readonly fixture: string;
}

/** The user's own OpenStackVersion in their repository, edited in place by `--version-file`. */
export const USER_OSV = `# the platform team's OpenStackVersion
apiVersion: core.openstack.org/v1beta1
kind: OpenStackVersion
metadata:
  name: openstack
  namespace: openstack
spec:
  targetVersion: 18.0.3-1761036417
`;

export const USER_OSV_PATH = 'clusters/prod/openstackversion.yaml';
export const DEPLOYMENTS_DIR = 'clusters/prod/update-deployments';

const SENTINELS: Readonly<Record<string, string>> = {
  'keep.txt': 'the user keeps this file next to the repository\n',
  'osv.yaml': USER_OSV,
  'nested/deep.txt': 'a nested sentinel\n',
};

export function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', ...extra };
}

/** `commit` without `--version-file`: it writes its own copy of the OpenStackVersion. */
export function writesCopies(argv: readonly string[]): boolean {
  return argv[0] === 'commit' && !argv.includes('--version-file');
}

/**
 * The user's own OpenStackVersion taken out of the repository (a commit of that folder only, so
 * whatever the case staged stays staged): with it, a command that writes a copy refuses with
 * SECOND_OWNER, which test/git/owners.test.ts covers.
 */
export function retireUserVersionFile(sb: Sandbox): void {
  const folder = posix.dirname(USER_OSV_PATH);
  const index = join(sb.dir, 'retire.index');
  const env = gitEnv({ GIT_INDEX_FILE: index, GIT_AUTHOR_DATE: TEST_DATE, GIT_COMMITTER_DATE: TEST_DATE });
  const tmpGit = (...args: string[]) => execFileSync('git', ['-c', 'user.name=user', '-c', 'user.email=user@example.invalid', ...args], { cwd: sb.repo, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  tmpGit('read-tree', 'HEAD');
  tmpGit('rm', '--quiet', '-r', '--cached', '--', folder);
  const commit = tmpGit('commit-tree', tmpGit('write-tree'), '-p', 'HEAD', '-m', 'the OpenStackVersion moves to osv-gitops');
  rmSync(index, { force: true });
  userGit(sb.repo, 'update-ref', 'HEAD', commit);
  // a case that left .git/index.lock behind tests exactly that lock: leave the index to it
  if (!existsSync(join(sb.repo, '.git', 'index.lock'))) userGit(sb.repo, 'rm', '--quiet', '-r', '--cached', '--', folder);
  rmSync(join(sb.repo, folder), { recursive: true, force: true });
}

/** Run git in `cwd`; returns stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: gitEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** git with a fixed identity and date, for the user's own commits in the sandbox. */
export function userGit(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=user', '-c', 'user.email=user@example.invalid', ...args], {
    cwd,
    encoding: 'utf8',
    env: gitEnv({ GIT_AUTHOR_DATE: TEST_DATE, GIT_COMMITTER_DATE: TEST_DATE }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The fixture's input flags from its case.yaml, with paths rewritten to `inputs/…`. */
function fixtureArgs(fixture: string): string[] {
  const c = parse(readFileSync(join(FIXTURES, fixture, 'case.yaml'), 'utf8')) as { args: string[] };
  const fileFlags = new Set(['--csv', '--openstack-version', '--controlplane', '--nodesets', '--custom-images']);
  return c.args.map((a, i) => (i > 0 && fileFlags.has(c.args[i - 1]!) ? posix.join('inputs', a) : a));
}

export interface FixtureCase {
  readonly exitCode: number;
  readonly errorCode?: string;
}

export function fixtureExpect(fixture: string): FixtureCase {
  return (parse(readFileSync(join(FIXTURES, fixture, 'case.yaml'), 'utf8')) as { expect: FixtureCase }).expect;
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

function sandboxPaths(root: string, fixture: string): Sandbox {
  const dir = join(root, ...Array.from({ length: PADDING }, (_, i) => `p${i + 1}`), 'sb');
  return {
    root,
    dir,
    inputs: join(dir, 'inputs'),
    repo: join(dir, 'repo'),
    remote: join(dir, 'remote.git'),
    outside: join(dir, 'outside'),
    out: join(dir, 'out'),
    prs: join(dir, 'prs'),
    inputArgs: fixtureArgs(fixture),
    fixture,
  };
}

/** A must-gather-shaped dump of the fixture mid-update, for `status --from-files`. */
function writeDump(sb: Sandbox): void {
  const ns = join(sb.dir, 'dump', 'namespaces', 'openstack');
  mkdirSync(ns, { recursive: true });
  const osvFile = join(sb.inputs, 'openstackversion.yaml');
  const cpFile = join(sb.inputs, 'controlplane.yaml');
  const docs: unknown[] = [];
  for (const f of [osvFile, cpFile]) {
    try {
      docs.push(parse(readFileSync(f, 'utf8')));
    } catch {
      // a fixture without that input: the dump holds what there is
    }
  }
  writeFileSync(join(ns, 'core.yaml'), stringify({ apiVersion: 'v1', kind: 'List', items: docs }));
}

const templates = new Map<string, Sandbox>();

/**
 * The template sandbox of a fixture, built once: inputs, repository (one commit, pushed), outside,
 * out, prs. `savePlan` writes plan.json with the CLI itself (in-process), when the inputs plan.
 */
export async function templateFor(fixture: string, savePlan: (sb: Sandbox) => Promise<void>): Promise<Sandbox> {
  const cached = templates.get(fixture);
  if (cached) return cached;
  const root = mkdtempSync(join(tmpdir(), `osv-safety-tpl-${fixture}-`));
  const sb = sandboxPaths(root, fixture);
  mkdirSync(sb.dir, { recursive: true });
  cpSync(join(FIXTURES, fixture), sb.inputs, { recursive: true, filter: (src) => !src.endsWith(`${sep}expected`) && !src.endsWith('case.yaml') });
  for (const [rel, content] of Object.entries(SENTINELS)) {
    mkdirSync(join(sb.outside, posix.dirname(rel)), { recursive: true });
    writeFileSync(join(sb.outside, rel), content);
  }
  mkdirSync(sb.out, { recursive: true });
  writeFileSync(join(sb.out, 'mine.txt'), 'a file of the user in the output folder\n');
  mkdirSync(sb.prs, { recursive: true });
  git(sb.dir, 'init', '--quiet', '--bare', '--initial-branch=main', sb.remote);
  git(sb.dir, 'init', '--quiet', '--initial-branch=main', sb.repo);
  writeFileSync(join(sb.repo, 'README.md'), 'our GitOps repository\n');
  mkdirSync(join(sb.repo, 'clusters', 'prod'), { recursive: true });
  writeFileSync(join(sb.repo, USER_OSV_PATH), USER_OSV);
  writeFileSync(
    join(sb.repo, 'clusters', 'prod', 'kustomization.yaml'),
    'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- openstackversion.yaml\n',
  );
  userGit(sb.repo, 'add', '.');
  userGit(sb.repo, 'commit', '--quiet', '-m', 'init');
  // relative, so that a copied sandbox pushes to its own remote
  git(sb.repo, 'remote', 'add', 'origin', '../remote.git');
  git(sb.repo, 'push', '--quiet', 'origin', 'main');
  writeDump(sb);
  await savePlan(sb);
  templates.set(fixture, sb);
  return sb;
}

/** Remove every template sandbox (after the suite). */
export function dropTemplates(): void {
  for (const t of templates.values()) rmSync(t.root, { recursive: true, force: true });
  templates.clear();
}

/** A fresh copy of a template sandbox in a new temporary root. */
export function copySandbox(template: Sandbox): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'osv-safety-'));
  const sb = sandboxPaths(root, template.fixture);
  mkdirSync(dirname(sb.dir), { recursive: true });
  // one `cp -a` is several times faster than a recursive cpSync, and keeps modes and links as they are
  execFileSync('cp', ['-a', template.dir, sb.dir], { stdio: 'ignore' });
  return sb;
}

// ---------------------------------------------------------------------------------------------
// digests

/** Paths (relative to the root, `/`-separated) whose bytes Git may rewrite without any change of state. */
export function gitNoise(rel: string): boolean {
  return /(?:^|\/)(?:repo\/\.git|remote\.git)\/(?:objects|logs)(?:\/|$)/.test(rel) || /(?:^|\/)repo\/\.git\/(?:index|FETCH_HEAD|ORIG_HEAD|COMMIT_EDITMSG)$/.test(rel);
}

/** Type, mode and content hash (or link target) of every entry below `root`. */
export function digestTree(root: string, ignore: (rel: string) => boolean = gitNoise): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (abs: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch {
      return;
    }
    for (const name of names) {
      const a = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      if (ignore(r)) continue;
      const st = lstatSync(a);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.set(r, `link ${readlinkSync(a)}`);
      else if (st.isDirectory()) {
        out.set(r, `dir ${mode}`);
        walk(a, r);
      } else if (st.isFile()) out.set(r, `file ${mode} ${createHash('sha256').update(readFileSync(a)).digest('hex')}`);
      else out.set(r, `special ${mode}`);
    }
  };
  walk(root, '');
  return out;
}

/** What changed between two digests: `+path` added, `-path` removed, `~path` changed. */
export function digestDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [p, v] of before) {
    const w = after.get(p);
    if (w === undefined) changes.push(`-${p}`);
    else if (w !== v) changes.push(`~${p}`);
  }
  for (const p of after.keys()) if (!before.has(p)) changes.push(`+${p}`);
  return changes.sort((a, b) => a.slice(1).localeCompare(b.slice(1)));
}

/** A path of the root relative to the sandbox folder (`..`-prefixed when above it). */
export function sandboxRelative(sb: Sandbox, rootRel: string): string {
  return relative(sb.dir, join(sb.root, rootRel)).split(sep).join('/');
}

// ---------------------------------------------------------------------------------------------
// Git state

export interface GitState {
  readonly refs: string;
  readonly head: string;
  readonly index: string;
  readonly remoteRefs: string;
}

export function gitState(sb: Sandbox): GitState {
  const safe = (f: () => string) => {
    try {
      return f();
    } catch (e) {
      return `unreadable: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
    }
  };
  return {
    refs: safe(() => git(sb.repo, 'for-each-ref', '--format=%(refname) %(objectname)')),
    head: safe(() => readFileSync(join(sb.repo, '.git', 'HEAD'), 'utf8')),
    index: safe(() => git(sb.repo, 'ls-files', '-s', '--stage')),
    remoteRefs: safe(() => git(sb.remote, 'for-each-ref', '--format=%(refname) %(objectname)')),
  };
}

/** The index entries (`git ls-files -s` lines) whose path is not under one of `prefixes`. */
export function indexOutside(index: string, prefixes: readonly string[]): string[] {
  return index
    .split('\n')
    .filter(Boolean)
    .filter((line) => {
      const path = line.slice(line.indexOf('\t') + 1);
      return !prefixes.some((p) => path === p || path.startsWith(`${p}/`));
    });
}

/** Does any object of the repository at `gitDir` (a bare repo or a `.git`) hold `needle`? */
export function objectsHold(gitDir: string, needle: string): boolean {
  const all = execFileSync('git', ['--git-dir', gitDir, 'cat-file', '--batch-all-objects', '--batch'], {
    env: gitEnv(),
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return all.includes(Buffer.from(needle, 'utf8'));
}

/** Files below the root (outside Git's object folders and the excluded paths) whose bytes hold `needle`. */
export function filesHolding(root: string, needle: string, exclude: (rel: string) => boolean): string[] {
  const hits: string[] = [];
  const bytes = Buffer.from(needle, 'utf8');
  const walk = (abs: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch {
      return;
    }
    for (const name of names) {
      const a = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      if (exclude(r) || /(?:^|\/)(?:\.git|remote\.git)\/objects$/.test(r)) continue;
      const st = lstatSync(a);
      if (st.isDirectory()) walk(a, r);
      else if (st.isFile() && readFileSync(a).includes(bytes)) hits.push(r);
    }
  };
  walk(root, '');
  return hits;
}
