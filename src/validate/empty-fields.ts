/**
 * No rendered object may carry an empty map or list that the API server fills in or drops.
 *
 * Built-in kinds are Go structs whose maps and lists are `omitempty`: the API server drops an
 * empty one, or its defaulting fills it (a Job's `spec.template.metadata.labels` gets the
 * controller-uid and job-name labels). The live object then never equals what Git holds, and
 * real Argo CD reports it OutOfSync forever (v3.2) or fails its server-side diff on an immutable
 * field (v3.6). Custom resources keep an empty map or list in their spec (a nodeset's
 * `nodes: {}` is meaningful), but their `metadata` is the same Go struct, so only it is checked.
 */
import { OsvError } from '../errors.js';

export interface EmptyField {
  /** `Kind/namespace/name` of the object. */
  readonly object: string;
  /** Dotted path, list items as `[i]`. */
  readonly path: string;
}

/** API groups whose kinds are built into the API server (Go structs, not CRDs). */
const BUILT_IN_GROUPS = new Set(['', 'apps', 'batch', 'rbac.authorization.k8s.io', 'policy', 'networking.k8s.io', 'autoscaling', 'coordination.k8s.io']);

function groupOf(apiVersion: unknown): string {
  const v = String(apiVersion ?? '');
  return v.includes('/') ? v.slice(0, v.indexOf('/')) : '';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function walk(value: unknown, path: string, out: string[]): void {
  if (Array.isArray(value)) {
    if (value.length === 0) out.push(path);
    value.forEach((v, i) => walk(v, `${path}[${i}]`, out));
  } else if (isRecord(value)) {
    if (Object.keys(value).length === 0 && path !== '') out.push(path);
    for (const [k, v] of Object.entries(value)) walk(v, path === '' ? k : `${path}.${k}`, out);
  }
}

/** Every empty map or list of `obj` that the API server would fill in or drop. */
export function emptyFields(obj: Readonly<Record<string, unknown>>): EmptyField[] {
  const meta = isRecord(obj['metadata']) ? obj['metadata'] : {};
  const object = `${String(obj['kind'])}/${meta['namespace'] !== undefined ? `${String(meta['namespace'])}/` : ''}${String(meta['name'] ?? 'unnamed')}`;
  const paths: string[] = [];
  if (BUILT_IN_GROUPS.has(groupOf(obj['apiVersion']))) walk(obj, '', paths);
  else walk(meta, 'metadata', paths);
  return paths.map((path) => ({ object, path }));
}

/** Throws RENDER_INVALID naming every object and path that holds an empty map or list. */
export function assertNoEmptyFields(objects: readonly Readonly<Record<string, unknown>>[]): void {
  const found = objects.flatMap(emptyFields);
  if (found.length === 0) return;
  throw new OsvError('RENDER_INVALID', `rendered objects hold empty maps or lists the API server fills in or drops: ${found.map((f) => `${f.object} ${f.path}`).join('; ')}`, {
    hint: 'The live object would never match Git and Argo CD would report it OutOfSync; leave the field out.',
  });
}
