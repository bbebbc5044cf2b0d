/**
 * The CRD files of the project's `crds/` folder, indexed by group, kind and version.
 *
 * Indexing must be cheap: the control-plane CRD is ~1 MB of YAML (~0.2–0.3 s to parse) and most
 * runs never need it. So the index comes from a line scan of each file that picks out only
 * `spec.group`, `spec.names.kind` and `spec.versions[].name/served`; a file is parsed in full
 * only when one of its schemas is asked for, and that parse is checked against the scan.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parseAllDocuments } from '../inputs/full-yaml.js';

export interface CrdVersionInfo {
  readonly name: string;
  readonly served: boolean;
}

/** One CRD found by the scan. */
export interface CrdEntry {
  /** Absolute path of the file. */
  readonly file: string;
  /** Path relative to the CRD folder, with `/` separators (for messages). */
  readonly relFile: string;
  readonly group: string;
  readonly kind: string;
  readonly versions: readonly CrdVersionInfo[];
}

/** A CRD after its file was parsed. */
export interface LoadedCrd {
  readonly entry: CrdEntry;
  readonly scope: 'Namespaced' | 'Cluster';
  /** `openAPIV3Schema` by version name. */
  readonly schemas: ReadonlyMap<string, Record<string, unknown>>;
}

/** What the scan found in one YAML document of a file. */
export interface ScannedCrd {
  readonly apiVersion: string | undefined;
  readonly kind: string | undefined;
  readonly group: string | undefined;
  readonly namesKind: string | undefined;
  readonly versions: CrdVersionInfo[];
}

const KEY_RE = /^("[^"]*"|'[^']*'|[^\s"'#:][^:#]*?):(?:[ \t]+(.*))?$/;

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'")))) {
    return t.slice(1, -1);
  }
  return t;
}

function stripComment(value: string): string {
  const q = value[0];
  if (q === '"' || q === "'") {
    const end = value.indexOf(q, 1);
    return end > 0 ? value.slice(0, end + 1) : value.trim();
  }
  const hash = value.search(/\s#/);
  return (hash >= 0 ? value.slice(0, hash) : value).trim();
}

/**
 * Scan YAML text for the identifying fields of CRDs, without parsing it. Handles block style as
 * written by controller-gen and kubectl (indentation, `- ` items, `|`/`>` block scalars, comments);
 * anything it cannot follow is caught later by comparing with the real parse.
 */
export function scanCrdHeaders(text: string): ScannedCrd[] {
  const docs: ScannedCrd[] = [];
  let cur: { apiVersion?: string; kind?: string; group?: string; namesKind?: string; versions: { name?: string; served?: boolean }[] } = {
    versions: [],
  };
  let hasContent = false;
  const stack: { indent: number; key: string }[] = [];
  let blockIndent = -1;

  const finish = (): void => {
    if (hasContent) {
      docs.push({
        apiVersion: cur.apiVersion,
        kind: cur.kind,
        group: cur.group,
        namesKind: cur.namesKind,
        versions: cur.versions
          .filter((v): v is { name: string; served?: boolean } => v.name !== undefined)
          .map((v) => ({ name: v.name, served: v.served ?? true })),
      });
    }
    cur = { versions: [] };
    hasContent = false;
    stack.length = 0;
    blockIndent = -1;
  };

  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = line.trimStart();
    const indent0 = line.length - trimmed.length;
    if (blockIndent >= 0) {
      if (trimmed === '' || indent0 > blockIndent) continue;
      blockIndent = -1;
    }
    if (/^(---|\.\.\.)(\s|$)/.test(line)) {
      finish();
      continue;
    }
    if (trimmed === '' || trimmed.startsWith('#') || (indent0 === 0 && trimmed.startsWith('%'))) continue;
    hasContent = true;

    let indent = indent0;
    let rest = trimmed;
    let isItem = false;
    while (rest === '-' || rest.startsWith('- ')) {
      isItem = true;
      const after = rest.slice(1);
      const spaces = after.length - after.trimStart().length;
      indent += 1 + spaces;
      rest = after.trimStart();
    }
    // a `- ` item closes everything deeper than its dash; a plain key closes its siblings too
    const deepest = isItem ? indent0 + 1 : indent;
    while (stack.length > 0 && stack[stack.length - 1]!.indent >= deepest) stack.pop();
    const parentPath = stack.map((s) => s.key).join('.');
    if (isItem && parentPath === 'spec.versions') cur.versions.push({});
    if (rest === '') continue;

    const m = KEY_RE.exec(rest);
    if (!m) continue;
    const key = unquote(m[1] ?? '');
    const value = stripComment(m[2] ?? '');
    if (/^[|>]/.test(value)) {
      blockIndent = indent;
      continue;
    }
    if (value === '' || value === '&' || value.startsWith('&') || value.startsWith('!')) {
      stack.push({ indent, key });
      continue;
    }
    const path = parentPath === '' ? key : `${parentPath}.${key}`;
    const scalar = unquote(value);
    switch (path) {
      case 'apiVersion':
        cur.apiVersion = scalar;
        break;
      case 'kind':
        cur.kind = scalar;
        break;
      case 'spec.group':
        cur.group = scalar;
        break;
      case 'spec.names.kind':
        cur.namesKind = scalar;
        break;
      case 'spec.versions.name': {
        const last = cur.versions[cur.versions.length - 1];
        if (last) last.name = scalar;
        else cur.versions.push({ name: scalar });
        break;
      }
      case 'spec.versions.served': {
        const last = cur.versions[cur.versions.length - 1];
        if (last) last.served = scalar === 'true';
        break;
      }
      default:
        break;
    }
  }
  finish();
  return docs;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function listYamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) out.push(...listYamlFiles(path));
    else if (/\.ya?ml$/.test(name)) out.push(path);
  }
  return out;
}

const key = (group: string, kind: string): string => `${group}\u0000${kind}`;

/** Splits `group/version` (or a bare core `version`) into its parts. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export class CrdIndex {
  readonly dir: string;
  private entriesByKey: Map<string, CrdEntry> | undefined;
  private readonly loaded = new Map<string, LoadedCrd>();

  constructor(dir: string) {
    this.dir = dir;
  }

  private index(): Map<string, CrdEntry> {
    if (this.entriesByKey) return this.entriesByKey;
    const byKey = new Map<string, CrdEntry>();
    for (const file of listYamlFiles(this.dir)) {
      const relFile = relative(this.dir, file).split(sep).join('/');
      for (const doc of scanCrdHeaders(readFileSync(file, 'utf8'))) {
        if (doc.kind !== 'CustomResourceDefinition') continue;
        if (doc.group === undefined || doc.namesKind === undefined) {
          throw new Error(`crds/${relFile}: a CustomResourceDefinition without spec.group or spec.names.kind`);
        }
        const k = key(doc.group, doc.namesKind);
        const dup = byKey.get(k);
        if (dup) {
          throw new Error(`crds/${relFile}: ${doc.namesKind}.${doc.group} is defined twice (also in crds/${dup.relFile})`);
        }
        byKey.set(k, { file, relFile, group: doc.group, kind: doc.namesKind, versions: doc.versions });
      }
    }
    this.entriesByKey = byKey;
    return byKey;
  }

  /** Every CRD found, sorted by group then kind. */
  entries(): CrdEntry[] {
    const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
    return [...this.index().values()].sort((a, b) => cmp(a.group, b.group) || cmp(a.kind, b.kind));
  }

  /** The CRD for a group and kind, or undefined. */
  find(group: string, kind: string): CrdEntry | undefined {
    return this.index().get(key(group, kind));
  }

  /** Parse the CRD's file (once) and return its schemas. Throws if the file disagrees with the scan. */
  load(entry: CrdEntry): LoadedCrd {
    const k = key(entry.group, entry.kind);
    const done = this.loaded.get(k);
    if (done) return done;
    const docs = parseAllDocuments(readFileSync(entry.file, 'utf8'));
    const list = Array.isArray(docs) ? docs : [];
    const found: LoadedCrd[] = [];
    for (const doc of list) {
      if (doc.errors.length > 0) {
        throw new Error(`crds/${entry.relFile}: not valid YAML: ${doc.errors[0]?.message ?? ''}`);
      }
      const crd: unknown = doc.toJS();
      if (!isObject(crd) || crd['kind'] !== 'CustomResourceDefinition') continue;
      const spec = isObject(crd['spec']) ? crd['spec'] : {};
      const names = isObject(spec['names']) ? spec['names'] : {};
      const group = String(spec['group'] ?? '');
      const kind = String(names['kind'] ?? '');
      const fileEntry = this.find(group, kind);
      if (fileEntry === undefined || fileEntry.file !== entry.file) {
        throw new Error(`crds/${entry.relFile}: ${kind}.${group} was not found by the index scan`);
      }
      const schemas = new Map<string, Record<string, unknown>>();
      const versions: CrdVersionInfo[] = [];
      for (const v of Array.isArray(spec['versions']) ? (spec['versions'] as unknown[]) : []) {
        if (!isObject(v) || typeof v['name'] !== 'string') continue;
        versions.push({ name: v['name'], served: v['served'] !== false });
        const schema = isObject(v['schema']) ? v['schema']['openAPIV3Schema'] : undefined;
        if (isObject(schema)) schemas.set(v['name'], schema);
      }
      if (JSON.stringify(versions) !== JSON.stringify(fileEntry.versions)) {
        throw new Error(
          `crds/${entry.relFile}: versions of ${kind}.${group} differ between the index scan ` +
            `(${JSON.stringify(fileEntry.versions)}) and the parse (${JSON.stringify(versions)})`,
        );
      }
      found.push({ entry: fileEntry, scope: spec['scope'] === 'Cluster' ? 'Cluster' : 'Namespaced', schemas });
    }
    const scannedHere = [...this.index().values()].filter((e) => e.file === entry.file);
    if (scannedHere.length !== found.length) {
      throw new Error(`crds/${entry.relFile}: the index scan found ${scannedHere.length} CRDs, the parse ${found.length}`);
    }
    for (const l of found) this.loaded.set(key(l.entry.group, l.entry.kind), l);
    const mine = this.loaded.get(k);
    if (!mine) throw new Error(`crds/${entry.relFile}: ${entry.kind}.${entry.group} not found when parsed`);
    return mine;
  }
}
