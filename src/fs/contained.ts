/**
 * Every file osv-gitops writes or deletes goes through this module (DESIGN.md, safety by
 * construction). A path is accepted only when it is relative, has no `..`, no `.git` part, no
 * control bytes, bounded parts, and resolves (symlinks included) inside its root. Folders we own
 * are replaced whole: the new content is written to a sibling staging folder first and swapped in
 * with renames, so an error (or a kill) leaves the old folder or the new one, never half of each.
 * A folder that already holds exactly the new content is left as it is (nothing written).
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, renameSync, rmdirSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname, join, posix, resolve, sep } from 'node:path';
import { OsvError } from '../errors.js';

/** Longest file-name part most filesystems take (ext4, xfs, tmpfs: 255 bytes). */
export const MAX_PATH_PART_BYTES = 255;
/** Longest relative path we write (PATH_MAX is 4096; leave room for the root). */
export const MAX_RELATIVE_PATH_BYTES = 1024;

const STAGING_PREFIX = '.osv-gitops-staging-';
const RETIRED_PREFIX = '.osv-gitops-retired-';

/** A file to write, at a path relative to its root. */
export interface FileToWrite {
  readonly path: string;
  readonly content: string;
}

function shown(p: string): string {
  return JSON.stringify(p.length > 200 ? `${p.slice(0, 200)}…` : p);
}

/**
 * The normalised form of a relative path, or PATH_UNSAFE: no absolute path, no `..`, no `.git`
 * part (any case: case-insensitive filesystems), no control bytes or backslashes, bounded lengths.
 * `.` (the root itself) is accepted only with `allowRoot`.
 */
export function safeRelativePath(what: string, value: string, opts: { readonly allowRoot?: boolean } = {}): string {
  const refuse = (why: string): never => {
    throw new OsvError('PATH_UNSAFE', `${what} ${shown(value)} ${why}`, { hint: 'Give a folder inside the repository (or output folder), e.g. openstack-update.' });
  };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) refuse('holds a control byte or a backslash');
  if (value === '') refuse('is empty');
  if (posix.isAbsolute(value)) refuse('is absolute: it must be relative to the repository root');
  const parts = value.split('/');
  if (parts.includes('..')) refuse("goes up with '..'");
  const norm = posix.normalize(value).replace(/\/+$/, '');
  if (norm === '.' || norm === '') {
    if (opts.allowRoot) return '.';
    refuse('is the root itself, which osv-gitops never owns');
  }
  for (const part of norm.split('/')) {
    if (part.toLowerCase() === '.git') refuse('reaches into .git');
    if (Buffer.byteLength(part, 'utf8') > MAX_PATH_PART_BYTES) refuse(`has a part longer than ${MAX_PATH_PART_BYTES} bytes`);
  }
  if (Buffer.byteLength(norm, 'utf8') > MAX_RELATIVE_PATH_BYTES) refuse(`is longer than ${MAX_RELATIVE_PATH_BYTES} bytes`);
  return norm;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** The real path of an existing folder that we may write into; PATH_UNSAFE / WRITE_FAILED otherwise. */
export function realRoot(what: string, dir: string): string {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (e) {
    throw fsError(e, `${what} ${dir}`);
  }
  const st = lstatOrUndefined(real);
  if (!st?.isDirectory()) throw new OsvError('PATH_UNSAFE', `${what} ${shown(dir)} is not a folder`);
  assertNotInGitDir(what, dir, real);
  return real;
}

/** Git's own folder is never ours to write in, whatever path leads there. */
function assertNotInGitDir(what: string, shownPath: string, real: string): void {
  if (real.split(sep).some((part) => part.toLowerCase() === '.git')) {
    throw new OsvError('PATH_UNSAFE', `${what} ${shown(shownPath)} is inside a .git folder, which only Git writes`, { hint: 'Write to a folder of the work tree, or outside the repository.' });
  }
}

/**
 * Resolve `rel` under `root` (a real path) and check that every part that already exists is a
 * plain folder (or, for the last part, a file) inside the root: a symlink anywhere on the way is
 * refused, so nothing we write can land outside. `checkedFolders` (absolute paths) are folders
 * this run already checked and made: for a file in one of them only the file itself is looked at
 * again, so writing thousands of files into a few folders does not stat every folder per file.
 */
export function containedPath(root: string, rel: string, what: string, checkedFolders?: ReadonlySet<string>): string {
  const norm = safeRelativePath(what, rel);
  const full = resolve(root, norm);
  if (full !== root && !full.startsWith(root + sep)) throw new OsvError('PATH_UNSAFE', `${what} ${shown(rel)} resolves outside ${root}`);
  const parts = norm.split('/');
  const known = checkedFolders?.has(dirname(full)) === true;
  let at = known ? dirname(full) : root;
  for (let i = known ? parts.length - 1 : 0; i < parts.length; i++) {
    at = join(at, parts[i]!);
    const st = lstatOrUndefined(at);
    if (st === undefined) break; // the rest will be created by us
    if (st.isSymbolicLink()) throw new OsvError('PATH_UNSAFE', `${what} ${shown(rel)} goes through a symbolic link (${parts.slice(0, i + 1).join('/')}); osv-gitops never writes through links`);
    if (i < parts.length - 1 && !st.isDirectory()) throw new OsvError('PATH_UNSAFE', `${what} ${shown(rel)}: ${parts.slice(0, i + 1).join('/')} is a file, not a folder`);
  }
  return full;
}

/** A filesystem error as a typed error that names the path and what to do. */
export function fsError(e: unknown, where: string): OsvError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? '';
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'the filesystem is read-only',
    ENOSPC: 'no space left on the device',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EEXIST: 'a file is in the way',
    EISDIR: 'it is a folder',
    ENAMETOOLONG: 'a file name is too long',
    ENOENT: 'the folder does not exist',
    ELOOP: 'too many symbolic links',
  };
  return new OsvError('WRITE_FAILED', `cannot write ${where}: ${why[code] ?? (e instanceof Error ? e.message : String(e))}`, {
    hint: 'Nothing was changed. Check the path and its permissions, then run again.',
    cause: e,
  });
}

/** mkdir one part at a time (no `recursive`), so odd filesystems fail instead of looping. */
function makeDirs(root: string, rel: string): void {
  let at = root;
  for (const part of rel.split('/')) {
    if (part === '.' || part === '') continue;
    at = join(at, part);
    const st = lstatOrUndefined(at);
    if (st?.isDirectory()) continue;
    if (st !== undefined) throw Object.assign(new Error(`${at} is not a folder`), { code: 'ENOTDIR' });
    mkdirSync(at);
  }
}

/** Leftovers of a run that was killed while swapping a folder: ours by name, safe to remove. */
function removeLeftovers(parent: string, name: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.startsWith(`${STAGING_PREFIX}${name}-`) || e.startsWith(`${RETIRED_PREFIX}${name}-`)) rmSync(join(parent, e), { recursive: true, force: true });
  }
}

/**
 * Whether the folder `dir` holds exactly `files`, at `rels` (relative to it): each a regular file
 * with the same bytes and no executable bit, and nothing else (no other file, folder or link). It
 * only reads; whatever it cannot read or is not sure of answers false.
 */
function holdsExactly(dir: string, rels: readonly string[], files: readonly FileToWrite[]): boolean {
  const wanted = new Map<string, string>();
  rels.forEach((rel, i) => wanted.set(rel, files[i]!.content));
  if (wanted.size !== rels.length) return false;
  const folders = new Set<string>();
  for (const rel of rels) for (let d = posix.dirname(rel); d !== '.'; d = posix.dirname(d)) folders.add(d);
  let found = 0;
  const walk = (rel: string): boolean => {
    for (const entry of readdirSync(rel === '' ? dir : join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!folders.has(path) || !walk(path)) return false;
        continue;
      }
      const content = wanted.get(path);
      if (!entry.isFile() || content === undefined || !fileHolds(join(dir, path), content)) return false;
      found++;
    }
    return true;
  };
  try {
    return walk('') && found === wanted.size;
  } catch {
    return false;
  }
}

/** Whether `path` is a regular file (not a link to one) without an executable bit that holds `content`. */
function fileHolds(path: string, content: string): boolean {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    const st = fstatSync(fd);
    const size = Buffer.byteLength(content, 'utf8');
    if (!st.isFile() || (st.mode & 0o111) !== 0 || st.size !== size) return false;
    const bytes = Buffer.allocUnsafe(size);
    for (let at = 0; at < size; ) {
      const n = readSync(fd, bytes, at, size - at, at);
      if (n === 0) return false;
      at += n;
    }
    return bytes.toString('utf8') === content;
  } finally {
    closeSync(fd);
  }
}

/**
 * Replace the folder `ownedDir` (relative to `root`) with exactly `files` (paths relative to
 * `root`, all inside `ownedDir`). Every path is checked before anything is touched; the new folder
 * is built beside the old one and swapped in; on any error the old folder stays as it was. When
 * the folder already holds exactly these files, nothing is written and every file stays as it
 * was: false is returned, true when the folder was replaced.
 */
export function replaceOwnedFolder(rootDir: string, ownedDir: string, files: readonly FileToWrite[], what = 'the output folder'): boolean {
  const root = realRoot(what, rootDir);
  const owned = safeRelativePath(`${what}'s owned folder`, ownedDir);
  const ownedFull = containedPath(root, owned, what);
  const rels = files.map((f) => {
    const rel = safeRelativePath('a rendered file', f.path);
    if (!rel.startsWith(`${owned}/`)) throw new OsvError('PATH_UNSAFE', `rendered file ${shown(f.path)} is outside the owned folder ${owned}`);
    return rel.slice(owned.length + 1);
  });
  const parentRel = posix.dirname(owned);
  const name = posix.basename(owned);
  try {
    if (parentRel !== '.') makeDirs(root, parentRel);
  } catch (e) {
    throw fsError(e, `${posix.join(rootDir, parentRel)}`);
  }
  const parent = dirname(ownedFull);
  removeLeftovers(parent, name);
  if (lstatOrUndefined(ownedFull)?.isDirectory() && holdsExactly(ownedFull, rels, files)) return false;
  const stamp = `${process.pid}-${Date.now()}`;
  const staging = join(parent, `${STAGING_PREFIX}${name}-${stamp}`);
  const retired = join(parent, `${RETIRED_PREFIX}${name}-${stamp}`);
  try {
    mkdirSync(staging);
    // a phase folder holds thousands of files: make (and check) each folder of the new tree once
    const made = new Set<string>();
    rels.forEach((rel, i) => {
      const dir = posix.dirname(rel);
      if (dir !== '.' && !made.has(dir)) {
        makeDirs(staging, dir);
        made.add(dir);
      }
      writeFileSync(join(staging, rel), files[i]!.content, { flag: 'wx' });
    });
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw fsError(e, `${what} ${posix.join(rootDir, owned)}`);
  }
  const existing = lstatOrUndefined(ownedFull);
  if (existing !== undefined && !existing.isDirectory()) {
    rmSync(staging, { recursive: true, force: true });
    throw new OsvError('PATH_UNSAFE', `${posix.join(rootDir, owned)} is a file, not a folder osv-gitops owns`);
  }
  try {
    if (existing) renameSync(ownedFull, retired);
    try {
      renameSync(staging, ownedFull);
    } catch (e) {
      if (existing) renameSync(retired, ownedFull);
      throw e;
    }
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw fsError(e, `${what} ${posix.join(rootDir, owned)}`);
  }
  rmSync(retired, { recursive: true, force: true });
  return true;
}

/**
 * Write one file of ours (a plan, a pull-request description) at `file`: the folder must exist
 * and be a real folder, the file is written to a temporary name and renamed over the target, and
 * a symlink in the target's place is refused rather than followed.
 */
export function writeOwnFile(file: string, content: string, what: string): void {
  const full = resolve(file);
  if (lstatOrUndefined(full)?.isDirectory()) throw fsError(Object.assign(new Error('is a folder'), { code: 'EISDIR' }), `${what} ${file}`);
  const dir = realRoot(`the folder of ${what}`, dirname(full));
  const name = basename(full);
  const target = containedPath(dir, name, what);
  const st = lstatOrUndefined(target);
  if (st && !st.isFile()) throw new OsvError('PATH_UNSAFE', `${what} ${shown(file)} exists and is not a regular file`);
  const tmp = join(dir, `.${name}.osv-gitops-${process.pid}.tmp`);
  try {
    writeFileSync(tmp, content, { flag: 'wx' });
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fsError(e, `${what} ${file}`);
  }
}

/** `writeOwnFile` into `dir/rel`, creating the folders of `rel` inside `dir` (contained). */
export function writeOwnFileUnder(dirPath: string, rel: string, content: string, what: string): string {
  const root = ensureFolder(dirPath, `the folder for ${what}`);
  const norm = safeRelativePath(what, rel);
  containedPath(root, norm, what);
  try {
    if (posix.dirname(norm) !== '.') makeDirs(root, posix.dirname(norm));
  } catch (e) {
    throw fsError(e, `${what} ${posix.join(dirPath, norm)}`);
  }
  const file = join(root, norm);
  writeOwnFile(file, content, what);
  return file;
}

/**
 * The real path of folder `dir`, created part by part from its nearest existing ancestor when it
 * is missing (`render --out new/folder`); a file or an unwritable place gives a typed error.
 */
export function ensureFolder(dir: string, what: string): string {
  const full = resolve(dir);
  assertNotInGitDir(what, dir, full);
  const missing: string[] = [];
  let at = full;
  while (lstatOrUndefined(at) === undefined) {
    const up = dirname(at);
    if (up === at) break;
    missing.unshift(at.slice(up.length).replace(/^[/\\]+/, ''));
    at = up;
  }
  const base = realRoot(what, at);
  try {
    if (missing.length) makeDirs(base, missing.join('/'));
  } catch (e) {
    throw fsError(e, `${what} ${dir}`);
  }
  return realRoot(what, full);
}

/** Write `files` (paths relative to `rootDir`), each checked by `containedPath` before any is written. */
export function writeContainedFiles(rootDir: string, files: readonly FileToWrite[], what = 'the output folder'): void {
  const root = realRoot(what, rootDir);
  const targets = files.map((f) => ({ rel: safeRelativePath('a rendered file', f.path), content: f.content }));
  for (const t of targets) containedPath(root, t.rel, what);
  for (const t of targets) {
    try {
      if (posix.dirname(t.rel) !== '.') makeDirs(root, posix.dirname(t.rel));
      writeFileSync(containedPath(root, t.rel, what), t.content);
    } catch (e) {
      throw e instanceof OsvError ? e : fsError(e, `${what} ${posix.join(rootDir, t.rel)}`);
    }
  }
}

/** Refuse early (before any branch moves) a folder flag that names something other than a folder. */
export function assertFolderOrMissing(dir: string, what: string): void {
  assertNotInGitDir(what, dir, resolve(dir));
  const st = lstatOrUndefined(resolve(dir));
  if (st !== undefined && !st.isDirectory()) throw new OsvError('PATH_UNSAFE', `${what} ${shown(dir)} exists and is not a folder`);
}

const TEMP_PREFIX = '.osv-gitops-tmp-';

/** Our temporary file names (left only by a killed run; never the user's). */
export function isOurTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

/**
 * Write `rel` under `rootDir` whole or not at all: a temporary name beside it, then a rename. The
 * path is checked by `containedPath` (no link on the way, nothing outside, never .git). `swept`
 * holds the folders this run already checked, made and cleared of temporary files a killed run
 * left: a folder of thousands of files is read and checked once, not per file.
 */
export function writeFileAtomically(rootDir: string, rel: string, content: string | Buffer, executable = false, swept?: Set<string>): void {
  const norm = safeRelativePath('a file osv-gitops writes', rel);
  const full = containedPath(rootDir, norm, 'a file osv-gitops writes', swept);
  const dir = dirname(full);
  const name = posix.basename(norm);
  const tmp = join(dir, `${TEMP_PREFIX}${process.pid}-${name}`.slice(0, MAX_PATH_PART_BYTES));
  try {
    if (!swept?.has(dir)) {
      if (posix.dirname(norm) !== '.') makeDirs(rootDir, posix.dirname(norm));
      // temporary files a killed run left here are ours by name
      for (const f of readdirSync(dir)) if (isOurTempName(f)) rmSync(join(dir, f), { force: true });
      swept?.add(dir);
    }
    writeFileSync(tmp, content, { flag: 'wx', mode: executable ? 0o755 : 0o644 });
    renameSync(tmp, full);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e instanceof OsvError ? e : fsError(e, rel);
  }
}

/** Remove the file `rel` under `rootDir` (checked like every write); a missing file is fine. */
export function removeContained(rootDir: string, rel: string): void {
  const full = containedPath(rootDir, rel, 'a file osv-gitops removes');
  try {
    rmSync(full, { force: true });
  } catch (e) {
    throw fsError(e, rel);
  }
}

/** Remove the folder `rel` under `rootDir` if it is empty (checked like every write). */
export function removeEmptyFolder(rootDir: string, rel: string): void {
  const full = containedPath(rootDir, rel, 'a folder osv-gitops removes');
  try {
    if (lstatOrUndefined(full)?.isDirectory() && readdirSync(full).length === 0) rmdirSync(full);
  } catch {
    // not empty after all, or gone: either way nothing of ours is left to remove
  }
}
