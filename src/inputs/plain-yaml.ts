/**
 * A fast reader for the plain YAML that `kubectl get -o yaml` and most hand-written manifests use:
 * block mappings and sequences, plain and one-line quoted scalars, comments, `---` between
 * documents, empty `[]` and `{}`. It exists for start-up time (issue 14): the `yaml` package takes
 * ~200 ms to read the example's CSV and OpenStackVersion in a fresh process, this reader ~10 ms.
 *
 * It never decides anything the full parser would decide differently: on anything outside that
 * subset (anchors, tags, block or multi-line scalars, flow collections, escapes it does not know,
 * duplicate keys, odd indentation, a key or number it is not sure of) it returns undefined and the
 * caller parses the text with `yaml`, which also gives every error message with its line. Values
 * follow YAML 1.2's core schema as the caller configures it (floats kept as the text written).
 */

/** One non-blank, non-comment line: its indentation and the text after it. */
interface Line {
  indent: number;
  text: string;
}

/** Thrown inside the reader when the text is outside the subset; never escapes it. */
class Unsupported extends Error {}

const unsupported = (): never => {
  throw new Unsupported();
};

// Control characters, byte-order marks, NEL and the Unicode line separators: leave them to `yaml`.
// Other Unicode spaces too: indentation is spaces only, and trimming would count them.
// eslint-disable-next-line no-control-regex
const ODD_CHARACTERS = /[\u0000-\u0009\u000b-\u001f\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;
// A key the reader takes as the string it spells when it also resolves to a string (anything else:
// the full parser decides).
const SIMPLE_KEY = /^\w[\w./-]*$/;
const MAX_KEY_LENGTH = 1000;
// `key: value` or `key:` where both are plain strings for certain: they start with a letter the
// core schema never reads as anything else (not n, t, f: null, true, false) or `_` (`/` for the
// value), hold no space, `#` or quote, and the value does not end with `:`.
const PLAIN_ENTRY = /^([A-EG-MO-SU-Za-eg-mo-su-z_][\w./-]*):(?: ([A-EG-MO-SU-Za-eg-mo-su-z_/](?:[\w./@:-]*[\w./@-])?))?$/;
// Characters a plain scalar may not start with, and the `: ` and ` #` it may not hold unread.
const INDICATOR_START = /^(?:-(?:\s|$)|[?:,[\]{}#&*!|>'"%@`])/;
const NULL = /^(?:~|null|Null|NULL)$/;
const TRUE = /^(?:true|True|TRUE)$/;
const FALSE = /^(?:false|False|FALSE)$/;
const SAFE_INT = /^-?(?:0|[1-9][0-9]{0,14})$/;
// Other texts the core schema reads as numbers (octal, hex, signs, leading zeros, .inf, .nan):
// rare in manifests, so the full parser resolves them.
const OTHER_INT = /^[-+]?(?:[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/;
const NAN_INF = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
// Manifests nest a few dozen levels; deeper text goes to `yaml`, which refuses what overflows it.
const MAX_DEPTH = 200;

/**
 * Every document of `text` as JavaScript values, or undefined when the text is outside the subset
 * (the caller then parses it with `yaml`).
 */
export function parsePlainYaml(text: string): unknown[] | undefined {
  if (ODD_CHARACTERS.test(text)) return undefined;
  try {
    const docs = splitDocuments(text);
    return docs.length > 0 ? docs.map(readDocument) : undefined; // `yaml` says what an empty stream is
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

/** The content lines of each document; an empty document or any directive is left to `yaml`. */
function splitDocuments(text: string): Line[][] {
  const docs: Line[][] = [];
  let current: Line[] = [];
  let sawMarker = false;
  for (const raw of text.split('\n')) {
    if (raw.startsWith('---')) {
      if (raw !== '---') unsupported();
      if (current.length > 0) docs.push(current);
      else if (sawMarker || docs.length > 0) unsupported(); // an empty document
      current = [];
      sawMarker = true;
      continue;
    }
    if (raw.startsWith('...') || raw.startsWith('%')) unsupported();
    const text = raw.trimStart();
    if (text === '' || text.startsWith('#')) continue;
    current.push({ indent: raw.length - text.length, text: text.trimEnd() });
  }
  if (current.length > 0) docs.push(current);
  else if (sawMarker) unsupported();
  return docs;
}

function readDocument(lines: Line[]): unknown {
  const reader = new BlockReader(lines);
  const first = lines[0]!;
  const value = reader.node(first.indent);
  if (reader.at < lines.length) unsupported();
  return value;
}

class BlockReader {
  at = 0;

  constructor(private readonly lines: Line[]) {}

  private depth = 0;

  /** The block node starting at the current line, which is indented by `indent`. */
  node(indent: number): unknown {
    const line = this.lines[this.at]!;
    if (++this.depth > MAX_DEPTH) unsupported();
    try {
      // anything else must be a mapping: `mapping` refuses a first line that is not `key:` (a
      // scalar standing alone on its lines, maybe over several)
      return isItem(line.text) ? this.sequence(indent) : this.mapping(indent);
    } finally {
      this.depth--;
    }
  }

  private sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (let line = this.lines[this.at]; line && line.indent >= indent; line = this.lines[this.at]) {
      if (line.indent > indent) unsupported();
      if (!isItem(line.text)) break; // the next key of a mapping this sequence is the value of
      const rest = line.text.slice(1).trimStart();
      if (rest === '') {
        this.at++;
        out.push(this.nestedOrNull(indent, false));
      } else if (isItem(rest) || keyEnd(rest) >= 0) {
        // `- key: value` or `- - x`: a node that starts on this line, further in
        this.lines[this.at] = { indent: indent + line.text.length - rest.length, text: rest };
        out.push(this.node(this.lines[this.at]!.indent));
      } else {
        this.at++;
        out.push(this.inlineValue(rest, indent));
      }
    }
    return out;
  }

  private mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let line = this.lines[this.at]; line && line.indent >= indent; line = this.lines[this.at]) {
      if (line.indent > indent) unsupported();
      // most lines of a manifest are `name: word` or `name:`, read in one step; the rest, below
      const plain = PLAIN_ENTRY.exec(line.text);
      let key: string;
      let rest: string;
      if (plain !== null) {
        key = plain[1]!;
        rest = plain[2] ?? '';
      } else {
        const end = isItem(line.text) ? -1 : keyEnd(line.text);
        if (end < 0) unsupported();
        key = line.text.slice(0, end);
        if (!SIMPLE_KEY.test(key) || typeof resolvePlain(key) !== 'string') unsupported();
        rest = line.text.slice(end + 1).trimStart();
      }
      if (key.length > MAX_KEY_LENGTH || key === '__proto__' || Object.hasOwn(out, key)) unsupported();
      this.at++;
      if (rest === '' || rest.startsWith('#')) out[key] = this.nestedOrNull(indent, true);
      else out[key] = plain !== null ? this.inlineString(rest, indent) : this.inlineValue(rest, indent);
    }
    return out;
  }

  /** The value of `key:` or `-` with nothing after it: the block below, or null. */
  private nestedOrNull(indent: number, sequenceMayAlign: boolean): unknown {
    const next = this.lines[this.at];
    if (next && next.indent > indent) return this.node(next.indent);
    // a mapping's value may be a sequence at the key's own indentation (as kubectl writes them)
    if (next && sequenceMayAlign && next.indent === indent && isItem(next.text)) return this.sequence(indent);
    return null;
  }

  /** A value written on its key's (or dash's) line; a continuation line below it is left to `yaml`. */
  private inlineValue(text: string, indent: number): unknown {
    return scalar(this.inlineString(text, indent));
  }

  /** `inlineValue` of a plain scalar already known to be a string (PLAIN_ENTRY's value). */
  private inlineString(text: string, indent: number): string {
    const next = this.lines[this.at];
    if (next && next.indent > indent) unsupported();
    return text;
  }
}

function isItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

/** Where the `:` of `key: value` or `key:` is, or -1 when the text is not a mapping entry. */
function keyEnd(text: string): number {
  const colon = text.indexOf(': ');
  const end = colon >= 0 ? colon : text.endsWith(':') ? text.length - 1 : -1;
  if (end <= 0) return -1;
  const comment = text.indexOf(' #');
  return comment >= 0 && comment < end ? -1 : end;
}

/** A one-line scalar (with an optional trailing comment), resolved as the core schema does. */
function scalar(text: string): unknown {
  if (text === '[]') return [];
  if (text === '{}') return {};
  if (text.startsWith('"')) return doubleQuoted(text);
  if (text.startsWith("'")) return singleQuoted(text);
  const comment = text.indexOf(' #');
  const plain = comment >= 0 ? text.slice(0, comment).trimEnd() : text;
  if (plain.startsWith('[]') || plain.startsWith('{}')) {
    if (plain.length === 2) return plain === '[]' ? [] : {};
    unsupported();
  }
  if (INDICATOR_START.test(plain) || plain.includes(': ') || plain.endsWith(':')) unsupported();
  return resolvePlain(plain);
}

/** Whether the core schema may read `text` as other than a string: only from `~nNtTfF.+-` or a digit on. */
function mayReadAsOther(text: string): boolean {
  const c = text.charCodeAt(0);
  // '+' 43, '-' 45, '.' 46, '0'-'9' 48-57, 'F' 70, 'N' 78, 'T' 84, 'f' 102, 'n' 110, 't' 116, '~' 126
  return (c >= 43 && c <= 57 && c !== 44 && c !== 47) || c === 70 || c === 78 || c === 84 || c === 102 || c === 110 || c === 116 || c === 126;
}

function resolvePlain(text: string): unknown {
  // most keys and values are names and paths: their first character clears them
  if (!mayReadAsOther(text)) return text;
  if (NULL.test(text)) return null;
  if (TRUE.test(text)) return true;
  if (FALSE.test(text)) return false;
  if (SAFE_INT.test(text)) return Number(text);
  if (OTHER_INT.test(text) || NAN_INF.test(text)) unsupported();
  return text; // a string, or a float kept as the text written
}

/** After a closing quote only spaces and a comment may follow. */
function checkTail(tail: string): void {
  if (tail !== '' && !/^ +(?:#.*)?$/.test(tail)) unsupported();
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', n: '\n', t: '\t' };

function doubleQuoted(text: string): string {
  let out = '';
  let i = 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    const slash = text.indexOf('\\', i);
    if (quote < 0) return unsupported(); // continues on the next line
    if (slash >= 0 && slash < quote) {
      const escaped = ESCAPES[text[slash + 1] ?? ''];
      if (escaped === undefined) unsupported();
      out += text.slice(i, slash) + escaped;
      i = slash + 2;
      continue;
    }
    out += text.slice(i, quote);
    checkTail(text.slice(quote + 1));
    return out;
  }
}

function singleQuoted(text: string): string {
  let out = '';
  let i = 1;
  for (;;) {
    const quote = text.indexOf("'", i);
    if (quote < 0) return unsupported();
    out += text.slice(i, quote);
    if (text[quote + 1] === "'") {
      out += "'";
      i = quote + 2;
      continue;
    }
    checkTail(text.slice(quote + 1));
    return out;
  }
}
