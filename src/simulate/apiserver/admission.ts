/**
 * What the API server does to a custom resource before storing it, for kinds whose CRD is in the
 * project's `crds/`: prune fields the schema does not specify (the default `fieldValidation=Warn`
 * behaviour), fill schema defaults, and reject the object with 422 when it breaks the schema.
 * CEL rules (`x-kubernetes-validations`) are not evaluated.
 *
 * Compiled validators are cached per process (they are the costly part and the CRDs never change
 * while tests run), compiled on the first write of a kind. Three schemas take seconds to compile
 * (measured: OpenStackControlPlane ~6.6 s, ClusterServiceVersion ~2 s, Argo CD Application
 * ~1.2 s), so the default `fast` mode stores those kinds unchecked; `all` checks them too.
 */
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import type { ResourceType } from '../../cluster/resources.js';
import { CrdIndex } from '../../validate/crd-index.js';
import { createKubernetesAjv, registerUnknownFormats } from '../../validate/k8s-ajv.js';
import { crdsDir } from '../../validate/project-root.js';
import { findUnknownFields } from '../../validate/prune.js';
import { isJsonObject, type Json, type JsonObject } from './patch.js';
import { invalid, type FieldProblem } from './status.js';

export interface Admission {
  /**
   * The object as the server would store it (pruned, defaulted); throws a 422 ApiError. Pruned
   * fields are reported to `warnings` as the real server's `Warning` header texts.
   */
  admit(t: ResourceType, obj: JsonObject, warnings?: string[]): JsonObject;
}

export type SchemaChecks = 'fast' | 'all' | 'none';

/** `group/Kind` of the CRDs whose schemas are too slow to compile for `fast` mode. */
export const SLOW_SCHEMA_KINDS: ReadonlySet<string> = new Set([
  'core.openstack.org/OpenStackControlPlane',
  'operators.coreos.com/ClusterServiceVersion',
  'argoproj.io/Application',
]);

/** Accepts everything unchanged (core kinds, or validation switched off). */
export const NO_ADMISSION: Admission = { admit: (_t, obj) => obj };

interface Compiled {
  readonly validate: ValidateFunction;
  readonly schema: Record<string, unknown>;
}

let index: CrdIndex | undefined;
let ajv: Ajv | undefined;
const cache = new Map<string, Compiled | null>();

function compiledFor(t: ResourceType): Compiled | null {
  const key = `${t.group}/${t.version}/${t.kind}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  index ??= new CrdIndex(crdsDir());
  const entry = t.group === '' ? undefined : index.find(t.group, t.kind);
  const schema = entry === undefined ? undefined : index.load(entry).schemas.get(t.version);
  let compiled: Compiled | null = null;
  if (schema !== undefined) {
    ajv ??= createKubernetesAjv();
    registerUnknownFormats(ajv, schema);
    compiled = { validate: ajv.compile(schema), schema };
  }
  cache.set(key, compiled);
  return compiled;
}

/** `/spec/nodes/0/name` → `spec.nodes[0].name`, the API server's field path style. */
function fieldPath(pointer: string, extra?: string): string {
  const segs = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) segs.push(extra);
  let out = '';
  for (const s of segs) out += /^\d+$/.test(s) ? `[${s}]` : out === '' ? s : `.${s}`;
  return out === '' ? '<root>' : out;
}

const JSON_TYPE = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v);

/** One ajv error in the API server's words. */
function problemOf(e: ErrorObject): FieldProblem {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'required') {
    return { field: fieldPath(e.instancePath, String(params['missingProperty'])), message: 'Required value' };
  }
  const field = fieldPath(e.instancePath);
  if (e.keyword === 'type') {
    const got = JSON_TYPE(e.data);
    return { field, reason: 'FieldValueTypeInvalid', message: `Invalid value: "${got}": ${field} in body must be of type ${String(params['type'])}: "${got}"` };
  }
  if (e.keyword === 'enum') {
    const allowed = Array.isArray(params['allowedValues']) ? params['allowedValues'].map((a) => JSON.stringify(a)).join(', ') : '';
    return { field, reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(e.data)}: supported values: ${allowed}` };
  }
  const value = JSON.stringify(e.data) ?? 'null';
  const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return { field, message: `Invalid value: ${shown}: ${field} in body ${e.message ?? `fails ${e.keyword}`}` };
}

function removePointer(obj: JsonObject, pointer: string): void {
  const segs = pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let cur: Json | undefined = obj;
  for (const s of segs.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isJsonObject(cur)) cur = cur[s];
    else return;
  }
  const last = segs[segs.length - 1];
  if (last !== undefined && isJsonObject(cur)) delete cur[last];
}

/** Schema admission from the project's CRDs. */
/**
 * The Job status rules of the real API server (Kubernetes 1.31+): a terminal condition needs the
 * condition that leads to it, so a Job controller cannot skip the success or failure criteria.
 */
export function jobStatusProblems(obj: JsonObject): FieldProblem[] {
  const status = isJsonObject(obj['status']) ? obj['status'] : {};
  const conditions = Array.isArray(status['conditions']) ? status['conditions'].filter(isJsonObject) : [];
  const isTrue = (type: string) => conditions.some((c) => c['type'] === type && c['status'] === 'True');
  const problems: FieldProblem[] = [];
  for (const [terminal, needed] of [['Complete', 'SuccessCriteriaMet'], ['Failed', 'FailureTarget']] as const) {
    if (isTrue(terminal) && !isTrue(needed)) {
      problems.push({ field: 'status.conditions', message: `Invalid value: cannot set ${terminal}=True condition without the ${needed}=true condition`, reason: 'FieldValueInvalid' });
    }
  }
  return problems;
}

export function crdAdmission(mode: SchemaChecks = 'fast'): Admission {
  if (mode === 'none') return NO_ADMISSION;
  return {
    admit(t, obj, warnings) {
      if (t.group === 'batch' && t.kind === 'Job') {
        const problems = jobStatusProblems(obj);
        if (problems.length) throw invalid(t, isJsonObject(obj['metadata']) ? String(obj['metadata']['name'] ?? '') : '', problems);
      }
      if (mode === 'fast' && SLOW_SCHEMA_KINDS.has(`${t.group}/${t.kind}`)) return obj;
      const compiled = compiledFor(t);
      if (compiled === null) return obj;
      const out = structuredClone(obj);
      for (const f of findUnknownFields(out, compiled.schema)) {
        removePointer(out, f.path);
        warnings?.push(`unknown field "${fieldPath(f.path)}"`);
      }
      if (!compiled.validate(out)) {
        const name = isJsonObject(out['metadata']) ? String(out['metadata']['name'] ?? '') : '';
        const seen = new Set<string>();
        const problems = (compiled.validate.errors ?? [])
          .filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf')
          .map(problemOf)
          .filter((p) => !seen.has(`${p.field}|${p.message}`) && seen.add(`${p.field}|${p.message}`) !== undefined)
          .sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
        throw invalid(t, name, problems.length > 0 ? problems : [{ field: '<root>', message: 'Invalid value' }]);
      }
      return out;
    },
  };
}
