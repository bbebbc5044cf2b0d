/**
 * A small typed accessor over parsed YAML that knows where it is, so that every validation
 * error names the file, the document and the path inside it.
 */
import { OsvError, type ErrorCode, type Location } from '../errors.js';
import { parseImageReference, parseName, parseReleaseVersion, type NameKind } from '../validate/grammar.js';
import { quoteInput } from '../validate/quote.js';
import { describe, isRecord, type SourcedObject } from './yaml.js';

export class Field {
  constructor(
    readonly value: unknown,
    readonly location: Location,
    private readonly code: ErrorCode,
  ) {}

  static of(obj: SourcedObject, code: ErrorCode): Field {
    return new Field(obj.value, { file: obj.file, document: obj.document, path: obj.path }, code);
  }

  get exists(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  private child(segment: string, value: unknown): Field {
    const base = this.location.path ?? '';
    const path = segment.startsWith('[') ? `${base}${segment}` : base ? `${base}.${segment}` : segment;
    return new Field(value, { ...this.location, path }, this.code);
  }

  fail(message: string, hint?: string): never {
    throw new OsvError(this.code, message, { location: this.location, ...(hint ? { hint } : {}) });
  }

  get(key: string): Field {
    if (!this.exists) return this.child(key, undefined);
    if (!isRecord(this.value)) this.fail(`expected a mapping, found ${describe(this.value)}`);
    return this.child(key, Object.hasOwn(this.value, key) ? this.value[key] : undefined);
  }

  /** A string, or a number/boolean rendered as the text YAML would have held (`18` → `"18"`). */
  optString(): string | undefined {
    const v = this.value;
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return this.fail(`expected a string, found ${describe(v)}`);
  }

  string(what = 'a value'): string {
    const s = this.optString();
    if (s === undefined || s === '') this.fail(`missing ${what}`);
    return s;
  }

  /** An operator release version (grammar.ts), or VERSION_INVALID at this location. */
  version(what = 'a version'): string {
    return parseReleaseVersion(this.string(what), 'release version', this.location);
  }

  optVersion(): string | undefined {
    const s = this.optString();
    return s === undefined ? undefined : parseReleaseVersion(s, 'release version', this.location);
  }

  /** A Kubernetes name of `kind` (grammar.ts), or NAME_INVALID at this location. */
  name(kind: NameKind, what: string): string {
    return parseName(this.string(what), kind, kind === 'namespace' ? 'namespace' : 'name', this.location);
  }

  optName(kind: NameKind): string | undefined {
    const s = this.optString();
    return s === undefined ? undefined : parseName(s, kind, kind === 'namespace' ? 'namespace' : 'name', this.location);
  }

  /** A container image reference (grammar.ts), or IMAGE_INVALID at this location. */
  image(what = 'an image reference'): string {
    return parseImageReference(this.string(what), 'image', this.location);
  }

  /** Refuse an object of the right kind but another API group or version (`kind` is checked by the caller). */
  expectApiVersion(expected: string): void {
    const got = this.get('apiVersion').optString();
    if (got !== expected) {
      this.get('apiVersion').fail(
        `expected apiVersion ${expected} for kind ${String(this.get('kind').optString())}, found ${got === undefined ? 'none' : quoteInput(got)}`,
      );
    }
  }

  optNumber(): number | undefined {
    const v = this.value;
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
    return this.fail(`expected a number, found ${describe(v)}`);
  }

  optBoolean(): boolean | undefined {
    const v = this.value;
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    return this.fail(`expected true or false, found ${describe(v)}`);
  }

  list(): Field[] {
    if (!this.exists) return [];
    if (!Array.isArray(this.value)) this.fail(`expected a list, found ${describe(this.value)}`);
    return this.value.map((v, i) => this.child(`[${i}]`, v));
  }

  entries(): [string, Field][] {
    if (!this.exists) return [];
    if (!isRecord(this.value)) this.fail(`expected a mapping, found ${describe(this.value)}`);
    // the keys we read become names, fields and message text: printable ASCII, no blanks
    const odd = Object.keys(this.value).find((k) => k === '' || /[^\x21-\x7e]/.test(k));
    if (odd !== undefined) this.fail(`key ${quoteInput(odd)} is not printable ASCII without blanks`);
    return Object.keys(this.value)
      .sort()
      .map((k) => [k, this.child(k, (this.value as Record<string, unknown>)[k])]);
  }

  /** A map of string values (e.g. `cinderVolumeImages`), keys sorted. */
  stringMap(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, f] of this.entries()) {
      const s = f.optString();
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
}
