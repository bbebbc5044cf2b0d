/**
 * Reading YAML the way a careful user would want: every document of a file, `List`s flattened,
 * hostile input refused with a clear message (alias bombs, duplicate keys, huge files), and
 * unquoted floats such as `18.0` kept as the text the user wrote instead of the number 18.
 */
import { readdirSync, readFileSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { ScalarTag, Tags } from 'yaml';
import { OsvError } from '../errors.js';
import { fullYaml } from './full-yaml.js';
import { quoteInput } from '../validate/quote.js';
import { parsePlainYaml } from './plain-yaml.js';

/** Inputs larger than this are refused before reading (a real CSV is ~100 kB). */
export const DEFAULT_MAX_INPUT_BYTES = 16 * 1024 * 1024;

/** One Kubernetes-style object found in an input file, with where it came from. */
export interface SourcedObject {
  readonly value: Record<string, unknown>;
  readonly file: string;
  readonly document: number;
  /** `''` for a top-level document, `items[3]` for an element of a `List`. */
  readonly path: string;
}

/**
 * A folder given as input (`--nodesets dir/`): its YAML files together may hold at most four times
 * the limit of one input, so a folder of a million small files is refused before any is parsed.
 */
export function checkFolderSize(files: readonly string[], what: string, dir: string): void {
  const limit = 4 * maxInputBytes();
  let total = 0;
  for (const f of files) {
    total += checkInputSize(f, what);
    if (total > limit) {
      throw new OsvError('INPUT_TOO_LARGE', `${what} hold more than ${(limit / 1048576).toFixed(0)} MiB of YAML`, {
        location: { file: dir },
        hint: 'Point at the folder of the nodesets, not at a whole repository; or raise OSV_GITOPS_MAX_INPUT_BYTES.',
      });
    }
  }
}

export function maxInputBytes(): number {
  const fromEnv = Number(process.env['OSV_GITOPS_MAX_INPUT_BYTES']);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_MAX_INPUT_BYTES;
}

// Kubernetes fields that look like floats are versions or quantities: keep what the user typed.
const keepFloatsAsText = (tags: Tags): Tags =>
  tags.map((tag) =>
    typeof tag === 'object' && (tag as ScalarTag).tag === 'tag:yaml.org,2002:float'
      ? { ...(tag as ScalarTag), resolve: (source: string) => source }
      : tag,
  );

/**
 * The size of the regular file `file`, refused before anything reads it when it is over the input
 * limit (16 MiB, or OSV_GITOPS_MAX_INPUT_BYTES): INPUT_NOT_FOUND when it is missing or not a
 * regular file, INPUT_TOO_LARGE when too big. Every input goes through here, YAML or not.
 */
export function checkInputSize(file: string, what: string): number {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new OsvError('INPUT_NOT_FOUND', `${what} is not a regular file`, { location: { file } });
    size = st.size;
  } catch (e) {
    if (e instanceof OsvError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' ? 'permission denied' : code === 'ENOENT' || code === 'ENOTDIR' ? 'file not found' : (code ?? 'unreadable');
    throw new OsvError('INPUT_NOT_FOUND', `cannot read ${what}: ${why}`, { location: { file }, cause: e });
  }
  const limit = maxInputBytes();
  if (size > limit) {
    throw new OsvError(
      'INPUT_TOO_LARGE',
      `${what} is ${(size / 1048576).toFixed(1)} MiB, over the ${(limit / 1048576).toFixed(0)} MiB limit`,
      { location: { file }, hint: 'Pass only the objects needed, or raise OSV_GITOPS_MAX_INPUT_BYTES.' },
    );
  }
  return size;
}

export function readTextInput(file: string, what: string): string {
  checkInputSize(file, what);
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OsvError('INPUT_NOT_FOUND', `cannot read ${what}: ${code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable')}`, { location: { file }, cause: e });
  }
}

/**
 * Parse every YAML document of `text`; throws INPUT_YAML with line and column on the first error.
 * Plain manifests take the fast reader (same values); everything else, errors included, `yaml`,
 * loaded only then (full-yaml.ts).
 */
export function parseYamlDocuments(text: string, file: string): unknown[] {
  return parsePlainYaml(text) ?? parseWithYaml(text, file);
}

/** The full parser, with the options the fast reader's values match (see plain-yaml.ts). */
export function parseWithYaml(text: string, file: string): unknown[] {
  try {
    return parseAllWithYaml(text, file);
  } catch (e) {
    // `yaml` recurses once per nesting level: thousands of levels (hostile input) overflow the stack
    if (e instanceof RangeError) {
      throw new OsvError('INPUT_YAML', 'refused: the YAML is nested too deeply to read', { location: { file } });
    }
    throw e;
  }
}

function parseAllWithYaml(text: string, file: string): unknown[] {
  const docs = fullYaml().parseAllDocuments(text, {
    uniqueKeys: true,
    customTags: keepFloatsAsText,
    prettyErrors: true,
    strict: true,
  });
  // parseAllDocuments returns an EmptyStream (array-like with no docs) for empty input
  const list = Array.isArray(docs) ? docs : [];
  const out: unknown[] = [];
  list.forEach((doc, index) => {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      const at = pos ? ` (line ${pos.line}, column ${pos.col})` : '';
      throw new OsvError('INPUT_YAML', `not valid YAML${at}: ${err.message.split('\n')[0]}`, {
        location: { file, document: index },
      });
    }
    try {
      out.push(doc.toJS({ maxAliasCount: 100 }));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new OsvError('INPUT_YAML', `refused: ${msg}`, {
        location: { file, document: index },
        hint: 'YAML aliases are expanded too many times (an alias bomb?).',
      });
    }
  });
  return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every object in a file: documents, and the items of any `kind: List` (or `*List`). */
export function readObjects(file: string, what: string): SourcedObject[] {
  const text = readTextInput(file, what);
  const docs = parseYamlDocuments(text, file);
  const out: SourcedObject[] = [];
  docs.forEach((doc, document) => {
    if (doc === null || doc === undefined) return; // empty document (e.g. trailing ---)
    if (!isRecord(doc)) {
      throw new OsvError('INPUT_INVALID', `${what} must hold YAML mappings, found ${describe(doc)}`, {
        location: { file, document },
      });
    }
    const kind = doc['kind'];
    if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(doc['items'])) {
      (doc['items'] as unknown[]).forEach((item, i) => {
        if (!isRecord(item)) {
          throw new OsvError('INPUT_INVALID', `list item is ${describe(item)}, not an object`, {
            location: { file, document, path: `items[${i}]` },
          });
        }
        out.push({ value: item, file, document, path: `items[${i}]` });
      });
    } else {
      out.push({ value: doc, file, document, path: '' });
    }
  });
  return out;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v === 'string' ? `string ${quoteInput(v)}` : `${typeof v} ${String(v)}`;
}

/** Every `.yaml`/`.yml` file under `dir`, recursively, in a stable order (hidden folders skipped). */
export function yamlFilesIn(dir: string): string[] {
  return filesIn(dir).filter((f) => /\.ya?ml$/.test(f));
}

/**
 * Every regular file under `dir`, recursively, sorted (hidden folders skipped). A symbolic link is
 * followed when its target stays inside `dir` (repositories share a nodeset between overlays that
 * way) and refused when it leads outside: a folder given as input must not read files elsewhere,
 * and skipping it would make its objects vanish silently. A file reached twice is listed once.
 * Other entries (sockets, FIFOs, devices) with a YAML name are refused too, rather than skipped.
 */
export function filesIn(dir: string): string[] {
  let root: string;
  try {
    root = realpathSync(dir);
  } catch (e) {
    throw new OsvError('INPUT_NOT_FOUND', 'cannot read the folder: not found', { location: { file: dir }, cause: e });
  }
  const seen = new Set<string>();
  const out: string[] = [];
  const walk = (shown: string, real: string): void => {
    if (seen.has(real)) return; // a link back to a folder already walked
    seen.add(real);
    let entries: Dirent[];
    try {
      entries = readdirSync(real, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new OsvError('INPUT_NOT_FOUND', `cannot read the folder: ${code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable')}`, { location: { file: shown }, cause: e });
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name.startsWith('.') && !entry.isFile()) continue;
      const p = join(shown, entry.name);
      let target = join(real, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          target = realpathSync(target);
          const st = statSync(target);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch (e) {
          throw new OsvError('INPUT_INVALID', 'is a broken symbolic link', { location: { file: p }, cause: e });
        }
        const rel = relative(root, target);
        if (rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith(sep) || rel === target) {
          throw new OsvError('INPUT_INVALID', 'is a symbolic link to a file outside the folder given; refusing to read it', {
            location: { file: p },
            hint: 'Pass the file itself, or copy it into the folder.',
          });
        }
      }
      if (isDir) walk(p, target);
      else if (isFile) {
        if (!seen.has(target)) out.push(p);
        seen.add(target);
      } else if (/\.ya?ml$/.test(entry.name)) {
        throw new OsvError('INPUT_INVALID', 'is not a regular file', { location: { file: p } });
      }
    }
  };
  walk(dir, root);
  return out;
}
