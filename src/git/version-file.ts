/**
 * `commit --version-file`: the user's repository already holds its `OpenStackVersion`, so we edit
 * that file in place instead of adding a second copy. Only `spec.targetVersion`,
 * `spec.customContainerImages` and (when the plan asks) the skip-custom-images annotation change;
 * every other byte, comments and odd formatting included, stays as the user wrote it. The edit
 * splices source ranges of the parsed document (libraries.md §5) rather than re-printing it, and is
 * checked by parsing the result again. Data-plane deployments go to a folder of their own, which
 * is added to the parent folder's kustomization (src/git/parent-kustomization.ts).
 */
import { posix } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Document, Node, Pair, Scalar, YAMLMap } from 'yaml';
import { isAlias, isMap, isScalar, parseAllDocuments } from '../inputs/full-yaml.js';
import { OsvError } from '../errors.js';
import { safeRelativePath } from '../fs/contained.js';
import { maxInputBytes } from '../inputs/yaml.js';
import { SKIP_CUSTOM_IMAGES_ANNOTATION } from '../inputs/openstack-version.js';
import type { PhasePlan, UpdatePlan } from '../plan/types.js';
import type { Engine, RenderInputs, RenderedFile } from '../render/render.js';
import type { PhaseLayout } from './commit-phases.js';
import { git } from './git.js';
import { readParentKustomization, referenceFolder, unreferencedWarning } from './parent-kustomization.js';
import { endOfLine, lineStart, plainSafe, YAML11_WORDS } from './yaml-text.js';

export interface VersionFileOptions {
  /** Path of the user's OpenStackVersion file, relative to the repository root. */
  readonly path: string;
  /** Folder (relative to the repository root) for the data-plane deployments and their kustomization. */
  readonly deploymentsDir: string;
}

type Json = string | { readonly [key: string]: Json };

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** A repository-relative path, normalised; refuses paths that leave the repository or touch `.git`. */
export function repoRelative(flag: string, value: string): string {
  return safeRelativePath(flag, value);
}

// ---------------------------------------------------------------------------------------------
// text helpers

function quoted(s: string, style: 'single' | 'double'): string {
  return style === 'single' ? `'${s.replace(/'/g, "''")}'` : JSON.stringify(s);
}

/** New scalar text; keeps the quoting style of the scalar it replaces where that is safe. */
function scalarText(value: string, like: Scalar['type'] | undefined, alwaysQuote: boolean): string {
  if (like === 'QUOTE_SINGLE') return quoted(value, 'single');
  if (like === 'PLAIN' && !alwaysQuote && plainSafe(value)) return value;
  if (like === undefined && !alwaysQuote && plainSafe(value)) return value;
  return quoted(value, 'double');
}

function keyText(key: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(key) && !YAML11_WORDS.test(key) ? key : JSON.stringify(key);
}

function isObject(v: Json | undefined): v is { readonly [key: string]: Json } {
  return typeof v === 'object' && v !== null;
}

function flowText(v: Json): string {
  // YAML 1.1 readers are unsure about ':' inside plain flow scalars: quote those
  if (!isObject(v)) return v.includes(':') ? quoted(v, 'double') : scalarText(v, undefined, false);
  return `{${Object.entries(v).map(([k, x]) => `${keyText(k)}: ${flowText(x)}`).join(', ')}}`;
}

/** Block lines for `entries` at `indent` spaces, nested maps `step` further in; ends with a newline. */
function blockLines(entries: readonly (readonly [string, Json])[], indent: number, step: number, alwaysQuote: ReadonlySet<string>): string {
  const pad = ' '.repeat(indent);
  return entries
    .map(([k, v]) => {
      if (!isObject(v)) return `${pad}${keyText(k)}: ${scalarText(v, undefined, alwaysQuote.has(k))}\n`;
      const inner = Object.entries(v);
      return inner.length ? `${pad}${keyText(k)}:\n${blockLines(inner, indent + step, step, alwaysQuote)}` : `${pad}${keyText(k)}: {}\n`;
    })
    .join('');
}

// ---------------------------------------------------------------------------------------------
// the editor: a list of non-overlapping source splices

class Splicer {
  readonly edits: Edit[] = [];
  /** The file's own indentation step, from the first nested block map; 2 when there is none. */
  step = 2;

  constructor(
    readonly src: string,
    private readonly file: string,
    private readonly alwaysQuote: ReadonlySet<string>,
  ) {}

  fail(message: string): never {
    throw new OsvError('VERSION_FILE_INVALID', `cannot edit in place: ${message}`, {
      location: { file: this.file },
      hint: 'Write the OpenStackVersion as plain YAML without anchors or aliases in spec and metadata, or drop --version-file.',
    });
  }

  private range(n: Node): [number, number, number] {
    if (!n.range) this.fail('a node has no source position');
    return n.range;
  }

  column(n: Node): number {
    const [start] = this.range(n);
    return start - lineStart(this.src, start);
  }

  keyOf(pair: Pair): string {
    if (!isScalar(pair.key)) this.fail('a map key that is not a plain scalar');
    return String(pair.key.value);
  }

  /** Where a pair's content ends (its value's end, without a trailing comment). */
  private pairEnd(pair: Pair): number {
    return this.range((pair.value ?? pair.key) as Node)[1];
  }

  private insertText(key: string, v: Json): string {
    return `${keyText(key)}: ${this.alwaysQuote.has(key) && !isObject(v) ? quoted(v, 'double') : flowText(v)}`;
  }

  setScalar(node: Node | null, value: string, key: string): void {
    if (node === null) this.fail(`${key} has no value node`);
    if (isAlias(node)) this.fail(`${key} is an alias`);
    if (!isScalar(node)) this.fail(`${key} is not a scalar`);
    if (typeof node.value === 'string' && node.value === value) return;
    const [start, end] = this.range(node);
    const old = this.src.slice(start, end);
    let text = scalarText(value, node.value === null ? undefined : node.type, this.alwaysQuote.has(key));
    if (old === '') text = ` ${text}`; // `key:` with no value
    if (old.endsWith('\n')) text += '\n'; // a block scalar's range takes its last newline
    this.edits.push({ start, end, text });
  }

  /** Make `map` hold `desired`; keys in `remove` (or every other key, with 'others') are taken out. */
  reconcile(map: YAMLMap, desired: Readonly<Record<string, Json>>, remove: 'others' | readonly string[]): void {
    const items = map.items as Pair[];
    const removed = items.filter((p) => (remove === 'others' ? desired[this.keyOf(p)] === undefined : remove.includes(this.keyOf(p))));
    const missing = Object.entries(desired).filter(([k]) => !items.some((p) => this.keyOf(p) === k));
    if (map.flow && removed.length === items.length && items.length + missing.length > 0) {
      // every entry of a flow map goes: write the map anew
      const [start, end] = this.range(map);
      this.edits.push({ start, end, text: `{${missing.map(([k, v]) => this.insertText(k, v)).join(', ')}}` });
      return;
    }
    for (const pair of items) {
      const want = desired[this.keyOf(pair)];
      if (want !== undefined && !removed.includes(pair)) this.reconcileValue(map, pair, want);
    }
    if (removed.length) this.removePairs(map, removed);
    if (missing.length) this.insertPairs(map, missing);
  }

  reconcileValue(map: YAMLMap, pair: Pair, want: Json): void {
    const key = this.keyOf(pair);
    const node = pair.value as Node | null;
    if (isAlias(node)) this.fail(`${key} is an alias`);
    if (!isObject(want)) this.setScalar(node, want, key);
    else if (isMap(node) && (node.items.length === 0 || Object.keys(want).length > 0)) this.reconcile(node, want, 'others');
    else this.replaceValue(map, pair, want);
  }

  /** Replace a pair's whole value (null, a scalar, or a map that must become empty) with a map. */
  private replaceValue(map: YAMLMap, pair: Pair, want: { readonly [key: string]: Json }): void {
    const [, keyEnd] = this.range(pair.key as Node);
    const colon = this.src.indexOf(':', keyEnd);
    if (colon < 0) this.fail(`no ":" after ${this.keyOf(pair)}`);
    const value = pair.value as Node | null;
    const entries = Object.entries(want);
    if (isMap(value) && !value.flow) {
      // a block map's lines go with it, up to the end of its last line
      const end = endOfLine(this.src, this.range(value)[1]);
      const text = entries.length ? `\n${blockLines(entries, this.column(pair.key as Node) + this.step, this.step, this.alwaysQuote)}` : ' {}\n';
      this.edits.push({ start: colon + 1, end, text });
      return;
    }
    const end = value ? this.range(value)[1] : colon + 1;
    const text = map.flow || entries.length === 0 ? ` ${flowText(want)}` : `\n${blockLines(entries, this.column(pair.key as Node) + this.step, this.step, this.alwaysQuote).replace(/\n$/, '')}`;
    this.edits.push({ start: colon + 1, end, text });
  }

  private removePairs(map: YAMLMap, removed: readonly Pair[]): void {
    const items = map.items as Pair[];
    if (!map.flow) {
      for (const pair of removed) {
        const start = lineStart(this.src, this.range(pair.key as Node)[0]);
        this.edits.push({ start, end: endOfLine(this.src, this.pairEnd(pair)), text: '' });
      }
      return;
    }
    // flow map: an entry goes with the comma after it; trailing entries with the comma before them
    const lastKept = items.reduce((k, p, i) => (removed.includes(p) ? k : i), -1);
    for (const [i, pair] of items.entries()) {
      if (!removed.includes(pair) || i > lastKept) continue;
      this.edits.push({ start: this.range(pair.key as Node)[0], end: this.range(items[i + 1]!.key as Node)[0], text: '' });
    }
    if (lastKept < items.length - 1) this.edits.push({ start: this.pairEnd(items[lastKept]!), end: this.pairEnd(items[items.length - 1]!), text: '' });
  }

  private insertPairs(map: YAMLMap, entries: readonly (readonly [string, Json])[]): void {
    const items = map.items as Pair[];
    const last = items[items.length - 1];
    if (map.flow) {
      const text = entries.map(([k, v]) => this.insertText(k, v)).join(', ');
      if (last) this.edits.push({ start: this.pairEnd(last), end: this.pairEnd(last), text: `, ${text}` });
      else {
        const [start, end] = this.range(map);
        this.edits.push({ start, end, text: `{${text}}` });
      }
      return;
    }
    if (!last) this.fail('an empty block map');
    const at = endOfLine(this.src, this.pairEnd(last));
    const lines = blockLines(entries, this.column(items[0]!.key as Node), this.step, this.alwaysQuote);
    this.edits.push({ start: at, end: at, text: at === this.src.length && !this.src.endsWith('\n') ? `\n${lines}` : lines });
  }

  apply(): string {
    const sorted = [...this.edits].sort((a, b) => b.start - a.start || b.end - a.end);
    let out = this.src;
    let limit = Infinity;
    for (const e of sorted) {
      if (e.end > limit) this.fail('two edits overlap');
      out = out.slice(0, e.start) + e.text + out.slice(e.end);
      limit = e.start;
    }
    return out;
  }
}

/** The indentation step of a document: the distance from the first nested block map's key to its parent's. */
function detectStep(s: Splicer, root: YAMLMap): number {
  for (const pair of root.items as Pair[]) {
    const v = pair.value as Node | null;
    if (isMap(v) && !v.flow && v.items[0] && isScalar(pair.key)) {
      const d = s.column(v.items[0].key as Node) - s.column(pair.key);
      if (d > 0) return d;
    }
  }
  return 2;
}

// ---------------------------------------------------------------------------------------------

function docKind(doc: Document): { kind: unknown; apiVersion: unknown } {
  const js = doc.contents && isMap(doc.contents) ? (doc.toJS() as Record<string, unknown>) : {};
  return { kind: js['kind'], apiVersion: js['apiVersion'] };
}

function isOpenStackVersionDoc(doc: Document): boolean {
  const { kind, apiVersion } = docKind(doc);
  return kind === 'OpenStackVersion' && typeof apiVersion === 'string' && apiVersion.startsWith('core.openstack.org/');
}

/** The desired JS of the edited document, to check the splices against. */
function expectedObject(original: Record<string, unknown>, plan: UpdatePlan, custom: Readonly<Record<string, Json>>): Record<string, unknown> {
  const out = structuredClone(original);
  const spec = (out['spec'] && typeof out['spec'] === 'object' ? out['spec'] : (out['spec'] = {})) as Record<string, unknown>;
  spec['targetVersion'] = plan.versions.target;
  const hasCurrent = spec['customContainerImages'] && typeof spec['customContainerImages'] === 'object' && Object.keys(spec['customContainerImages']).length > 0;
  if (Object.keys(custom).length) spec['customContainerImages'] = structuredClone(custom);
  else if (hasCurrent) delete spec['customContainerImages'];
  if (plan.skipCustomImagesValidation) {
    const meta = (out['metadata'] ??= {}) as Record<string, unknown>;
    const ann = (meta['annotations'] && typeof meta['annotations'] === 'object' ? meta['annotations'] : (meta['annotations'] = {})) as Record<string, unknown>;
    if (!(SKIP_CUSTOM_IMAGES_ANNOTATION in ann)) ann[SKIP_CUSTOM_IMAGES_ANNOTATION] = '';
  }
  return out;
}

function toJson(value: unknown, where: string): Json {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v, `${where}.${k}`)]));
  }
  throw new OsvError('PLAN_INVALID', `${where} must be a string or a map of strings`);
}

/**
 * Edit the text of a YAML file holding the user's OpenStackVersion so that it carries the plan's
 * target version and custom images. Returns the new text (the same text when nothing changes).
 */
export function editVersionFile(source: string, plan: UpdatePlan, file = 'the version file'): string {
  const docs = parseAllDocuments(source, { keepSourceTokens: true });
  if (!Array.isArray(docs)) throw new OsvError('VERSION_FILE_INVALID', 'cannot parse the file', { location: { file } });
  const broken = docs.findIndex((d) => d.errors.length > 0);
  if (broken >= 0) {
    const err = docs[broken]!.errors[0]!;
    throw new OsvError('VERSION_FILE_INVALID', `not valid YAML: ${err.message.split('\n')[0] ?? err.code}`, { location: { file, document: broken } });
  }
  let osvDocs: Document.Parsed[];
  try {
    osvDocs = docs.filter(isOpenStackVersionDoc);
  } catch (e) {
    // e.g. an alias whose anchor is missing: the parser reports it only when the document is read
    throw new OsvError('VERSION_FILE_INVALID', `cannot read the file: ${e instanceof Error ? e.message : String(e)}`, { location: { file } });
  }
  if (osvDocs.length === 0) {
    const kinds = docs.map((d) => String(docKind(d).kind ?? 'nothing'));
    throw new OsvError('VERSION_FILE_INVALID', docs.length > 1 ? `none of its ${docs.length} documents is an OpenStackVersion (${kinds.join(', ')})` : `is not an OpenStackVersion (kind: ${kinds[0] ?? 'empty file'})`, {
      location: { file },
      hint: 'Point --version-file at the file in your repository that holds the OpenStackVersion (core.openstack.org).',
    });
  }
  if (osvDocs.length > 1) {
    throw new OsvError('VERSION_FILE_INVALID', `holds ${osvDocs.length} OpenStackVersion documents; cannot tell which one to edit`, { location: { file } });
  }
  const doc = osvDocs[0]!;
  const docIndex = docs.findIndex((d) => d === doc);
  const original = doc.toJS() as Record<string, unknown>;
  const meta = (original['metadata'] ?? {}) as { name?: unknown; namespace?: unknown };
  if (meta.name !== plan.openStackVersion) {
    throw new OsvError('VERSION_FILE_MISMATCH', `holds OpenStackVersion "${String(meta.name)}", the plan updates "${plan.openStackVersion}"`, { location: { file, document: docIndex } });
  }
  // a missing namespace is fine: the user's kustomization usually sets it
  if (meta.namespace !== undefined && meta.namespace !== plan.namespace) {
    throw new OsvError('VERSION_FILE_MISMATCH', `is in namespace "${String(meta.namespace)}", the plan updates namespace "${plan.namespace}"`, { location: { file, document: docIndex } });
  }

  const custom = toJson(plan.customContainerImages, 'customContainerImages') as Readonly<Record<string, Json>>;
  const root = doc.contents;
  if (!isMap(root)) throw new OsvError('VERSION_FILE_INVALID', 'the OpenStackVersion is not a map', { location: { file, document: docIndex } });
  const s = new Splicer(source, file, new Set(['targetVersion']));
  s.step = detectStep(s, root);
  const pairOf = (map: YAMLMap, key: string) => (map.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === key);

  const specWant: Record<string, Json> = { targetVersion: plan.versions.target };
  if (Object.keys(custom).length) specWant['customContainerImages'] = custom;
  const specPair = pairOf(root, 'spec');
  const spec = specPair?.value as Node | null | undefined;
  if (!specPair) s.reconcile(root, { spec: specWant }, []);
  else if (!isMap(spec)) s.reconcileValue(root, specPair, specWant);
  else {
    // the plan drops every custom image: take the key out, as a fresh render would
    const current = pairOf(spec, 'customContainerImages')?.value;
    const drop = !Object.keys(custom).length && isMap(current) && current.items.length > 0;
    s.reconcile(spec, specWant, drop ? ['customContainerImages'] : []);
  }
  if (plan.skipCustomImagesValidation) {
    const metaPair = pairOf(root, 'metadata');
    const meta = metaPair?.value as Node | null | undefined;
    if (!metaPair || !isMap(meta)) throw new OsvError('VERSION_FILE_INVALID', 'metadata is not a map', { location: { file, document: docIndex } });
    const annPair = pairOf(meta, 'annotations');
    const ann = annPair?.value as Node | null | undefined;
    const add = { [SKIP_CUSTOM_IMAGES_ANNOTATION]: '' };
    if (!annPair) s.reconcile(meta, { annotations: add }, []);
    // an annotation already there, whatever its value, already skips the check: leave it be
    else if (isMap(ann)) s.reconcile(ann, pairOf(ann, SKIP_CUSTOM_IMAGES_ANNOTATION) ? {} : add, []);
    else s.reconcileValue(meta, annPair, add);
  }
  const out = s.apply();

  // the splices must give exactly the intended document, and leave every other document alone
  const after = parseAllDocuments(out);
  const ok =
    Array.isArray(after) &&
    after.length === docs.length &&
    after.every((d) => d.errors.length === 0) &&
    after.every((d, i) => isDeepStrictEqual(d.toJS(), i === docIndex ? expectedObject(original, plan, custom) : docs[i]!.toJS()));
  if (!ok) {
    throw new OsvError('VERSION_FILE_INVALID', 'cannot edit in place: the edited file would not read back as intended', {
      location: { file },
      hint: 'Simplify the formatting of spec and metadata.annotations (plain block YAML), then run again.',
    });
  }
  return out;
}

/** Largest version file we edit (a real one is a few kB; a huge one is a mistake or an attack). */
const MAX_VERSION_FILE_BYTES = 1024 * 1024;

/**
 * The text of `path` at commit `ref`; never the work tree (what we edit is what is committed, and a
 * symlink there could point anywhere). VERSION_FILE_NOT_FOUND when absent, PATH_UNSAFE for a link.
 */
export async function readVersionFile(repo: string, path: string, ref: string | undefined): Promise<string> {
  const where = ref === undefined ? 'the repository (it has no commit yet)' : ref.replace(/^refs\/heads\//, '');
  const entry = ref === undefined ? '' : (await git(repo, ['ls-tree', '-z', '--full-tree', ref, '--', path])).split('\0')[0] ?? '';
  const m = /^(\d+) (\w+) ([0-9a-f]+)\t/.exec(entry);
  if (!m) throw new OsvError('VERSION_FILE_NOT_FOUND', `${path} is not committed in ${where}`, { hint: '--version-file is a path relative to the repository root, committed on the branch.' });
  if (m[1] === '120000') throw new OsvError('PATH_UNSAFE', `--version-file ${path} is a symbolic link; osv-gitops edits only regular files`, { hint: 'Point --version-file at the file itself.' });
  if (m[2] !== 'blob') throw new OsvError('VERSION_FILE_INVALID', `${path} is a ${m[2]}, not a file`);
  const size = Number((await git(repo, ['cat-file', '-s', m[3]!])).trim());
  const limit = Math.min(MAX_VERSION_FILE_BYTES, maxInputBytes());
  if (size > limit) {
    throw new OsvError('INPUT_TOO_LARGE', `--version-file ${path} is ${size} bytes, over the ${limit}-byte limit for an OpenStackVersion`, { location: { file: path } });
  }
  return git(repo, ['cat-file', 'blob', m[3]!]);
}

/** The data-plane deployments of every phase up to `phase`, as their own kustomize folder. */
export async function deploymentFiles(inputs: RenderInputs, phase: PhasePlan, engine: Engine, dir: string): Promise<RenderedFile[]> {
  const { kustomizeFolder, phaseObjects } = await import('../render/render.js'); // loaded only when a phase is rendered
  // render through the same charts as the full set, without the objects the user's repo holds
  const objects = phaseObjects({ plan: inputs.plan }, phase, { engine }).filter((o) => o['kind'] === 'OpenStackDataPlaneDeployment');
  return kustomizeFolder(dir, objects);
}

/**
 * The layout of a phase with `--version-file`: the edited OpenStackVersion file and the deployments
 * folder. The file is read at `from.ref` (undefined: the work tree), edited and checked here, before
 * anything is written.
 */
export async function versionFileLayout(inputs: RenderInputs, engine: Engine, opts: VersionFileOptions, from: { readonly repo: string; readonly ref: string | undefined }): Promise<PhaseLayout> {
  const path = repoRelative('--version-file', opts.path);
  const dir = repoRelative('--deployments-dir', opts.deploymentsDir);
  if (path === dir || path.startsWith(`${dir}/`)) {
    throw new OsvError('USAGE', `--version-file ${path} is inside --deployments-dir ${dir}, which osv-gitops rewrites`, { hint: 'Choose a deployments folder of its own.' });
  }
  const edited = editVersionFile(await readVersionFile(from.repo, path, from.ref), inputs.plan, path);
  // the agent applies the deployments only if the kustomization above them lists their folder
  const parent = await readParentKustomization(from.repo, dir, from.ref);
  const wired = parent && parent.path !== path ? { path: parent.path, content: referenceFolder(parent.text, posix.basename(dir), parent.path) } : undefined;
  return {
    // the parent kustomization is in every phase (edited or not), so a lagging work tree catches up on it too
    paths: [path, ...(wired ? [wired.path] : []), dir],
    ownedDirs: [dir],
    files: async (phase) => [{ path, content: edited }, ...(wired ? [wired] : []), ...(await deploymentFiles(inputs, phase, engine, dir))],
    warnings: parent ? [] : [unreferencedWarning(dir)],
  };
}
