/**
 * Patch formats the API server accepts, as pure functions over JSON values:
 * JSON merge patch (RFC 7386), JSON patch (RFC 6902) and the field bookkeeping of server-side
 * apply (which fields each apply manager owns, in the `fieldsV1` shape of `managedFields`).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  return ak.every((k) => Object.hasOwn(bo, k) && deepEqual(ao[k], bo[k]));
}

/** A patch that cannot be applied; `malformed` tells a broken patch from one that does not fit (the real server answers both with 422). */
export class PatchError extends Error {
  readonly malformed: boolean;
  constructor(message: string, malformed: boolean) {
    super(message);
    this.name = 'PatchError';
    this.malformed = malformed;
  }
}

/** RFC 7386: objects merge recursively, `null` deletes, everything else replaces. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isJsonObject(patch)) return structuredClone(patch);
  const out: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}"`, true);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(seg: string, length: number, forAdd: boolean, pointer: string): number {
  if (forAdd && seg === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(seg)) throw new PatchError(`invalid array index "${seg}" in "${pointer}"`, false);
  const i = Number(seg);
  if (i > length || (!forAdd && i === length)) throw new PatchError(`array index ${i} out of range in "${pointer}"`, false);
  return i;
}

/** The container that holds the last segment of `path`, walking from `doc`. */
function parentOf(doc: Json, path: readonly string[], pointer: string): Json {
  let cur: Json = doc;
  for (const seg of path.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(seg, cur.length, false, pointer)] as Json;
    else if (isJsonObject(cur) && Object.hasOwn(cur, seg)) cur = cur[seg] as Json;
    else throw new PatchError(`path "${pointer}" does not exist`, false);
  }
  return cur;
}

function getAt(doc: Json, pointer: string): Json {
  const path = parsePointer(pointer);
  if (path.length === 0) return doc;
  const parent = parentOf(doc, path, pointer);
  const last = path[path.length - 1] ?? '';
  if (Array.isArray(parent)) return parent[arrayIndex(last, parent.length, false, pointer)] as Json;
  if (isJsonObject(parent) && Object.hasOwn(parent, last)) return parent[last] as Json;
  throw new PatchError(`path "${pointer}" does not exist`, false);
}

function addAt(doc: Json, pointer: string, value: Json): Json {
  const path = parsePointer(pointer);
  if (path.length === 0) return value;
  const parent = parentOf(doc, path, pointer);
  const last = path[path.length - 1] ?? '';
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true, pointer), 0, value);
  else if (isJsonObject(parent)) parent[last] = value;
  else throw new PatchError(`cannot add at "${pointer}": the parent is not an object or array`, false);
  return doc;
}

function removeAt(doc: Json, pointer: string): Json {
  const path = parsePointer(pointer);
  if (path.length === 0) throw new PatchError('cannot remove the whole document', false);
  const parent = parentOf(doc, path, pointer);
  const last = path[path.length - 1] ?? '';
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, false, pointer), 1);
  else if (isJsonObject(parent) && Object.hasOwn(parent, last)) delete parent[last];
  else throw new PatchError(`cannot remove "${pointer}": it does not exist`, false);
  return doc;
}

/** RFC 6902 over a copy of `target`; `test` failures and missing paths are 422s, bad ops 400s. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations', true);
  let doc = structuredClone(target);
  for (const raw of ops) {
    if (!isJsonObject(raw) || typeof raw['op'] !== 'string' || typeof raw['path'] !== 'string') {
      throw new PatchError('every JSON patch operation needs string "op" and "path"', true);
    }
    const { op, path } = raw as { op: string; path: string };
    const needValue = (): Json => {
      if (!Object.hasOwn(raw, 'value')) throw new PatchError(`operation "${op}" at "${path}" needs a value`, true);
      return structuredClone(raw['value'] as Json);
    };
    const from = (): string => {
      if (typeof raw['from'] !== 'string') throw new PatchError(`operation "${op}" at "${path}" needs "from"`, true);
      return raw['from'];
    };
    switch (op) {
      case 'add':
        doc = addAt(doc, path, needValue());
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'replace': {
        const value = needValue();
        getAt(doc, path); // must exist
        doc = path === '' ? value : addAt(removeAt(doc, path), path, value);
        break;
      }
      case 'move': {
        const src = from();
        if (path.startsWith(`${src}/`)) throw new PatchError(`cannot move "${src}" into its own child "${path}"`, false);
        const value = getAt(doc, src);
        doc = addAt(removeAt(doc, src), path, value);
        break;
      }
      case 'copy':
        doc = addAt(doc, path, structuredClone(getAt(doc, from())));
        break;
      case 'test':
        if (!deepEqual(getAt(doc, path), needValue())) throw new PatchError(`test operation at "${path}" failed`, false);
        break;
      default:
        throw new PatchError(`unknown JSON patch operation "${op}"`, true);
    }
  }
  return doc;
}

// ---- server-side apply bookkeeping ------------------------------------------------------------

/** A field path inside an object, e.g. ['spec', 'targetVersion']. Lists are atomic leaves. */
export type FieldPath = readonly string[];

/** Metadata fields an apply configuration can own; the rest of metadata is the server's. */
const APPLYABLE_METADATA = new Set(['labels', 'annotations', 'finalizers', 'ownerReferences']);

/** The leaf fields an apply configuration sets (maps are walked, lists and scalars are leaves). */
export function appliedFieldPaths(applied: JsonObject): FieldPath[] {
  const out: FieldPath[] = [];
  const walk = (v: Json, path: string[]): void => {
    if (isJsonObject(v) && Object.keys(v).length > 0) {
      for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
    } else {
      out.push(path);
    }
  };
  for (const [k, v] of Object.entries(applied)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (k === 'metadata') {
      if (!isJsonObject(v)) continue;
      for (const [mk, mv] of Object.entries(v)) if (APPLYABLE_METADATA.has(mk)) walk(mv, ['metadata', mk]);
      continue;
    }
    walk(v, [k]);
  }
  return out;
}

/** `managedFields[].fieldsV1`: `{"f:spec":{"f:targetVersion":{}}}`. */
export function toFieldsV1(paths: readonly FieldPath[]): JsonObject {
  const root: JsonObject = {};
  for (const p of paths) {
    let cur = root;
    for (const seg of p) {
      const key = `f:${seg}`;
      const next = cur[key];
      if (isJsonObject(next)) cur = next;
      else cur = cur[key] = {};
    }
  }
  return root;
}

export function fromFieldsV1(fields: Json | undefined): FieldPath[] {
  const out: FieldPath[] = [];
  const walk = (node: JsonObject, path: string[]): void => {
    const keys = Object.keys(node).filter((k) => k.startsWith('f:'));
    if (keys.length === 0 && path.length > 0) out.push(path);
    for (const k of keys) {
      const child = node[k];
      walk(isJsonObject(child) ? child : {}, [...path, k.slice(2)]);
    }
  };
  if (isJsonObject(fields)) walk(fields, []);
  return out;
}

export function getPath(obj: Json, path: FieldPath): Json | undefined {
  let cur: Json | undefined = obj;
  for (const seg of path) {
    if (!isJsonObject(cur) || !Object.hasOwn(cur, seg)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

/** Remove the field at `path`, then any map the removal left empty (in place). */
export function removePath(obj: JsonObject, path: FieldPath): void {
  const chain: JsonObject[] = [obj];
  for (const seg of path.slice(0, -1)) {
    const next: Json | undefined = chain[chain.length - 1]?.[seg];
    if (!isJsonObject(next)) return;
    chain.push(next);
  }
  const last = path[path.length - 1];
  if (last === undefined) return;
  delete chain[chain.length - 1]?.[last];
  for (let i = chain.length - 1; i > 0; i--) {
    const child = chain[i];
    const parent = chain[i - 1];
    const key = path[i - 1];
    if (child === undefined || parent === undefined || key === undefined || Object.keys(child).length > 0) break;
    delete parent[key];
  }
}

/** Apply semantics for the set fields: maps merge, lists and scalars replace, `null` removes. */
export function applyMerge(live: JsonObject, applied: JsonObject): JsonObject {
  return mergePatch(live, applied) as JsonObject;
}

export const pathKey = (p: FieldPath): string => JSON.stringify(p);

export const dotted = (p: FieldPath): string => `.${p.join('.')}`;
