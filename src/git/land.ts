/**
 * How a phase commit reaches a branch, for every mode (commits, branch-per-phase, advance):
 *
 * 1. the commits are built from our own files alone with `git fast-import` onto a private ref,
 *    never from the user's index or work tree;
 * 2. the user's `pre-commit` and `commit-msg` hooks judge them (a private index holds the new
 *    tree), unless the user opted out;
 * 3. one `update-ref` transaction moves the branch(es) from the value we read (compare-and-swap);
 * 4. on the checked-out branch, only our paths of the index and work tree follow.
 *
 * A kill at any instant leaves the old ref or the new one. Between 3 and 4 the work tree lags the
 * branch; `pathState` recognises that lag as ours, and the next run finishes the sync.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { OsvError } from '../errors.js';
import { assertNoSecretsInFiles } from '../validate/secrets.js';
import { isOurTempName, removeContained, removeEmptyFolder, writeFileAtomically } from '../fs/contained.js';
import { git, gitBuffer, tryGit } from './git.js';

const STAGING_REF = 'refs/osv-gitops/staging';

/** path -> "mode sha" for the files under some paths of a tree, the index or the work tree. */
export type TreeState = Map<string, string>;

/** A file of ours in a commit (always a regular, non-executable file). */
export interface CommitFile {
  readonly path: string;
  readonly content: string;
}

export interface CommitToBuild {
  readonly mark: number;
  /** A commit id, `:<mark>` of an earlier commit in the same batch, or undefined for a root commit. */
  readonly from: string | undefined;
  readonly message: string;
  /** Folders (or files) removed before `files` are written. */
  readonly clear: readonly string[];
  readonly files: readonly CommitFile[];
}

// ---------------------------------------------------------------------------------------------
// tree states

/** Where Git keeps a repository's index and its lock, and its object format. */
export interface GitPaths {
  readonly index: string;
  readonly indexLock: string;
  /** sha1 or sha256. */
  readonly format: string;
}

const pathsByRepo = new Map<string, Promise<GitPaths>>();

/**
 * Fixed by the repository's layout (GIT_INDEX_FILE is sealed out of our git's environment), so
 * asked in one `git rev-parse` per repository and process. Not the hooks folder: core.hooksPath
 * may change while a long `watch` runs.
 */
export function gitPaths(repo: string): Promise<GitPaths> {
  let paths = pathsByRepo.get(repo);
  if (paths === undefined) {
    paths = git(repo, ['rev-parse', '--path-format=absolute', '--git-path', 'index', '--git-path', 'index.lock', '--show-object-format']).then((out) => {
      const [index, indexLock, format] = out.split('\n').map((l) => l.trim());
      if (!index || !indexLock) throw new OsvError('GIT_FAILED', `git rev-parse did not name the index of ${repo}`);
      return { index, indexLock, format: format || 'sha1' };
    });
    pathsByRepo.set(repo, paths);
    // a failure is not remembered: the next caller asks again and sees the error itself
    paths.catch(() => pathsByRepo.delete(repo));
  }
  return paths;
}

/** sha1 or sha256: fixed when a repository is made. */
export function objectFormat(repo: string): Promise<string> {
  return gitPaths(repo).then(
    (p) => p.format,
    () => 'sha1',
  );
}

export function blobId(content: string | Buffer, format: string): string {
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return createHash(format === 'sha256' ? 'sha256' : 'sha1').update(`blob ${body.length}\0`).update(body).digest('hex');
}

function parseEntries(out: string, re: RegExp): TreeState {
  const state: TreeState = new Map();
  for (const rec of out.split('\0')) {
    const m = re.exec(rec);
    if (m) state.set(m[3]!, `${m[1]} ${m[2]}`);
  }
  return state;
}

/** The files under `paths` in `commit` (an empty state when there is no commit). */
export async function treeState(repo: string, commit: string | undefined, paths: readonly string[]): Promise<TreeState> {
  if (commit === undefined) return new Map();
  return parseEntries(await treeListing(repo, commit, paths), /^(\d+) \w+ ([0-9a-f]+)\t(.+)$/s);
}

// a commit id names the same tree for ever: a run that reads one twice (checks, then landing) asks Git once
const listings = new Map<string, Promise<string>>();

function treeListing(repo: string, commit: string, paths: readonly string[]): Promise<string> {
  const args = ['ls-tree', '-r', '-z', '--full-tree', commit, '--', ...paths];
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(commit)) return git(repo, args);
  const key = [repo, ...args].join('\0');
  let out = listings.get(key);
  if (out === undefined) {
    out = git(repo, args);
    listings.set(key, out);
    out.catch(() => listings.delete(key));
  }
  return out;
}

/** The files under `paths` in the user's index (stage numbers dropped: a conflict never matches). */
async function indexState(repo: string, paths: readonly string[]): Promise<TreeState> {
  return parseEntries(await git(repo, ['ls-files', '-s', '-z', '--full-name', '--', ...paths]), /^(\d+) ([0-9a-f]+) \d\t(.+)$/s);
}

/** The files under `paths` in the work tree, hashed as Git would (symlinks as links, never followed). */
function workTreeState(top: string, paths: readonly string[], format: string): TreeState {
  const state: TreeState = new Map();
  const visit = (rel: string): void => {
    let st: Stats;
    try {
      st = lstatSync(join(top, rel));
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(join(top, rel)).sort()) if (!isOurTempName(name)) visit(`${rel}/${name}`);
    } else if (st.isSymbolicLink()) {
      state.set(rel, `120000 ${blobId(readlinkSync(join(top, rel)), format)}`);
    } else if (st.isFile()) {
      state.set(rel, `${st.mode & 0o111 ? '100755' : '100644'} ${blobId(readFileSync(join(top, rel)), format)}`);
    } else {
      state.set(rel, 'special');
    }
  };
  for (const p of paths) visit(p);
  return state;
}

export function sameState(a: TreeState, b: TreeState): boolean {
  return a.size === b.size && [...a].every(([p, v]) => b.get(p) === v);
}

/** `before` with the `clear`ed paths removed and `files` written. */
export function applyFiles(before: TreeState, clear: readonly string[], files: readonly CommitFile[], format: string): TreeState {
  const after: TreeState = new Map([...before].filter(([p]) => !clear.some((d) => p === d || p.startsWith(`${d}/`))));
  for (const f of files) after.set(f.path, `100644 ${blobId(f.content, format)}`);
  return after;
}

export type PathCondition = 'clean' | 'lagging' | 'dirty';

/**
 * Are our paths of the index and work tree as `tip` has them (clean), as one of `earlier` (the
 * commits before our own last commits: a run was killed before it synced them; lagging), or
 * changed by someone (dirty)? A sync is written index last, so a half-done one is recognised too.
 */
export async function pathState(repo: string, top: string, paths: readonly string[], tip: string | undefined, earlierCommits: readonly string[] | Promise<readonly string[]>): Promise<{ condition: PathCondition; details: string[] }> {
  const [format, head, index, earlier] = await Promise.all([objectFormat(repo), treeState(repo, tip, paths), indexState(repo, paths), earlierCommits]);
  const work = workTreeState(top, paths, format);
  if (sameState(head, index) && sameState(head, work)) return { condition: 'clean', details: [] };
  for (const commit of earlier) {
    const old = await treeState(repo, commit, paths);
    const indexOk = sameState(index, old) || sameState(index, head);
    const keys = new Set([...work.keys(), ...old.keys(), ...head.keys()]);
    const workOk = [...keys].every((k) => work.get(k) === old.get(k) || work.get(k) === head.get(k));
    if (indexOk && workOk) return { condition: 'lagging', details: [] };
  }
  const details: string[] = [];
  const keys = [...new Set([...head.keys(), ...index.keys(), ...work.keys()])].sort();
  for (const k of keys) {
    if (index.get(k) !== head.get(k)) details.push(`${k} (staged)`);
    else if (work.get(k) !== head.get(k)) details.push(`${k} (${work.has(k) ? (head.has(k) ? 'modified' : 'untracked') : 'deleted'})`);
  }
  return { condition: 'dirty', details };
}

/** The contents of blobs, by id, in one `git cat-file --batch`. */
async function readBlobs(repo: string, ids: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  if (!ids.length) return out;
  const raw = await gitBuffer(repo, ['cat-file', '--batch'], `${[...new Set(ids)].join('\n')}\n`);
  let at = 0;
  while (at < raw.length) {
    const nl = raw.indexOf(10, at);
    const [id, , size] = raw.subarray(at, nl).toString('utf8').split(' ');
    const n = Number(size);
    out.set(id!, raw.subarray(nl + 1, nl + 1 + n));
    at = nl + 1 + n + 1;
  }
  return out;
}

/**
 * Bring our paths of the work tree and the index to `commit`. Files are written by us, each to a
 * temporary name and renamed (a kill leaves every file old or new, never half-written), through
 * the containment check; the index is updated on a copy renamed into place (a kill leaves the
 * user's index whole and no index.lock). Anything under our paths that `commit` lacks is removed:
 * the caller has checked that it was ours (pathState).
 */
export async function syncPaths(repo: string, commit: string, paths: readonly string[]): Promise<void> {
  const format = await objectFormat(repo);
  const head = await treeState(repo, commit, paths);
  const work = workTreeState(repo, paths, format);
  const differ = [...head].filter(([p, v]) => work.get(p) !== v);
  const blobs = await readBlobs(repo, differ.map(([, v]) => v.split(' ')[1]!));
  const swept = new Set<string>();
  for (const [p, v] of differ) {
    const [mode, id] = v.split(' ') as [string, string];
    if (mode !== '100644' && mode !== '100755') throw new OsvError('PATH_UNSAFE', `${p} is not a regular file in ${commit.slice(0, 12)}; osv-gitops writes only regular files`);
    writeFileAtomically(repo, p, blobs.get(id)!, mode === '100755', swept);
  }
  const removed = [...work.keys()].filter((p) => !head.has(p));
  for (const p of removed) removeContained(repo, p);
  // folders the removals emptied go too (Git keeps no empty folders; a taken-back commit leaves none)
  const folders = new Set(removed.flatMap((p) => p.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  for (const d of [...folders].sort((a, b) => b.length - a.length)) removeEmptyFolder(repo, d);
  const { index } = await gitPaths(repo);
  const copy = `${index}.osv-gitops-${process.pid}`;
  // copies a killed run left behind are ours by name
  for (const f of readdirSync(dirname(index))) if (f.startsWith(`${basename(index)}.osv-gitops-`)) rmSync(join(dirname(index), f), { force: true });
  const inIndex = await indexState(repo, paths);
  const zero = '0'.repeat(format === 'sha256' ? 64 : 40);
  const entries = [...[...inIndex.keys()].filter((p) => !head.has(p)).map((p) => `0 ${zero}\t${p}`), ...[...head].map(([p, v]) => `${v}\t${p}`)];
  try {
    if (existsSync(index)) copyFileSync(index, copy);
    const env = { GIT_INDEX_FILE: copy };
    await git(repo, ['update-index', '-z', '--index-info'], { env, input: entries.map((e) => `${e}\0`).join('') });
    await tryGit(repo, ['update-index', '-q', '--refresh'], { env });
    renameSync(copy, index);
  } finally {
    rmSync(copy, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// fast-import

function quotePath(p: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f"\\]/.test(p)) throw new OsvError('PATH_UNSAFE', `cannot write the path ${JSON.stringify(p)}`);
  return `"${p}"`;
}

function data(text: string): string {
  return `data ${Buffer.byteLength(text, 'utf8')}\n${text}\n`;
}

/** `git commit` tidies a message; do the same, so every mode makes the same commit. */
export function cleanMessage(message: string): string {
  return `${message
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

export async function identity(repo: string, date: string | undefined): Promise<{ author: string; committer: string }> {
  const opt = date ? { date } : {};
  const [author, committer] = await Promise.all([git(repo, ['var', 'GIT_AUTHOR_IDENT'], opt), git(repo, ['var', 'GIT_COMMITTER_IDENT'], opt)]);
  return { author: author.trim(), committer: committer.trim() };
}

/** Forget the private ref of a batch that will not land (its objects are pruned by Git in time). */
export async function dropStaging(repo: string): Promise<void> {
  await tryGit(repo, ['update-ref', '-d', STAGING_REF]);
}

/** Build `commits` (objects only: no branch moves) in one fast-import; returns each mark's commit id. */
export async function buildCommits(repo: string, commits: readonly CommitToBuild[], ident: { author: string; committer: string }): Promise<Map<number, string>> {
  // every phase carries the same nodesets: a file a commit carries unchanged from the one before
  // is sent to Git (and scanned) once, as a blob the later commits name by its mark
  const sent = new Map<string, { readonly content: string; readonly mark: number }>();
  let nextMark = Math.max(0, ...commits.map((c) => c.mark)) + 1;
  const fresh: CommitFile[] = [];
  const parts: string[] = [];
  for (const c of commits) {
    const entries: string[] = [];
    for (const f of c.files) {
      let blob = sent.get(f.path);
      if (blob?.content !== f.content) {
        blob = { content: f.content, mark: nextMark++ };
        sent.set(f.path, blob);
        fresh.push(f);
        parts.push(`blob\nmark :${blob.mark}\n${data(f.content)}`);
      }
      entries.push(`M 100644 :${blob.mark} ${quotePath(f.path)}\n`);
    }
    parts.push(
      `commit ${STAGING_REF}\n`,
      `mark :${c.mark}\n`,
      `author ${ident.author}\n`,
      `committer ${ident.committer}\n`,
      data(cleanMessage(c.message)),
      c.from !== undefined ? `from ${c.from}\n` : '',
      ...c.clear.map((d) => `D ${quotePath(d)}\n`),
      ...entries,
      '\n',
    );
  }
  parts.push(...commits.map((c) => `get-mark :${c.mark}\n`));
  // the last gate before Git: whatever made these files (a carried manifest, an edited version file)
  const messages = commits.map((c) => ({ path: 'commit message', content: c.message }));
  try {
    assertNoSecretsInFiles([...fresh, ...messages]);
  } catch (e) {
    // a refusal names every file of every commit that holds the finding, as a scan of all would
    assertNoSecretsInFiles(commits.flatMap((c) => [...c.files, { path: 'commit message', content: c.message }]));
    throw e;
  }
  const stream = parts.join('');
  const out = await git(repo, ['fast-import', '--quiet', '--force'], { input: stream });
  const ids = out.trim().split('\n');
  if (ids.length !== commits.length) throw new OsvError('GIT_FAILED', `git fast-import reported ${ids.length} commits for ${commits.length}`);
  return new Map(commits.map((c, i) => [c.mark, ids[i]!.trim()]));
}

// ---------------------------------------------------------------------------------------------
// hooks

function executable(file: string): boolean {
  try {
    const st = lstatSync(file);
    return (st.isFile() || st.isSymbolicLink()) && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Which of the hooks that may veto a commit the repository has (core.hooksPath honoured). */
export async function vetoHooks(repo: string, which: readonly string[] = ['pre-commit', 'commit-msg']): Promise<string[]> {
  const dir = (await git(repo, ['rev-parse', '--path-format=absolute', '--git-path', 'hooks'])).trim();
  return which.filter((h) => executable(join(dir, h)));
}

/**
 * Run the user's `pre-commit` (on a private index holding `tree`, so secret scanners that read the
 * staged content see exactly what we commit) and `commit-msg` (for each message). A refusal is
 * GIT_HOOK_REJECTED with the hook's own words; nothing has moved yet.
 */
export async function runVetoHooks(repo: string, hooks: readonly string[], tree: string, messages: readonly { label: string; message: string }[]): Promise<void> {
  if (!hooks.length) return;
  const dir = mkdtempSync(join(tmpdir(), 'osv-gitops-hooks-'));
  try {
    const env = { GIT_INDEX_FILE: join(dir, 'index') };
    await git(repo, ['read-tree', tree], { env });
    const run = async (hook: string, args: string[], what: string) => {
      try {
        await git(repo, ['hook', 'run', '--ignore-missing', hook, ...(args.length ? ['--', ...args] : [])], { env });
      } catch (e) {
        await dropStaging(repo);
        const words = e instanceof OsvError ? e.details : [String(e)];
        throw new OsvError('GIT_HOOK_REJECTED', `your ${hook} hook refused ${what}; nothing was committed`, {
          hint: 'Fix what the hook reports, or run again with --no-verify to skip your hooks (osv-gitops then says so).',
          details: words.slice(-20),
          cause: e,
        });
      }
    };
    if (hooks.includes('pre-commit')) await run('pre-commit', [], 'the new tree');
    if (hooks.includes('commit-msg')) {
      for (const [i, m] of messages.entries()) {
        const file = join(dir, `message-${i}`);
        writeFileSync(file, cleanMessage(m.message));
        await run('commit-msg', [file], `the message of ${m.label}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// refs

export interface RefMove {
  readonly ref: string;
  /** The commit we read it at; undefined: the ref must not exist yet. */
  readonly old: string | undefined;
  /** undefined: delete the ref. */
  readonly next: string | undefined;
}

/** Move every ref at once, each only if it still holds what we read (else GIT_DIVERGED, nothing moved). */
export async function moveRefs(repo: string, moves: readonly RefMove[], reason: string): Promise<void> {
  const zero = '0'.repeat((await objectFormat(repo)) === 'sha256' ? 64 : 40);
  const lines = ['start', ...moves.map((m) => (m.next === undefined ? `delete ${m.ref} ${m.old ?? ''}` : `update ${m.ref} ${m.next} ${m.old ?? zero}`)), `delete ${STAGING_REF}`, 'prepare', 'commit', ''];
  try {
    await git(repo, ['update-ref', '-m', reason, '--stdin'], { input: lines.join('\n') });
  } catch (e) {
    await dropStaging(repo);
    throw new OsvError('GIT_DIVERGED', `${moves.map((m) => m.ref.replace(/^refs\/heads\//, '')).join(', ')} moved while osv-gitops was working; nothing was changed`, {
      hint: 'Run again: it reads the branch afresh.',
      ...(e instanceof OsvError ? { details: e.details } : {}),
      cause: e,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// remotes and push

/** The remote must be one configured in the repository (never a URL typed on the command line). */
export async function assertRemote(repo: string, remote: string): Promise<void> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(remote) || (await tryGit(repo, ['remote', 'get-url', '--', remote])) === undefined) {
    throw new OsvError('GIT_REMOTE_INVALID', `${JSON.stringify(remote.slice(0, 100))} is not a remote of this repository`, { hint: 'See `git remote -v`; --push takes a remote name (default origin).' });
  }
}

/** Push `refspecs`; a refusal becomes GIT_PUSH_REJECTED (the remote moved) or GIT_PUSH_REFUSED (its policy said no). */
export async function push(repo: string, remote: string, refspecs: readonly string[], what: string): Promise<void> {
  try {
    await git(repo, ['push', '--quiet', remote, ...refspecs]);
  } catch (e) {
    const text = e instanceof OsvError ? [e.message, ...e.details].join('\n') : String(e);
    if (/\[remote rejected\]|pre-receive hook declined|hook declined|protected branch|denied/i.test(text)) {
      throw new OsvError('GIT_PUSH_REFUSED', `${remote} refused the push of ${what}; nothing was changed locally`, {
        hint: 'The remote\'s policy said no (a protected branch, a pre-receive check): read its message below.',
        details: text.split('\n').filter((l) => /^remote:|rejected|declined/i.test(l.trim())).slice(-10),
        cause: e,
      });
    }
    if (/failed to push some refs/.test(text) && !/\[(remote )?rejected\]|Updates were rejected/.test(text) && (await vetoHooks(repo, ['pre-push'])).length) {
      throw new OsvError('GIT_HOOK_REJECTED', `your pre-push hook refused the push of ${what}; nothing was changed locally`, {
        hint: 'Fix what the hook reports, then run again.',
        details: text.split('\n').slice(-12),
        cause: e,
      });
    }
    if (/Updates were rejected|\[rejected\]|non-fast-forward|fetch first|stale info/i.test(text)) {
      throw new OsvError('GIT_PUSH_REJECTED', `push of ${what} to ${remote} was rejected: the remote moved; nothing was changed locally`, {
        hint: 'Pull (fast-forward) first, then run again: it will not duplicate phases.',
        cause: e,
      });
    }
    throw e;
  }
}
