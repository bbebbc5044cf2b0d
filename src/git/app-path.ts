/**
 * `--app-path DIR`: adoption of the user's repository. DIR is the folder the GitOps agent builds
 * with kustomize (an Argo CD Application's `source.path`, a Flux Kustomization's `spec.path`). We
 * follow its kustomization graph — `resources`, `bases`, `components` — at a commit (never the work
 * tree), find the one file that declares the plan's OpenStackVersion, and from then on the update
 * edits that file in place and wires its deployments folder into DIR's kustomization.
 *
 * The walk never leaves the repository (an entry that climbs out is refused), refuses symbolic
 * links (a link in Git can point anywhere once checked out), skips remote bases (not in this
 * repository, so not ours to edit), and is bounded in depth and in files read.
 *
 * An OpenStackVersion that sits in a base other kustomizations also build is refused: editing it
 * would move every cluster that uses the base at once. Passing `--version-file` with that file is the
 * explicit way to accept that. An OpenStackVersion whose `targetVersion` or custom images a patch on
 * the way overrides is refused too: the edit would not reach the cluster.
 */
import { posix } from 'node:path';
import { parse, parseAllDocuments } from '../inputs/full-yaml.js';
import { OsvError } from '../errors.js';
import { safeRelativePath } from '../fs/contained.js';
import type { UpdatePlan } from '../plan/types.js';
import { git, gitBuffer } from './git.js';
import { KUSTOMIZATION_FILE_NAMES } from './parent-kustomization.js';

/** Where the deployments go when only `--app-path` is given: a folder of ours inside the app. */
export const DEFAULT_DEPLOYMENTS_FOLDER = 'openstack-updates';
/** Deepest chain of kustomizations we follow (real repositories use 2-4). */
const MAX_DEPTH = 16;
/** Most files the walk reads (kustomizations and manifests). */
const MAX_FILES = 2000;
/** Largest file the walk reads; larger ones are not manifests a human keeps in Git. */
const MAX_FILE_BYTES = 1024 * 1024;

interface TreeEntry {
  readonly mode: string;
  readonly type: string;
  readonly id: string;
  readonly size: number;
}

/** The repository's files at one commit, read once; blobs are read on demand and cached. */
class RepoTree {
  private readonly texts = new Map<string, string>();
  reads = 0;

  private constructor(
    readonly top: string,
    readonly ref: string,
    readonly entries: ReadonlyMap<string, TreeEntry>,
  ) {}

  static async at(top: string, ref: string): Promise<RepoTree> {
    const out = await git(top, ['ls-tree', '-r', '-t', '-z', '--long', '--full-tree', ref]);
    const entries = new Map<string, TreeEntry>();
    for (const rec of out.split('\0')) {
      const m = /^(\d+) (\w+) ([0-9a-f]+) +(-|\d+)\t(.*)$/s.exec(rec);
      if (m) entries.set(m[5]!, { mode: m[1]!, type: m[2]!, id: m[3]!, size: m[4] === '-' ? 0 : Number(m[4]) });
    }
    return new RepoTree(top, ref, entries);
  }

  isFolder(path: string): boolean {
    return path === '' || this.entries.get(path)?.type === 'tree';
  }

  /** A link on the way to `path` (the path itself or a folder above it). */
  linkOnTheWay(path: string): string | undefined {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (this.entries.get(p)?.mode === '120000') return p;
    }
    return undefined;
  }

  /** The kustomization file of a folder, or undefined; more than one is refused as kustomize does. */
  kustomizationOf(dir: string): string | undefined {
    const found = KUSTOMIZATION_FILE_NAMES.map((n) => (dir === '' ? n : `${dir}/${n}`)).filter((p) => this.entries.has(p));
    if (found.length > 1) throw new OsvError('KUSTOMIZATION_INVALID', `${dir || 'the repository root'} holds ${found.length} kustomization files; kustomize refuses that`, { hint: 'Keep one of them, then run again.' });
    return found[0];
  }

  async text(path: string): Promise<string> {
    const cached = this.texts.get(path);
    if (cached !== undefined) return cached;
    const e = this.entries.get(path);
    if (!e || e.type !== 'blob') throw new OsvError('APP_PATH_INVALID', `${path} is not a file at ${this.ref}`);
    if (e.mode === '120000') throw linkRefused(path, path);
    if (e.size > MAX_FILE_BYTES) throw new OsvError('INPUT_TOO_LARGE', `${path} is ${e.size} bytes, over the ${MAX_FILE_BYTES}-byte limit for a manifest the walk reads`);
    if (++this.reads > MAX_FILES) throw new OsvError('APP_PATH_INVALID', `the kustomization graph reads more than ${MAX_FILES} files; osv-gitops stops there`, { hint: 'Point --app-path at the folder of one cluster, or pass --version-file.' });
    const text = (await gitBuffer(this.top, ['cat-file', 'blob', e.id], '')).toString('utf8');
    this.texts.set(path, text);
    return text;
  }
}

function linkRefused(entry: string, link: string): OsvError {
  return new OsvError('PATH_UNSAFE', `${entry} goes through the symbolic link ${link}; osv-gitops does not follow links in your repository (one can point outside it)`, {
    hint: 'Replace the link with the folder or file itself, or pass --version-file and --deployments-dir.',
  });
}

/** The entries of a kustomization that pull files in, and the patch texts it applies. */
interface KustomizationRefs {
  readonly refs: string[];
  readonly patchFiles: string[];
  readonly inlinePatches: string[];
}

const REMOTE = /:\/\/|^git@|^github\.com\/|^gitlab\.com\/|\?ref=/;

function kustomizationRefs(file: string, text: string): KustomizationRefs {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new OsvError('KUSTOMIZATION_INVALID', `not valid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, { location: { file } });
  }
  const out: KustomizationRefs = { refs: [], patchFiles: [], inlinePatches: [] };
  if (doc === null || typeof doc !== 'object') return out;
  const k = doc as Record<string, unknown>;
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  for (const key of ['resources', 'bases', 'components']) out.refs.push(...strings(k[key]).filter((e) => !REMOTE.test(e)));
  out.patchFiles.push(...strings(k['patchesStrategicMerge']).filter((e) => !/\n/.test(e)));
  out.inlinePatches.push(...strings(k['patchesStrategicMerge']).filter((e) => /\n/.test(e)));
  for (const key of ['patches', 'patchesJson6902']) {
    for (const p of Array.isArray(k[key]) ? (k[key] as unknown[]) : []) {
      if (p === null || typeof p !== 'object') continue;
      const { path, patch } = p as { path?: unknown; patch?: unknown };
      if (typeof path === 'string') out.patchFiles.push(path);
      if (typeof patch === 'string') out.inlinePatches.push(patch);
    }
  }
  return out;
}

/** `entry` of the kustomization in `dir`, as a repository path; refused when it climbs out. */
function resolveEntry(dir: string, entry: string, file: string): string {
  const target = posix.normalize(posix.join(dir === '' ? '.' : dir, entry.trim())).replace(/\/+$/, '');
  if (target === '..' || target.startsWith('../') || posix.isAbsolute(target)) {
    throw new OsvError('PATH_UNSAFE', `${file} lists ${JSON.stringify(entry)}, which is outside the repository; osv-gitops reads only this repository`, {
      hint: 'Pass --version-file and --deployments-dir yourself for a repository that builds from outside itself.',
    });
  }
  return target === '.' ? '' : target;
}

export interface FoundVersion {
  /** The file that declares the OpenStackVersion. */
  readonly file: string;
  /** The kustomizations from the app path down to the one that lists the file. */
  readonly via: readonly string[];
}

export interface AppGraph {
  readonly appPath: string;
  /** Every kustomization folder the app builds. */
  readonly folders: readonly string[];
  /** Every manifest file the app builds. */
  readonly files: readonly string[];
  readonly versions: readonly FoundVersion[];
  /** Patches on the way that touch an OpenStackVersion's targetVersion or custom images. */
  readonly versionPatches: readonly string[];
}

function declaresVersion(text: string, name: string): boolean {
  if (!/\bOpenStackVersion\b/.test(text)) return false;
  try {
    return parseAllDocuments(text).some((d) => {
      if (d.errors.length) return false;
      const v = d.toJS() as { kind?: unknown; apiVersion?: unknown; metadata?: { name?: unknown } } | null;
      return v?.kind === 'OpenStackVersion' && typeof v.apiVersion === 'string' && v.apiVersion.startsWith('core.openstack.org/') && v.metadata?.name === name;
    });
  } catch {
    return false;
  }
}

/** A patch text that targets an OpenStackVersion and sets what the update changes. */
function touchesVersion(text: string): boolean {
  return /\bOpenStackVersion\b/.test(text) && /\b(targetVersion|customContainerImages)\b/.test(text);
}

/** Walk the kustomization graph of `appPath` at `tree`'s commit. */
async function walk(tree: RepoTree, appPath: string, osvName: string): Promise<AppGraph> {
  const folders: string[] = [];
  const files: string[] = [];
  const versions: FoundVersion[] = [];
  const versionPatches: string[] = [];
  const visit = async (dir: string, via: readonly string[]): Promise<void> => {
    if (folders.includes(dir)) return; // a diamond (two overlays of one base) or a cycle
    if (via.length > MAX_DEPTH) throw new OsvError('APP_PATH_INVALID', `the kustomization graph is deeper than ${MAX_DEPTH} levels at ${dir}`, { details: [...via] });
    const kfile = tree.kustomizationOf(dir);
    if (kfile === undefined) throw new OsvError('APP_PATH_INVALID', `${dir || 'the repository root'} has no kustomization.yaml${via.length ? ` (listed by ${via[via.length - 1]})` : ''}`, {
      hint: '--app-path is the folder your Argo CD Application or Flux Kustomization builds with kustomize.',
    });
    const link = tree.linkOnTheWay(kfile);
    if (link) throw linkRefused(kfile, link);
    folders.push(dir);
    const chain = [...via, kfile];
    const refs = kustomizationRefs(kfile, await tree.text(kfile));
    for (const p of refs.patchFiles) {
      const path = resolveEntry(dir, p, kfile);
      if (tree.entries.get(path)?.type === 'blob' && !tree.linkOnTheWay(path) && touchesVersion(await tree.text(path))) versionPatches.push(path);
    }
    if (refs.inlinePatches.some(touchesVersion)) versionPatches.push(kfile);
    for (const entry of refs.refs) {
      const path = resolveEntry(dir, entry, kfile);
      const linked = tree.linkOnTheWay(path);
      if (linked) throw linkRefused(`${kfile}: ${entry}`, linked);
      if (tree.isFolder(path)) await visit(path, chain);
      else if (tree.entries.get(path)?.type === 'blob') {
        if (files.includes(path)) continue;
        files.push(path);
        if (/\.(ya?ml|json)$/i.test(path) && declaresVersion(await tree.text(path), osvName)) versions.push({ file: path, via: chain });
      } else throw new OsvError('APP_PATH_INVALID', `${kfile} lists ${JSON.stringify(entry)}, which is not in the repository at ${tree.ref}`);
    }
  };
  await visit(appPath, []);
  return { appPath, folders, files, versions, versionPatches };
}

/**
 * The kustomization folders outside `graph` that also build `file`: the other clusters an edit of
 * a shared base would move. Every kustomization of the repository is read once (bounded as above).
 */
async function otherBuilders(tree: RepoTree, graph: AppGraph, file: string): Promise<string[]> {
  const referrers = new Map<string, Set<string>>(); // target path -> kustomization folders listing it
  for (const [path, e] of tree.entries) {
    if (e.type !== 'blob' || !KUSTOMIZATION_FILE_NAMES.some((n) => path === n || path.endsWith(`/${n}`)) || tree.linkOnTheWay(path)) continue;
    const dir = posix.dirname(path) === '.' ? '' : posix.dirname(path);
    let refs: KustomizationRefs;
    try {
      refs = kustomizationRefs(path, await tree.text(path));
    } catch (err) {
      if (err instanceof OsvError && err.code === 'KUSTOMIZATION_INVALID') continue; // not built by anyone we know of
      throw err;
    }
    for (const entry of refs.refs) {
      let target: string;
      try {
        target = resolveEntry(dir, entry, path);
      } catch {
        continue;
      }
      if (!referrers.has(target)) referrers.set(target, new Set());
      referrers.get(target)!.add(dir);
    }
  }
  // every folder that reaches the file, without passing through the app itself
  const reached = new Set<string>();
  const queue = [file];
  while (queue.length) {
    const next = queue.shift()!;
    for (const dir of referrers.get(next) ?? []) {
      if (dir === graph.appPath || reached.has(dir)) continue;
      reached.add(dir);
      queue.push(dir);
    }
  }
  return [...reached].filter((d) => !graph.folders.includes(d)).sort();
}

/** How many agent objects deep we follow (a cluster folder, its app of apps, the app). */
const MAX_AGENT_HOPS = 2;

interface AgentObject {
  /** e.g. `Flux Kustomization flux-system/openstack`. */
  readonly object: string;
  /** The folder it builds, repository-relative ('' = the root). */
  readonly path: string;
}

/** The Flux Kustomizations and Argo CD Applications (one source) among the app's files. */
async function agentObjects(tree: RepoTree, graph: AppGraph): Promise<AgentObject[]> {
  const found: AgentObject[] = [];
  for (const file of graph.files) {
    const text = await tree.text(file);
    if (!/\b(Kustomization|Application)\b/.test(text)) continue;
    let docs;
    try {
      docs = parseAllDocuments(text).filter((d) => !d.errors.length).map((d) => d.toJS() as Record<string, unknown> | null);
    } catch {
      continue;
    }
    for (const o of docs) {
      const api = typeof o?.['apiVersion'] === 'string' ? o['apiVersion'] : '';
      const meta = (o?.['metadata'] ?? {}) as { name?: unknown; namespace?: unknown };
      const spec = (o?.['spec'] ?? {}) as { path?: unknown; source?: { path?: unknown } };
      const path = api.startsWith('kustomize.toolkit.fluxcd.io/') && o?.['kind'] === 'Kustomization' ? spec.path : api.startsWith('argoproj.io/') && o?.['kind'] === 'Application' ? spec.source?.path : undefined;
      if (typeof path !== 'string') continue;
      const kind = api.startsWith('argoproj.io/') ? 'Argo CD Application' : 'Flux Kustomization';
      const rel = safeRelativePath(`${kind} ${String(meta.name)} path`, path.replace(/^\.\//, '') || '.', { allowRoot: true });
      found.push({ object: `${kind} ${meta.namespace ? `${String(meta.namespace)}/` : ''}${String(meta.name)} in ${file}`, path: rel === '.' ? '' : rel });
    }
  }
  return found;
}

/**
 * The app that declares the OpenStackVersion: `root` itself, or, when its graph declares none and
 * holds agent objects (a Flux `clusters/<name>/` folder, an Argo CD app of apps), the one folder
 * those objects build that does. An agent whose folder has no kustomization is not followed.
 */
async function findApp(tree: RepoTree, root: string, name: string, hops: number, seen: readonly string[] = []): Promise<{ graph: AppGraph; via: string[] }> {
  const graph = await walk(tree, root, name);
  if (graph.versions.length || hops >= MAX_AGENT_HOPS) return { graph, via: [] };
  const hits: { graph: AppGraph; via: string[] }[] = [];
  for (const agent of await agentObjects(tree, graph)) {
    // Flux's own flux-system Kustomization builds the cluster folder we are in
    if (agent.path === root || seen.includes(agent.path)) continue;
    if (!tree.isFolder(agent.path) || tree.linkOnTheWay(agent.path) || tree.kustomizationOf(agent.path) === undefined) continue;
    const found = await findApp(tree, agent.path, name, hops + 1, [...seen, root]);
    if (found.graph.versions.length && !hits.some((h) => h.graph.appPath === found.graph.appPath)) hits.push({ graph: found.graph, via: [agent.object, ...found.via] });
  }
  if (hits.length > 1) {
    throw new OsvError('APP_PATH_OSV_AMBIGUOUS', `${hits.length} apps reached from ${root || '.'} declare OpenStackVersion "${name}"; osv-gitops cannot tell which one to update`, {
      hint: 'Pass --app-path the folder of the one app.',
      details: hits.map((h) => `${h.graph.appPath || '.'} (${h.via.join(' -> ')})`),
    });
  }
  return hits[0] ?? { graph, via: [] };
}

export interface AppLayout {
  /** The folder adopted: `--app-path`, or the path of the agent object found there. */
  readonly appPath: string;
  /** The agent objects followed from `--app-path` to the app (Flux Kustomization, Argo CD Application). */
  readonly via?: readonly string[];
  readonly versionFile: string;
  readonly deploymentsDir: string;
}

/**
 * Adopt the app at `appPath`: its one OpenStackVersion file for the plan's name (in the app's own
 * folders, or a base only this app builds) and the deployments folder `<appPath>/openstack-updates`
 * unless `deploymentsDir` is given. Read at commit `ref` (the branch the update goes to).
 */
export async function adoptAppPath(top: string, ref: string | undefined, appPathFlag: string, plan: Pick<UpdatePlan, 'openStackVersion'>, deploymentsDir?: string): Promise<AppLayout> {
  const appPath = safeRelativePath('--app-path', appPathFlag, { allowRoot: true });
  if (ref === undefined) throw new OsvError('APP_PATH_INVALID', 'the repository has no commit yet, so --app-path has nothing to read');
  const tree = await RepoTree.at(top, ref);
  const link = appPath === '.' ? undefined : tree.linkOnTheWay(appPath);
  if (link) throw linkRefused(`--app-path ${appPath}`, link);
  const root = appPath === '.' ? '' : appPath;
  if (!tree.isFolder(root)) throw new OsvError('APP_PATH_INVALID', `--app-path ${appPath} is not a folder at ${ref.replace(/^refs\/heads\//, '')}`);
  const name = plan.openStackVersion;
  const { graph, via } = await findApp(tree, root, name, 0);
  if (graph.versions.length === 0) {
    throw new OsvError('APP_PATH_OSV_NOT_FOUND', `the kustomization graph of ${appPath} (${graph.folders.length} folders, ${graph.files.length} files) declares no OpenStackVersion "${name}"`, {
      hint: 'Point --app-path at the folder the agent applies for this cluster, or pass --version-file with the file that holds it.',
      details: graph.folders.map((f) => `read ${f || '.'}`),
    });
  }
  if (graph.versions.length > 1) {
    throw new OsvError('APP_PATH_OSV_AMBIGUOUS', `${graph.versions.length} files under ${appPath} declare OpenStackVersion "${name}"; kustomize would refuse the duplicate, and osv-gitops cannot tell which one to edit`, {
      hint: 'Keep one of them, or pass --version-file.',
      details: graph.versions.map((v) => v.file),
    });
  }
  const found = graph.versions[0]!;
  if (graph.versionPatches.length) {
    throw new OsvError('OSV_PATCHED', `a patch in the kustomization graph of ${appPath} sets the targetVersion or custom images of an OpenStackVersion; editing ${found.file} would not change what the agent applies`, {
      hint: 'Move targetVersion (and customContainerImages) out of the patch into the OpenStackVersion file itself, then run again; or pass --version-file with the file to edit.',
      details: graph.versionPatches,
    });
  }
  const others = await otherBuilders(tree, graph, found.file);
  if (others.length) {
    throw new OsvError('OSV_SHARED_BASE', `${found.file} is in a base that ${others.length === 1 ? 'another kustomization' : `${others.length} other kustomizations`} also build${others.length === 1 ? 's' : ''} (${others.join(', ')}); editing it would update every one of those clusters at once`, {
      hint:
        `Give each cluster its own OpenStackVersion: move it from the base into ${appPath} (and the other overlays), then run again. ` +
        `To update every cluster of the base together on purpose, say so: --version-file ${found.file} --deployments-dir ${posix.join(appPath, DEFAULT_DEPLOYMENTS_FOLDER)}.`,
      details: others.map((o) => `also built by ${o || '.'}`),
    });
  }
  const app = graph.appPath === '' ? '.' : graph.appPath;
  const deployments = deploymentsDir !== undefined ? safeRelativePath('--deployments-dir', deploymentsDir) : posix.join(app, DEFAULT_DEPLOYMENTS_FOLDER);
  return { appPath: app, versionFile: found.file, deploymentsDir: deployments, ...(via.length ? { via } : {}) };
}
