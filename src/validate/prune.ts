/**
 * Fields the API server would silently drop. A CRD's structural schema has no
 * `additionalProperties: false`; instead the API server prunes every field that the schema does
 * not specify. A misspelt field (`cinderApiImage` for `cinderAPIImage`) therefore "applies"
 * cleanly and does nothing, so we report it as an error before it reaches Git.
 *
 * Pruning rules followed (Kubernetes "structural schema" semantics):
 * - an object's keys are kept when listed in `properties`, or when `additionalProperties` is a
 *   schema (map) or `true`, or when `x-kubernetes-preserve-unknown-fields: true` is set;
 * - below `x-kubernetes-preserve-unknown-fields` only the specified properties are walked;
 * - `x-kubernetes-embedded-resource` objects also keep `apiVersion`, `kind` and `metadata`;
 * - `allOf`/`anyOf`/`oneOf`/`not` never specify fields (structural schemas forbid it).
 */

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One JSON-pointer segment (`/` and `~` escaped as RFC 6901 says). */
export function pointerSegment(s: string | number): string {
  return String(s).replace(/~/g, '~0').replace(/\//g, '~1');
}

export interface UnknownField {
  /** JSON pointer of the field, e.g. `/spec/customContainerImages/cinderApiImage`. */
  readonly path: string;
  /** A schema field with the same name in another case, when there is one. */
  readonly suggestion: string | undefined;
}

/** Edit distance (insert, delete, substitute, swap two neighbours) between a and b, capped at `max + 1`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return Math.min(prev[b.length]!, max + 1);
}

/**
 * The schema field the user most likely meant: the same name in another case
 * (`cinderApiImage` → `cinderAPIImage`), else the one closest by at most two edits when it is the
 * only one that close (`selfHael` → `selfHeal`).
 */
export function suggest(key: string, names: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameCase = names.find((n) => n.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  if (key.length < 4) return undefined;
  let best: string | undefined;
  let bestD = 3;
  let tie = false;
  for (const n of names) {
    const d = distance(lower, n.toLowerCase(), 2);
    if (d < bestD) {
      best = n;
      bestD = d;
      tie = false;
    } else if (d === bestD) {
      tie = true;
    }
  }
  return best !== undefined && !tie ? best : undefined;
}

function walk(value: unknown, schema: unknown, path: string, out: UnknownField[]): void {
  if (!isObject(schema) || value === null || value === undefined) return;
  if (Array.isArray(value)) {
    const items = schema['items'];
    if (isObject(items)) value.forEach((item, i) => walk(item, items, `${path}/${i}`, out));
    return;
  }
  if (!isObject(value)) return;
  const type = schema['type'];
  const props = isObject(schema['properties']) ? schema['properties'] : undefined;
  const additional = schema['additionalProperties'];
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  // a non-object schema with an object value is a type error, which ajv reports
  if (type !== undefined && type !== 'object') return;
  if (type === undefined && props === undefined && additional === undefined) return;
  for (const [k, v] of Object.entries(value)) {
    const p = `${path}/${pointerSegment(k)}`;
    if (props !== undefined && Object.hasOwn(props, k)) {
      walk(v, props[k], p, out);
    } else if (isObject(additional)) {
      walk(v, additional, p, out);
    } else if (additional === true || preserve) {
      continue;
    } else if (embedded && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) {
      continue;
    } else {
      out.push({ path: p, suggestion: props ? suggest(k, Object.keys(props)) : undefined });
    }
  }
}

/**
 * Every field of `obj` that the API server would prune under `schema` (a CRD's `openAPIV3Schema`).
 * The top-level `metadata` is skipped: the API server handles it as ObjectMeta, not by the CRD.
 */
export function findUnknownFields(obj: Record<string, unknown>, schema: Record<string, unknown>): UnknownField[] {
  const out: UnknownField[] = [];
  const { metadata: _metadata, ...rest } = obj;
  walk(rest, schema, '', out);
  return out;
}
