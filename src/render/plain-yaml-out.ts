/**
 * A fast writer for the plain JSON data we render (objects, arrays, strings, numbers, booleans,
 * null). It exists for render and commit time (issue 14): building a `yaml` Document and printing
 * it cost ~200 ms of a 200-nodeset render; this writer takes about a tenth of that.
 *
 * It gives exactly the text `toYaml` gets from `yaml` (YAML 1.1, `lineWidth: 0`, `indentSeq:
 * false`, no anchors), and steps aside (returns undefined) on anything it is not sure of: a value
 * that is not plain JSON data, a string with characters outside printable ASCII (tabs and newlines
 * only in a value of several lines), a string that looks like a document marker, a non-finite
 * number or -0, an empty or over-long key, an always-quoted key whose value is not a one-line
 * string. The caller then uses `yaml`.
 *
 * Within printable ASCII `yaml`'s rules are short: a string is written plain unless its shape
 * needs quotes (an indicator at its start, `: `, ` #`, a space or `:` at its end) or YAML 1.1
 * would read it as something else (yes/no/on/off, ~, 0755, 1e3, 1_000, 12:30, 2001-01-01:
 * asked of `yaml`'s own 1.1 schema, so the two cannot disagree); quoted means double quotes as
 * JSON writes them, or single quotes when the text holds `"` and no `'`.
 */
import { fullYaml } from '../inputs/full-yaml.js';

// set by the CLI bundle (scripts/build.mjs) to the JSON of `yaml11PlainTests()` of the `yaml` it
// bundles, so that render need not load the parser to ask it
declare const OSV_YAML11_PLAIN_TESTS: string | undefined;

/** Thrown inside the writer when the data is outside what it writes; never escapes it. */
class Unsure extends Error {}

const unsure = (): never => {
  throw new Unsure();
};

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
// `yaml` writes these across lines or as a new document, and `<<` (YAML 1.1's merge key) by its
// own rule: leave them to it.
const DOCUMENT_MARKER = /^(?:%|---|\.\.\.)/;
const MERGE_KEY = '<<';
// A string of several lines `yaml` writes as a literal block (`|-` or `|`); a leading space needs an
// indentation indicator and a line starting like a document marker forced indentation: both left to it.
const MULTI_LINE_TEXT = /^[\x21-\x7e][\t\n\x20-\x7e]*$/;
const DOCUMENT_MARKER_LINE = /^(?:%|---|\.\.\.)/m;
// The shapes `yaml` never writes plain (its own rule, minus the newline and tab cases excluded above).
const NEEDS_QUOTES = /^[ ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-] |: | #|[ :]$/;
// `yaml` writes a key of more than 1024 characters as an explicit `? key`.
const MAX_KEY_LENGTH = 1000;
const INDENT_STEP = '  ';

/**
 * The plain texts YAML 1.1 reads as something other than a string (bool, null, int, float,
 * timestamp, merge key), exactly as `yaml` tests them before writing a string plain: each test's
 * source and flags.
 */
export function yaml11PlainTests(): [string, string][] {
  const { tags, compat } = new (fullYaml().Document)(null, { version: '1.1' }).schema;
  return [...tags, ...(compat ?? [])].flatMap((t): [string, string][] =>
    t.default && t.tag !== 'tag:yaml.org,2002:str' && 'test' in t && t.test instanceof RegExp ? [[t.test.source, t.test.flags]] : [],
  );
}

let resolvers: readonly RegExp[] | undefined;

function readsAsOtherType(text: string): boolean {
  resolvers ??= oneTestPerFlags(typeof OSV_YAML11_PLAIN_TESTS === 'string' ? (JSON.parse(OSV_YAML11_PLAIN_TESTS) as [string, string][]) : yaml11PlainTests());
  return resolvers.some((test) => test.test(text));
}

/**
 * The tests joined into one alternation per set of flags: it matches a text exactly when one of
 * them does, and a render asks it of every string it writes (fourteen tests, one call). A test that
 * refers back to a group of its own (`\1`, `\k<name>`) would count groups differently once joined,
 * and two named groups of one name cannot be joined: such a test stays alone.
 */
export function oneTestPerFlags(tests: readonly (readonly [string, string])[]): RegExp[] {
  const alone = ([source]: readonly [string, string]) => /\\(?:[1-9]|k<)|\(\?<[^=!]/.test(source);
  const byFlags = new Map<string, string[]>();
  for (const t of tests.filter((x) => !alone(x))) byFlags.set(t[1], [...(byFlags.get(t[1]) ?? []), `(?:${t[0]})`]);
  return [...[...byFlags].map(([flags, sources]) => new RegExp(sources.join('|'), flags)), ...tests.filter(alone).map(([source, flags]) => new RegExp(source, flags))];
}

/**
 * The YAML text `toYaml` gives for `data` (a mapping or sequence of plain JSON data), or undefined
 * when the writer is not sure of it.
 */
export function plainYamlOut(data: unknown, alwaysQuoted: ReadonlySet<string>): string | undefined {
  try {
    if (Array.isArray(data)) return data.length === 0 ? '[]\n' : `${sequence(data, '', alwaysQuoted)}\n`;
    if (!isPlainObject(data)) return undefined;
    return Object.keys(data).length === 0 ? '{}\n' : `${mapping(data, '', alwaysQuoted)}\n`;
  } catch (e) {
    if (e instanceof Unsure) return undefined;
    throw e;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A non-empty mapping at `indent`; its first line carries no indentation (the caller's prefix). */
function mapping(map: Record<string, unknown>, indent: string, alwaysQuoted: ReadonlySet<string>): string {
  const lines: string[] = [];
  for (const key of Object.keys(map)) {
    const value = map[key];
    if (key === '' || key.length > MAX_KEY_LENGTH) unsure();
    const head = `${string(key)}:`;
    if (alwaysQuoted.has(key)) {
      lines.push(`${head} ${JSON.stringify(typeof value === 'string' ? written(value) : unsure())}`);
    } else if (Array.isArray(value) && value.length > 0) {
      lines.push(`${head}\n${indent}${sequence(value, indent, alwaysQuoted)}`); // sequences not indented
    } else if (isPlainObject(value) && Object.keys(value).length > 0) {
      const inner = indent + INDENT_STEP;
      lines.push(`${head}\n${inner}${mapping(value, inner, alwaysQuoted)}`);
    } else {
      lines.push(`${head} ${leaf(value, indent + INDENT_STEP)}`);
    }
  }
  return lines.join(`\n${indent}`);
}

/** A non-empty sequence at `indent`; its first line carries no indentation. */
function sequence(items: unknown[], indent: string, alwaysQuoted: ReadonlySet<string>): string {
  const inner = indent + INDENT_STEP;
  const lines: string[] = [];
  for (const item of items) {
    if (Array.isArray(item) && item.length > 0) lines.push(`- ${sequence(item, inner, alwaysQuoted)}`);
    else if (isPlainObject(item) && Object.keys(item).length > 0) lines.push(`- ${mapping(item, inner, alwaysQuoted)}`);
    else lines.push(`- ${leaf(item, inner)}`);
  }
  return lines.join(`\n${indent}`);
}

/** A scalar, `[]` or `{}`; the lines of a literal block go at `indent`. */
function leaf(value: unknown, indent: string): string {
  switch (typeof value) {
    case 'string':
      return value.includes('\n') ? literalBlock(value, indent) : string(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? JSON.stringify(value) : unsure();
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value) && value.length === 0) return '[]';
      if (isPlainObject(value) && Object.keys(value).length === 0) return '{}';
      return unsure();
    default:
      return unsure(); // undefined, bigint, a function, a symbol
  }
}

/** `text` when the writer can write it, else it steps aside. */
function written(text: string): string {
  return PRINTABLE_ASCII.test(text) && !DOCUMENT_MARKER.test(text) && text !== MERGE_KEY ? text : unsure();
}

/** A string as `yaml` writes it on one line, as a key or a value. */
function string(text: string): string {
  written(text);
  if (text === '' || NEEDS_QUOTES.test(text) || readsAsOtherType(text)) {
    return text.includes('"') && !text.includes("'") ? `'${text}'` : JSON.stringify(text);
  }
  return text;
}

/**
 * A string of several lines as `yaml` writes a value: a literal block, `|-` without a final
 * newline, `|` with one (more, kept with `|+`, change how `yaml` ends the document: left to it).
 */
function literalBlock(text: string, indent: string): string {
  if (!MULTI_LINE_TEXT.test(text) || DOCUMENT_MARKER_LINE.test(text)) unsure();
  // the blanks it ends with (a loop: a regex anchored at the end rescans every run of blanks)
  let end = text.length;
  while (end > 0 && (text[end - 1] === ' ' || text[end - 1] === '\t' || text[end - 1] === '\n')) end--;
  const newlines = text.slice(end).split('\n').length - 1;
  if (newlines > 1 || (newlines === 1 && !text.endsWith('\n'))) unsure();
  const body = newlines === 0 ? text : text.slice(0, -1);
  return `|${newlines === 0 ? '-' : ''}\n${indent}${body.replace(/\n+/g, (run) => run + indent)}`;
}
