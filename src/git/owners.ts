/**
 * One owner per object. When the user's repository already holds the OpenStackVersion, the
 * control plane or a nodeset somewhere else, writing our own copy makes two Argo CD
 * Applications (or Flux Kustomizations) apply the same object: the user's still says the old
 * targetVersion and, with self-heal, fights the phase that moves it. So before the first
 * commit we read the branch's tree (objects only, never the work tree) and refuse to create a
 * second owner; `--version-file` hands the OpenStackVersion over instead (edited in place).
 */
import { posix } from 'node:path';
import { parse, parseAllDocuments } from '../inputs/full-yaml.js';
import { OsvError } from '../errors.js';
import type { RenderedFile } from '../render/render.js';
import { git, gitBuffer } from './git.js';

/** The kinds an update moves (phase 0 pins the operator's Subscription): the ones two owners would fight over. */
const WATCHED_KINDS = new Set(['OpenStackVersion', 'OpenStackControlPlane', 'OpenStackDataPlaneNodeSet', 'OpenStackDataPlaneDeployment', 'Subscription']);
/** A cheap test that a file may declare one of them, before it is parsed. */
const MAY_DECLARE_WATCHED = /\b(OpenStack(Version|ControlPlane|DataPlaneNodeSet|DataPlaneDeployment)|Subscription)\b/;
/** Files larger than this are not manifests a human keeps in a GitOps repository. */
const MAX_SCANNED_BYTES = 1024 * 1024;

export interface ObjectKey {
  readonly kind: string;
  readonly name: string;
  /** Undefined when the file leaves it to kustomize (then any namespace matches). */
  readonly namespace?: string;
}

export interface SecondOwner extends ObjectKey {
  /** The user's file that already declares the object. */
  readonly file: string;
  /** Our file that would declare it again. */
  readonly ours: string;
}

function watchedObjects(text: string): ObjectKey[] {
  const keys: ObjectKey[] = [];
  let docs;
  try {
    docs = parseAllDocuments(text);
  } catch {
    return keys;
  }
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length) continue; // not ours to judge: kustomize will complain about it
    let value: unknown;
    try {
      value = doc.toJS();
    } catch {
      continue; // e.g. nesting deeper than the parser recurses, or an alias bomb: not a manifest of ours to judge
    }
    if (value === null || typeof value !== 'object') continue;
    const obj = value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
    if (typeof obj.kind !== 'string' || !WATCHED_KINDS.has(obj.kind) || typeof obj.metadata?.name !== 'string') continue;
    const namespace = typeof obj.metadata.namespace === 'string' ? obj.metadata.namespace : undefined;
    keys.push({ kind: obj.kind, name: obj.metadata.name, ...(namespace !== undefined ? { namespace } : {}) });
  }
  return keys;
}

const sameObject = (a: ObjectKey, b: ObjectKey) => a.kind === b.kind && a.name === b.name && (a.namespace === undefined || b.namespace === undefined || a.namespace === b.namespace);

const isUnder = (file: string, paths: readonly string[]) => paths.some((p) => file === p || file.startsWith(`${p}/`));

const KUSTOMIZATION = /(^|\/)(kustomization\.ya?ml|Kustomization)$/;

/** Local folders and files a kustomization pulls in (remote bases are not in this repository). */
function kustomizationRefs(file: string, text: string): string[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return [];
  }
  if (doc === null || typeof doc !== 'object') return [];
  const refs: string[] = [];
  for (const key of ['resources', 'bases', 'components']) {
    const list = (doc as Record<string, unknown>)[key];
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      if (typeof entry !== 'string' || /:\/\/|^git@|^github\.com\//.test(entry)) continue;
      const target = posix.normalize(posix.join(posix.dirname(file), entry)).replace(/\/+$/, '');
      if (target !== '..' && !target.startsWith('../')) refs.push(target === '.' ? '' : target);
    }
  }
  return refs;
}

/**
 * Which files can reach the cluster our folder is for: everything under the folder that holds
 * ours (the whole repository when ours sits at the top), and whatever a kustomization in there
 * pulls in from elsewhere (a shared base). A repository of several clusters keeps each under its
 * own folder; `--path clusters/prod/openstack-update` then leaves `clusters/staging` alone.
 */
function inScope(ownedDirs: readonly string[], texts: ReadonlyMap<string, string>): (file: string) => boolean {
  const roots = ownedDirs.map((d) => (posix.dirname(d) === '.' ? '' : posix.dirname(d)));
  if (!roots.length || roots.includes('')) return () => true;
  const prefixes = new Set<string>();
  const queue = [...roots];
  const covered = (file: string) => [...prefixes].some((p) => p === '' || file === p || file.startsWith(`${p}/`));
  while (queue.length) {
    const next = queue.shift()!;
    if (covered(next)) continue;
    prefixes.add(next);
    for (const [file, text] of texts) if (covered(file) && KUSTOMIZATION.test(file)) queue.push(...kustomizationRefs(file, text).filter((r) => !covered(r)));
  }
  return covered;
}

/**
 * The objects our files would declare that a file of the user's, outside `ourPaths` and in the
 * scope of our folder, already declares at `ref`.
 */
export async function findSecondOwners(top: string, ref: string | undefined, layout: { readonly paths: readonly string[]; readonly ownedDirs: readonly string[] }, files: readonly RenderedFile[]): Promise<SecondOwner[]> {
  if (ref === undefined) return [];

  // mode, type, id, size and path of every blob, NUL-separated (paths may hold any byte but NUL)
  const listing = await git(top, ['ls-tree', '-r', '-z', '--long', '--full-tree', ref]);
  const candidates: { id: string; path: string }[] = [];
  for (const entry of listing.split('\0')) {
    const m = /^\d+ blob ([0-9a-f]+) +(\d+)\t(.*)$/s.exec(entry);
    if (!m || Number(m[2]) > MAX_SCANNED_BYTES || !(/\.ya?ml$/i.test(m[3]!) || KUSTOMIZATION.test(m[3]!)) || isUnder(m[3]!, layout.paths)) continue;
    candidates.push({ id: m[1]!, path: m[3]! });
  }
  if (!candidates.length) return [];
  // our files, each distinct content parsed once (every phase folder repeats the nodesets), by kind and name
  const ours = new Map<string, (ObjectKey & { file: string })[]>();
  const keysOf = new Map<string, ObjectKey[]>();
  for (const f of files) {
    let keys = keysOf.get(f.content);
    if (keys === undefined) keysOf.set(f.content, (keys = watchedObjects(f.content)));
    for (const key of keys) {
      const id = `${key.kind}/${key.name}`;
      const list = ours.get(id);
      if (list) list.push({ ...key, file: f.path });
      else ours.set(id, [{ ...key, file: f.path }]);
    }
  }
  if (!ours.size) return [];
  const raw = await gitBuffer(top, ['cat-file', '--batch'], candidates.map((c) => `${c.id}\n`).join(''));
  const texts = new Map<string, string>();
  let at = 0;
  for (const c of candidates) {
    const header = raw.subarray(at, raw.indexOf(10, at)).toString('utf8');
    const size = Number(header.split(' ')[2]);
    const start = at + header.length + 1;
    texts.set(c.path, raw.subarray(start, start + size).toString('utf8'));
    at = start + size + 1;
  }
  const scoped = inScope(layout.ownedDirs, texts);
  const found: SecondOwner[] = [];
  for (const [path, text] of texts) {
    if (!scoped(path) || !MAY_DECLARE_WATCHED.test(text)) continue;
    for (const theirs of watchedObjects(text)) {
      // the same file (a Subscription edited in place) is one owner, not two
      const mine = ours.get(`${theirs.kind}/${theirs.name}`)?.find((o) => sameObject(o, theirs) && o.file !== path);
      if (mine) found.push({ ...theirs, file: path, ours: mine.file });
    }
  }
  return found.sort((a, b) => a.file.localeCompare(b.file) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

/** How a caller names its copy and the way out, when it is not `commit`'s owned folder. */
export interface SecondOwnerWording {
  /** What would declare the object again, e.g. `the phase folders under updates`. */
  readonly ours?: string;
  readonly hint?: (owners: readonly SecondOwner[]) => string;
}

/** Refuse with SECOND_OWNER, naming each object, its file and the way out. */
export async function assertSingleOwner(top: string, ref: string | undefined, layout: { readonly paths: readonly string[]; readonly ownedDirs: readonly string[] }, files: readonly RenderedFile[], wording: SecondOwnerWording = {}): Promise<void> {
  const owners = await findSecondOwners(top, ref, layout, files);
  if (!owners.length) return;
  const first = owners[0]!;
  const versionFile = owners.find((o) => o.kind === 'OpenStackVersion')?.file;
  const ours = wording.ours ?? `a copy under ${layout.ownedDirs.join(', ')}`;
  throw new OsvError('SECOND_OWNER', `your repository already declares ${first.kind} ${first.name} in ${first.file}${owners.length > 1 ? ` (and ${owners.length - 1} more)` : ''}; ${ours} would give it two owners that fight over it`, {
    hint: wording.hint
      ? wording.hint(owners)
      : versionFile
        ? `Edit your own file in place instead: --version-file ${versionFile} (the control plane and nodesets stay yours), and --deployments-dir for the data-plane deployments.`
        : 'Keep one owner: pass --version-file with the file of your OpenStackVersion, or remove the duplicates from your repository first. A repository of several clusters: put --path (or --deployments-dir) inside the cluster\'s own folder, which limits this check to that folder and the bases it uses.',
    details: owners.map((o) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}: ${o.file} (ours: ${o.ours})`),
  });
}
