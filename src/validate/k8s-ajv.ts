/**
 * An ajv instance that reads a CRD's `openAPIV3Schema` the way the Kubernetes API server does,
 * as far as offline validation can:
 * - the `x-kubernetes-*` extensions are known keywords. `list-type: set|map` is enforced (no
 *   duplicate items / keys) and `int-or-string` is checked; the others only annotate.
 * - the formats the API server knows are registered. `int32`, `int64` and `date-time` (the only
 *   ones our CRDs use) are checked; any other format is accepted, as the API server ignores
 *   formats it does not know.
 * - `useDefaults`: schema defaults are filled in, so a field that is required but defaulted (for
 *   example `deploymentRequeueTime`) passes. This mutates the data: validate a clone.
 * Not covered: CEL rules (`x-kubernetes-validations`), webhook defaulting and pruning (see
 * `prune.ts` for the unknown-field check).
 */
import { Ajv, type AnySchemaObject, type ErrorObject } from 'ajv';

/** What a `compile` keyword returns (ajv does not export this type from its entry point). */
type DataValidateFunction = ((data: unknown) => boolean) & { errors?: Partial<ErrorObject>[] };

/** Formats the API server validates (k8s.io/apiextensions-apiserver), plus OpenAPI number formats. */
const KNOWN_FORMATS = [
  'bsonobjectid', 'uri', 'email', 'hostname', 'ipv4', 'ipv6', 'cidr', 'mac', 'uuid', 'uuid3', 'uuid4',
  'uuid5', 'isbn', 'isbn10', 'isbn13', 'creditcard', 'ssn', 'hexcolor', 'rgbcolor', 'byte', 'password',
  'date', 'duration', 'datetime', 'float', 'double',
] as const;

// RFC 3339 date-time, as Go's strfmt accepts it (fractional seconds optional, `Z` or an offset).
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function isValidDateTime(s: string): boolean {
  if (!DATE_TIME_RE.test(s)) return false;
  const month = Number(s.slice(5, 7));
  const day = Number(s.slice(8, 10));
  const hour = Number(s.slice(11, 13));
  const minute = Number(s.slice(14, 16));
  const second = Number(s.slice(17, 19));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ajv fills in instancePath and schemaPath of errors returned by keyword functions
function keywordError(keyword: string, message: string, params: Record<string, unknown> = {}): Partial<ErrorObject> {
  return { keyword, message, params };
}

/** Stable text of a list item's key fields for duplicate detection. */
function mapKeyOf(item: unknown, keys: readonly string[]): string | null {
  if (!isObject(item)) return null;
  return JSON.stringify(keys.map((k) => item[k] ?? null));
}

function compileListType(listType: unknown, parentSchema: AnySchemaObject): DataValidateFunction {
  const mapKeys: string[] = Array.isArray(parentSchema['x-kubernetes-list-map-keys'])
    ? (parentSchema['x-kubernetes-list-map-keys'] as unknown[]).filter((k): k is string => typeof k === 'string')
    : [];
  const validate: DataValidateFunction = (data: unknown) => {
    delete validate.errors;
    if (!Array.isArray(data) || (listType !== 'set' && listType !== 'map')) return true;
    const seen = new Map<string, number>();
    const errors: Partial<ErrorObject>[] = [];
    data.forEach((item, i) => {
      const id = listType === 'set' ? JSON.stringify(item) : mapKeyOf(item, mapKeys);
      if (id === null) return;
      const first = seen.get(id);
      if (first === undefined) {
        seen.set(id, i);
        return;
      }
      const what =
        listType === 'set'
          ? `duplicate item ${JSON.stringify(item)}`
          : `duplicate key ${mapKeys.map((k, j) => `${k}=${JSON.stringify(JSON.parse(id)[j])}`).join(', ')}`;
      errors.push(
        keywordError('x-kubernetes-list-type', `must not contain a ${what} (items ${first} and ${i})`, {
          listType,
          first,
          duplicate: i,
        }),
      );
    });
    if (errors.length === 0) return true;
    validate.errors = errors;
    return false;
  };
  return validate;
}

function validateIntOrString(enabled: unknown, data: unknown): boolean {
  if (enabled !== true) return true;
  return typeof data === 'string' || (typeof data === 'number' && Number.isInteger(data));
}

/** A fresh ajv instance with the Kubernetes vocabulary and formats registered. */
export function createKubernetesAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    // int-or-string fields are `anyOf: [{type: integer}, {type: string}]` next to `pattern` etc.,
    // which strictTypes would report hundreds of times; the schemas are the API server's, not ours.
    strictTypes: false,
    verbose: true,
  });
  ajv.addKeyword({ keyword: 'x-kubernetes-preserve-unknown-fields', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'x-kubernetes-embedded-resource', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'x-kubernetes-map-type', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-kubernetes-list-map-keys', schemaType: 'array' });
  ajv.addKeyword({ keyword: 'x-kubernetes-validations', schemaType: 'array' });
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-type',
    schemaType: 'string',
    type: 'array',
    errors: true,
    compile: compileListType,
  });
  ajv.addKeyword({
    keyword: 'x-kubernetes-int-or-string',
    schemaType: 'boolean',
    errors: false,
    validate: validateIntOrString,
  });

  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('date-time', { type: 'string', validate: isValidDateTime });
  for (const f of KNOWN_FORMATS) ajv.addFormat(f, true);
  return ajv;
}

/** Every `format` value used in a schema (walks `properties`, `items`, `additionalProperties`, combinators). */
export function formatsUsed(schema: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(schema)) {
    for (const s of schema) formatsUsed(s, out);
    return out;
  }
  if (!isObject(schema)) return out;
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'format' && typeof v === 'string') out.add(v);
    // `default` and `enum` hold data, not schemas
    else if (k !== 'default' && k !== 'enum' && k !== 'example') formatsUsed(v, out);
  }
  return out;
}

/**
 * Register any format a schema uses that ajv does not know yet, as "accept anything": the API
 * server ignores unknown formats, and ajv would otherwise refuse to compile the schema.
 */
export function registerUnknownFormats(ajv: Ajv, schema: unknown): void {
  for (const f of formatsUsed(schema)) {
    if (ajv.formats[f] === undefined) ajv.addFormat(f, true);
  }
}
