/**
 * Checks HTTP requests and responses against an OpenAPI 3.0 description (GitHub's, cut down by
 * scripts/github-openapi-subset.mjs): the operation is found by method and path, path and query
 * parameters are checked against their schemas (query strings coerced as a server would), the
 * JSON body against the request body's schema, and a response body against the schema of its
 * status. Unknown query parameters and unknown operations are problems too.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';

type Json = Record<string, unknown>;

interface Operation {
  readonly method: string;
  readonly template: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly op: Json;
}

export interface FoundOperation {
  readonly operation: Operation;
  readonly pathParams: Record<string, string>;
}

const DOC_ID = 'openapi';

/** `#/components/...` → `openapi#/components/...`, so schemas copied out of the document still resolve. */
function anchored(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(anchored);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${DOC_ID}${v}` : anchored(v)]));
}

function newAjv(coerceTypes: boolean): Ajv {
  // `nullable` (OpenAPI 3.0) is one of ajv's own keywords; the others (`openapi`, `paths`) are ignored
  const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes, logger: false, validateFormats: true });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  for (const f of ['int64', 'int32', 'email', 'repo.nwo', 'uri-template']) ajv.addFormat(f, true);
  return ajv;
}

export class OpenApiCheck {
  readonly doc: Json;
  private readonly operations: Operation[] = [];
  private readonly bodies = newAjv(false);
  private readonly params = newAjv(true);
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(file: string) {
    this.doc = JSON.parse(readFileSync(file, 'utf8')) as Json;
    this.bodies.addSchema(this.doc, DOC_ID);
    this.params.addSchema(this.doc, DOC_ID);
    for (const [template, methods] of Object.entries(this.doc['paths'] as Record<string, Record<string, Json>>)) {
      const names: string[] = [];
      const pattern = new RegExp(`^${template.replace(/\{([^}]+)\}/g, (_, n: string) => (names.push(n), '([^/]+)'))}$`);
      for (const [method, op] of Object.entries(methods)) this.operations.push({ method: method.toUpperCase(), template, pattern, names, op });
    }
  }

  private deref<T>(value: T): T {
    let v: unknown = value;
    while (v && typeof v === 'object' && typeof (v as Json)['$ref'] === 'string') {
      const ref = (v as Json)['$ref'] as string;
      v = ref.slice(2).split('/').reduce<unknown>((node, key) => (node as Json)[key.replace(/~1/g, '/').replace(/~0/g, '~')], this.doc);
    }
    return v as T;
  }

  private validator(ajv: Ajv, key: string, schema: unknown): ValidateFunction {
    let fn = this.cache.get(key);
    if (!fn) {
      fn = ajv.compile(anchored(schema) as Json);
      this.cache.set(key, fn);
    }
    return fn;
  }

  find(method: string, pathname: string): FoundOperation | undefined {
    for (const operation of this.operations) {
      if (operation.method !== method.toUpperCase()) continue;
      const m = operation.pattern.exec(pathname);
      if (m) return { operation, pathParams: Object.fromEntries(operation.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) };
    }
    return undefined;
  }

  /** Problems of a request (empty: it is one the description allows). */
  checkRequest(method: string, url: URL, body: unknown, contentType: string | undefined): string[] {
    const found = this.find(method, url.pathname);
    if (!found) return [`${method} ${url.pathname}: no such operation`];
    const { operation, pathParams } = found;
    const where = `${operation.method} ${operation.template}`;
    const problems: string[] = [];
    const declared = ((operation.op['parameters'] as unknown[] | undefined) ?? []).map((p) => this.deref(p as Json));
    for (const where2 of ['path', 'query'] as const) {
      const list = declared.filter((p) => p['in'] === where2);
      const values: Record<string, unknown> = where2 === 'path' ? { ...pathParams } : Object.fromEntries(url.searchParams);
      const schema = {
        type: 'object',
        properties: Object.fromEntries(list.map((p) => [p['name'] as string, p['schema']])),
        required: list.filter((p) => p['required'] === true).map((p) => p['name'] as string),
        additionalProperties: false,
      };
      const check = this.validator(this.params, `${where} ${where2}`, schema);
      if (!check(values)) problems.push(...(check.errors ?? []).map((e) => `${where}: ${where2} parameters${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`));
    }
    const requestBody = this.deref(operation.op['requestBody'] as Json | undefined);
    if (body === undefined) {
      if (requestBody?.['required'] === true) problems.push(`${where}: the request body is required`);
    } else if (!requestBody) {
      problems.push(`${where}: takes no request body`);
    } else {
      if (!contentType?.startsWith('application/json')) problems.push(`${where}: content-type ${contentType ?? '(none)'} is not application/json`);
      const schema = ((requestBody['content'] as Json)['application/json'] as Json)['schema'];
      const check = this.validator(this.bodies, `${where} body`, schema);
      if (!check(body)) problems.push(...(check.errors ?? []).map((e) => `${where}: request body${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`));
    }
    return problems;
  }

  /** Problems of a response to an operation (empty: the description allows it). */
  checkResponse(found: FoundOperation, status: number, body: unknown): string[] {
    const where = `${found.operation.method} ${found.operation.template} -> ${status}`;
    const responses = found.operation.op['responses'] as Record<string, unknown>;
    const response = this.deref(responses[String(status)] as Json | undefined);
    if (!response) return [`${where}: status not in the description`];
    const content = response['content'] as Record<string, Json> | undefined;
    const schema = content?.['application/json']?.['schema'];
    if (schema === undefined) return body === undefined ? [] : [`${where}: the description has no body here`];
    const check = this.validator(this.bodies, `${where} response`, schema);
    return check(body) ? [] : (check.errors ?? []).slice(0, 20).map((e) => `${where}: response${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }
}
