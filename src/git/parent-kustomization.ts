/**
 * `commit --version-file --deployments-dir DIR`: the deployments folder is only applied when the
 * kustomization the agent builds references it. When DIR's parent folder has a kustomization, we
 * add DIR to its `resources` (once), splicing the text like the OpenStackVersion edit so the
 * user's comments and formatting stay; when it has none, the caller warns.
 */
import { isDeepStrictEqual } from 'node:util';
import { posix } from 'node:path';
import type { Node, Pair, YAMLMap } from 'yaml';
import { isAlias, isMap, isScalar, isSeq, parseAllDocuments } from '../inputs/full-yaml.js';
import { OsvError } from '../errors.js';
import { maxInputBytes } from '../inputs/yaml.js';
import { git } from './git.js';
import { endOfLine, lineStart, plainSafe } from './yaml-text.js';

/** The file names kustomize looks for in a folder, in its own order. */
export const KUSTOMIZATION_FILE_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

/** Largest kustomization we edit (a real one is a few kB). */
const MAX_KUSTOMIZATION_BYTES = 1024 * 1024;

export interface ParentKustomization {
  /** Repository-relative path of the kustomization file. */
  readonly path: string;
  readonly text: string;
}

/** The folder that holds `dir`, as shown to the user ('.' is the repository root). */
export function parentOf(dir: string): string {
  return posix.dirname(dir);
}

/**
 * The kustomization of `dir`'s parent folder at commit `ref` (never the work tree), or undefined
 * when that folder has none. A link or more than one kustomization file is refused.
 */
export async function readParentKustomization(repo: string, dir: string, ref: string | undefined): Promise<ParentKustomization | undefined> {
  if (ref === undefined) return undefined;
  const parent = parentOf(dir);
  const candidates = KUSTOMIZATION_FILE_NAMES.map((n) => (parent === '.' ? n : `${parent}/${n}`));
  const out = await git(repo, ['ls-tree', '-z', '--full-tree', ref, '--', ...candidates]);
  // only files count: kustomize ignores a folder named like a kustomization
  const found = out
    .split('\0')
    .map((e) => /^(\d+) (\w+) ([0-9a-f]+)\t(.+)$/s.exec(e))
    .filter((m): m is RegExpExecArray => m !== null && m[2] === 'blob');
  if (found.length === 0) return undefined;
  if (found.length > 1) {
    throw new OsvError('KUSTOMIZATION_INVALID', `${parent} holds ${found.map((m) => m[4]!.replace(/.*\//, '')).join(' and ')}; kustomize refuses a folder with more than one kustomization file`, {
      hint: 'Keep one of them, then run again.',
    });
  }
  const [, mode = '', , id = '', path = ''] = found[0]!;
  if (mode === '120000') throw new OsvError('PATH_UNSAFE', `${path} is a symbolic link; osv-gitops edits only regular files`, { hint: 'Replace the link with the file itself, or choose another --deployments-dir.' });
  const size = Number((await git(repo, ['cat-file', '-s', id])).trim());
  const limit = Math.min(MAX_KUSTOMIZATION_BYTES, maxInputBytes());
  if (size > limit) throw new OsvError('INPUT_TOO_LARGE', `${path} is ${size} bytes, over the ${limit}-byte limit for a kustomization`, { location: { file: path } });
  return { path, text: await git(repo, ['cat-file', 'blob', id]) };
}

/** `updates`, `./updates`, `updates/` all name the same folder. */
function sameEntry(value: unknown, name: string): boolean {
  return typeof value === 'string' && posix.normalize(value.trim()).replace(/\/+$/, '') === name;
}

/**
 * The text of a kustomization whose `resources` lists the folder `name` (relative to the
 * kustomization's folder): the same text when it already does (`resources` or the old `bases`),
 * else one splice that adds the entry in the list's own style. The result is parsed back and checked.
 */
export function referenceFolder(source: string, name: string, file: string): string {
  const fail = (message: string): never => {
    throw new OsvError('KUSTOMIZATION_INVALID', `cannot add ${name} to its resources: ${message}`, {
      location: { file },
      hint: `Add "- ${name}" under resources: yourself, commit it, and run again.`,
    });
  };
  // an empty file parses to an empty list of documents
  const docs = parseAllDocuments(source, { keepSourceTokens: true });
  if (docs.length > 1) fail(`it holds ${docs.length} YAML documents, a kustomization holds one`);
  const doc = docs[0];
  if (doc && doc.errors.length > 0) fail(`not valid YAML: ${doc.errors[0]!.message.split('\n')[0] ?? doc.errors[0]!.code}`);
  let original: unknown;
  try {
    original = doc ? doc.toJS() : null;
  } catch (e) {
    fail(`cannot read the file: ${e instanceof Error ? e.message : String(e)}`);
  }
  const js = (original ?? {}) as Record<string, unknown>;
  if (typeof js !== 'object' || Array.isArray(js)) fail('it is not a map');
  const listed = [...(Array.isArray(js['resources']) ? js['resources'] : []), ...(Array.isArray(js['bases']) ? js['bases'] : [])];
  if (listed.some((v) => sameEntry(v, name))) return source;

  const entry = plainSafe(name) ? name : JSON.stringify(name);
  const range = (n: Node): [number, number, number] => n.range ?? fail('a node has no source position');
  const column = (pos: number) => pos - lineStart(source, pos);
  // text added at the end of a line-based block must start on a line of its own
  const atLineEnd = (at: number, text: string) => ({ at, end: at, text: at === source.length && source !== '' && !source.endsWith('\n') ? `\n${text}` : text });
  let edit: { at: number; end: number; text: string };
  const root = doc?.contents ?? null;
  if (root === null || (isScalar(root) && root.value === null)) {
    // an empty kustomization (comments at most): the list goes at the end
    edit = atLineEnd(source.length, `resources:\n- ${entry}\n`);
  } else if (!isMap(root)) {
    return fail('it is not a map');
  } else {
    const map = root as YAMLMap;
    const pair = (map.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === 'resources');
    const last = (map.items as Pair[])[map.items.length - 1];
    if (!pair) {
      if (!last) {
        // `{}`: only a flow map can be empty
        const [start, end] = range(map);
        edit = { at: start, end, text: `{resources: [${entry}]}` };
      } else {
        const lastEnd = range((last.value ?? last.key) as Node)[1];
        const pad = ' '.repeat(column(range(map.items[0]!.key as Node)[0]));
        if (map.flow) edit = { at: lastEnd, end: lastEnd, text: `, resources: [${entry}]` };
        else edit = atLineEnd(endOfLine(source, lastEnd), `${pad}resources:\n${pad}- ${entry}\n`);
      }
    } else {
      const value = pair.value as Node | null;
      if (isAlias(value)) return fail('resources is an alias');
      if (value === null || (isScalar(value) && value.value === null)) {
        const [vStart, vEnd] = value ? range(value) : [range(pair.key as Node)[1], range(pair.key as Node)[1]];
        // `resources:` with nothing after it: a block list on the next line; `resources: ~`: a flow list
        if (vStart === vEnd || /^\s*$/.test(source.slice(vStart, vEnd))) {
          edit = atLineEnd(endOfLine(source, range(pair.key as Node)[1]), `${' '.repeat(column(range(pair.key as Node)[0]))}- ${entry}\n`);
        } else edit = { at: vStart, end: vEnd, text: `[${entry}]` };
      } else if (!isSeq(value)) {
        return fail('resources is not a list');
      } else if (value.flow) {
        const lastItem = value.items[value.items.length - 1] as Node | undefined;
        if (lastItem) {
          const end = range(lastItem)[1];
          edit = { at: end, end, text: `, ${entry}` };
        } else {
          const [start, end] = range(value);
          edit = { at: start, end, text: `[${entry}]` };
        }
      } else {
        const lastItem = value.items[value.items.length - 1] as Node;
        const [start, end] = range(lastItem);
        const prefix = source.slice(lineStart(source, start), start);
        if (!/^ *- +$/.test(prefix)) return fail('its last resources entry does not start a line of its own');
        edit = atLineEnd(endOfLine(source, end), `${prefix}${entry}\n`);
      }
    }
  }
  const out = source.slice(0, edit.at) + edit.text + source.slice(edit.end);

  // the splice must give exactly the intended kustomization
  const want = { ...js, resources: [...(Array.isArray(js['resources']) ? js['resources'] : []), name] };
  const after = parseAllDocuments(out);
  const ok = after.length === 1 && after[0]!.errors.length === 0 && isDeepStrictEqual(after[0]!.toJS(), want);
  if (!ok) fail('the edited file would not read back as intended');
  return out;
}

/** What to tell the user when nothing can reference the deployments folder. */
export function unreferencedWarning(dir: string): string {
  const parent = parentOf(dir);
  const where = parent === '.' ? 'the repository root' : parent;
  const file = parent === '.' ? 'kustomization.yaml' : `${parent}/kustomization.yaml`;
  return (
    `${where} has no kustomization.yaml, so nothing references ${dir}: a GitOps agent that builds ${where} with kustomize ` +
    `will not apply the data-plane deployments, and the update stops at its first data-plane phase. ` +
    `Add this line under resources: in ${file} (create it, listing the folder's other files too): - ${posix.basename(dir)}`
  );
}

/**
 * The text of a kustomization without the folder `name` in its `resources` (or the old `bases`):
 * the item's own line goes (a block list) or the item and its comma (a flow list); every other
 * byte, comments included, stays. The same text when the folder is not listed.
 */
export function unreferenceFolder(source: string, name: string, file: string): string {
  const fail = (message: string): never => {
    throw new OsvError('KUSTOMIZATION_INVALID', `cannot take ${name} out of its resources: ${message}`, {
      location: { file },
      hint: `Remove "- ${name}" from resources: yourself, commit it, and run again.`,
    });
  };
  const docs = parseAllDocuments(source, { keepSourceTokens: true });
  if (docs.length !== 1 || docs[0]!.errors.length > 0) return fail('it is not one valid YAML document');
  const doc = docs[0]!;
  const js = doc.toJS() as Record<string, unknown> | null;
  const root = doc.contents;
  if (js === null || !isMap(root)) return source;
  const range = (n: Node): [number, number, number] => n.range ?? fail('a node has no source position');
  const edits: { at: number; end: number; text: string }[] = [];
  for (const key of ['resources', 'bases']) {
    const pair = (root.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === key);
    const seq = pair?.value;
    if (!isSeq(seq)) continue;
    const items = seq.items as Node[];
    const hits = items.map((n, i) => (isScalar(n) && sameEntry(n.value, name) ? i : -1)).filter((i) => i >= 0);
    if (!hits.length) continue;
    if (hits.length === items.length) {
      // the list would be empty: write it as an empty flow list, kustomize reads that as no resources
      const [start, end] = range(seq);
      const keyEnd = range(pair!.key as Node)[1];
      const colon = source.indexOf(':', keyEnd);
      edits.push(seq.flow ? { at: start, end, text: '[]' } : { at: colon + 1, end: endOfLine(source, end), text: ' []\n' });
      continue;
    }
    for (const i of hits) {
      const [start, end] = range(items[i]!);
      if (!seq.flow) {
        edits.push({ at: lineStart(source, start), end: endOfLine(source, end), text: '' });
      } else if (i < items.length - 1) {
        edits.push({ at: start, end: range(items[i + 1]!)[0], text: '' });
      } else {
        edits.push({ at: range(items[i - 1]!)[1], end, text: '' });
      }
    }
  }
  if (!edits.length) return source;
  let out = source;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.text + out.slice(e.end);

  const want = { ...js };
  for (const key of ['resources', 'bases']) if (Array.isArray(want[key])) want[key] = (want[key] as unknown[]).filter((v) => !sameEntry(v, name));
  const after = parseAllDocuments(out);
  if (!(after.length === 1 && after[0]!.errors.length === 0 && isDeepStrictEqual(after[0]!.toJS(), want))) fail('the edited file would not read back as intended');
  return out;
}
