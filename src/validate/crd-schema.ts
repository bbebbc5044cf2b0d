/**
 * Validate rendered objects against the real CRD schemas in the project's `crds/` folder, the way
 * the API server would accept or silently change them:
 * - ajv over the CRD's `openAPIV3Schema` with the Kubernetes extensions (`k8s-ajv.ts`), on a
 *   clone with schema defaults applied (a required field with a default passes, as on the server);
 * - every field the API server would prune is an error (`prune.ts`);
 * - `metadata` is not checked against the CRD, only `name` (RFC 1123) and `namespace`.
 * Core kinds that osv-gitops renders next to the custom resources (Job, RBAC, ConfigMap, ...) get
 * only the shape check of `apiVersion`, `kind` and `metadata.name`.
 *
 * Validators are compiled per kind on first use and cached: the control-plane CRD takes over a
 * second to compile, so it is only compiled when an OpenStackControlPlane is validated.
 */
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { CrdIndex, splitApiVersion, type LoadedCrd } from './crd-index.js';
import { createKubernetesAjv, registerUnknownFormats } from './k8s-ajv.js';
import { rfc1123Problems, type NameRule } from './names.js';
import { crdsDir } from './project-root.js';
import { findUnknownFields } from './prune.js';

export interface ValidationResult {
  readonly ok: boolean;
  /** One line per problem: `Kind/name: /json/pointer message`. */
  readonly errors: string[];
  /**
   * Problems an admission webhook normally fixes, so not errors: a required field missing under
   * the `spec` of a kind whose operator defaults it (OpenStackControlPlane templates).
   */
  readonly warnings: string[];
}

/**
 * Kinds whose operator runs a mutating webhook that fills required fields before the API server
 * checks the schema (the control plane webhook propagates `secret`, `storageClass`,
 * `serviceAccount`, ... into the service templates). A missing required field below `/spec` of
 * these is a warning; every other problem stays an error.
 */
const WEBHOOK_DEFAULTED_KINDS: ReadonlySet<string> = new Set(['core.openstack.org/OpenStackControlPlane']);

export interface KnownKind {
  readonly apiVersion: string;
  readonly kind: string;
  /** `crd`: validated against a CRD from `crds/`; `core`: a core kind with a shape check only. */
  readonly source: 'crd' | 'core';
  /** For `crd`: the file under `crds/` (with `/` separators). */
  readonly file?: string;
}

interface CoreKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: NameRule;
  /** kustomization.yaml files need no metadata at all. */
  readonly nameOptional?: boolean;
  readonly clusterScoped?: boolean;
}

/** Kubernetes kinds osv-gitops renders that have no CRD in `crds/`. */
const CORE_KINDS: readonly CoreKind[] = [
  { apiVersion: 'v1', kind: 'ConfigMap', name: { form: 'subdomain' } },
  { apiVersion: 'v1', kind: 'Namespace', name: { form: 'label' }, clusterScoped: true },
  { apiVersion: 'v1', kind: 'ServiceAccount', name: { form: 'subdomain' } },
  // the Job controller puts the name in the `job-name` label: at most 63 characters
  { apiVersion: 'batch/v1', kind: 'Job', name: { form: 'subdomain', maxLen: 63 } },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', name: { form: 'subdomain' } },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', name: { form: 'subdomain' } },
  {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    name: { form: 'subdomain' },
    nameOptional: true,
  },
];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function short(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Turn ajv's errors into our lines, dropping the noise of `anyOf` branches. */
function ajvErrorLines(errors: readonly ErrorObject[], keep: (e: ErrorObject) => boolean = () => true): string[] {
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => `${e.schemaPath}/`);
  const lines: string[] = [];
  for (const e of errors) {
    if (anyOfPaths.some((p) => e.schemaPath.startsWith(p)) || !keep(e)) continue;
    const at = e.instancePath === '' ? '/' : e.instancePath;
    const params = e.params as Record<string, unknown>;
    const parent = isObject(e.parentSchema) ? e.parentSchema : {};
    switch (e.keyword) {
      case 'type':
        lines.push(`${at} must be ${String(params['type'])} (got ${jsonType(e.data)} ${short(e.data)})`);
        break;
      case 'enum': {
        const allowed = Array.isArray(params['allowedValues']) ? params['allowedValues'] : [];
        lines.push(`${at} must be one of ${allowed.map((a) => short(a)).join(', ')} (got ${short(e.data)})`);
        break;
      }
      case 'pattern':
        lines.push(`${at} must match pattern ${short(params['pattern'])} (got ${short(e.data)})`);
        break;
      case 'format':
        lines.push(`${at} must be a valid ${String(params['format'])} (got ${short(e.data)})`);
        break;
      case 'x-kubernetes-int-or-string':
        lines.push(`${at} must be an integer or a string (got ${jsonType(e.data)} ${short(e.data)})`);
        break;
      case 'anyOf':
        if (parent['x-kubernetes-int-or-string'] === true) {
          lines.push(`${at} must be an integer or a string (got ${jsonType(e.data)} ${short(e.data)})`);
        } else {
          lines.push(`${at} ${e.message ?? 'is invalid'}`);
        }
        break;
      default:
        lines.push(`${at} ${e.message ?? `fails ${e.keyword}`}`);
    }
  }
  return [...new Set(lines)];
}

/** Sort lines by their JSON pointer (the text before the first space), keeping ties in order. */
function byPath(lines: string[]): string[] {
  const pathOf = (l: string): string => (l.startsWith('/') ? l.slice(0, l.indexOf(' ') >>> 0) : '');
  return lines
    .map((l, i) => ({ l, i, p: pathOf(l) }))
    .sort((a, b) => (a.p < b.p ? -1 : a.p > b.p ? 1 : a.i - b.i))
    .map((x) => x.l);
}

function refOf(obj: Record<string, unknown>, index?: number): string {
  const kind = typeof obj['kind'] === 'string' && obj['kind'] !== '' ? obj['kind'] : 'object';
  const md = obj['metadata'];
  const name = isObject(md) && typeof md['name'] === 'string' && md['name'] !== '' ? md['name'] : undefined;
  if (name !== undefined) return `${kind}/${name}`;
  return index === undefined ? `${kind}/<no name>` : `${kind} #${index + 1}`;
}

function checkMetadata(
  obj: Record<string, unknown>,
  rule: NameRule,
  opts: { nameOptional?: boolean; clusterScoped?: boolean },
): string[] {
  const md = obj['metadata'];
  if (md === undefined) return opts.nameOptional ? [] : ['/metadata/name is required'];
  if (!isObject(md)) return [`/metadata must be an object (got ${jsonType(md)})`];
  const errors: string[] = [];
  const name = md['name'];
  if (name === undefined) {
    if (!opts.nameOptional) errors.push('/metadata/name is required');
  } else if (typeof name !== 'string') {
    errors.push(`/metadata/name must be a string (got ${jsonType(name)} ${short(name)})`);
  } else {
    const problems = rfc1123Problems(name, rule);
    if (problems.length > 0) {
      errors.push(`/metadata/name ${short(name)} is not a valid RFC 1123 ${rule.form ?? 'subdomain'}: ${problems.join('; ')}`);
    }
  }
  const ns = md['namespace'];
  if (ns !== undefined) {
    if (opts.clusterScoped) {
      errors.push('/metadata/namespace must not be set: the kind is cluster-scoped');
    } else if (typeof ns !== 'string') {
      errors.push(`/metadata/namespace must be a string (got ${jsonType(ns)})`);
    } else {
      const problems = rfc1123Problems(ns, { form: 'label' });
      if (problems.length > 0) errors.push(`/metadata/namespace ${short(ns)} is not a valid namespace name: ${problems.join('; ')}`);
    }
  }
  return errors;
}

export class CrdSchemaValidator {
  private readonly index: CrdIndex;
  private ajv: Ajv | undefined;
  private readonly compiled = new Map<string, ValidateFunction>();

  /** @param dir folder of CRD files; default: the project's `crds/`. */
  constructor(dir: string = crdsDir()) {
    this.index = new CrdIndex(dir);
  }

  /** CRD kinds (every served version) and the core kinds, sorted by apiVersion then kind. */
  knownKinds(): KnownKind[] {
    const out: KnownKind[] = [];
    for (const e of this.index.entries()) {
      for (const v of e.versions) {
        if (v.served) out.push({ apiVersion: `${e.group}/${v.name}`, kind: e.kind, source: 'crd', file: e.relFile });
      }
    }
    for (const c of CORE_KINDS) out.push({ apiVersion: c.apiVersion, kind: c.kind, source: 'core' });
    const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
    return out.sort((a, b) => cmp(a.apiVersion, b.apiVersion) || cmp(a.kind, b.kind));
  }

  /** `group/version/Kind` of every schema compiled so far (compiling is lazy). */
  compiledKinds(): string[] {
    return [...this.compiled.keys()].sort();
  }

  /** The compiled validator for a CRD version (compiled once, then cached). */
  private validator(crd: LoadedCrd, version: string): ValidateFunction | undefined {
    const cacheKey = `${crd.entry.group}/${version}/${crd.entry.kind}`;
    const hit = this.compiled.get(cacheKey);
    if (hit) return hit;
    const schema = crd.schemas.get(version);
    if (schema === undefined) return undefined;
    this.ajv ??= createKubernetesAjv();
    registerUnknownFormats(this.ajv, schema);
    const fn = this.ajv.compile(schema);
    this.compiled.set(cacheKey, fn);
    return fn;
  }

  /** Validate one object. `index` (0-based) only names unnamed objects in messages. */
  validateObject(obj: unknown, index?: number): ValidationResult {
    if (!isObject(obj)) {
      const ref = index === undefined ? 'object' : `object #${index + 1}`;
      return { ok: false, errors: [`${ref}: must be a mapping (got ${jsonType(obj)})`], warnings: [] };
    }
    const ref = refOf(obj, index);
    const fail = (lines: string[], warnings: string[] = []): ValidationResult => ({
      ok: lines.length === 0,
      errors: lines.map((l) => `${ref}: ${l}`),
      warnings: warnings.map((l) => `${ref}: ${l}`),
    });
    const apiVersion = obj['apiVersion'];
    const kind = obj['kind'];
    const head: string[] = [];
    if (typeof apiVersion !== 'string' || apiVersion === '') head.push('/apiVersion must be a non-empty string');
    if (typeof kind !== 'string' || kind === '') head.push('/kind must be a non-empty string');
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' || head.length > 0) return fail(head);

    const { group, version } = splitApiVersion(apiVersion);
    const entry = group === '' ? undefined : this.index.find(group, kind);
    if (entry === undefined) {
      const core = CORE_KINDS.find((c) => c.kind === kind && c.apiVersion === apiVersion);
      if (core) return fail(checkMetadata(obj, core.name, core));
      const sameKind = CORE_KINDS.filter((c) => c.kind === kind).map((c) => c.apiVersion);
      if (sameKind.length > 0) return fail([`/apiVersion must be ${sameKind.join(' or ')} for kind ${kind} (got ${short(apiVersion)})`]);
      return fail([
        `unknown kind ${kind} of ${apiVersion}: no CRD in crds/ defines it and it is not a core kind osv-gitops renders`,
      ]);
    }
    const served = entry.versions.filter((v) => v.served).map((v) => v.name);
    if (!served.includes(version)) {
      return fail([`/apiVersion ${short(apiVersion)} is not served by the ${kind} CRD (served: ${served.map((v) => `${group}/${v}`).join(', ')})`]);
    }
    const crd = this.index.load(entry);
    const lines = checkMetadata(obj, { form: 'subdomain' }, { clusterScoped: crd.scope === 'Cluster' });
    const validate = this.validator(crd, version);
    const schema = crd.schemas.get(version);
    if (validate === undefined || schema === undefined) {
      return fail([...lines, `the ${kind} CRD has no openAPIV3Schema for ${version}`]);
    }
    // useDefaults writes the defaults into the data: never into the caller's object
    const clone = structuredClone(obj);
    const warnings: string[] = [];
    if (!validate(clone)) {
      const errs = validate.errors ?? [];
      const lenient = WEBHOOK_DEFAULTED_KINDS.has(`${group}/${kind}`);
      const byWebhook = (e: ErrorObject): boolean => lenient && e.keyword === 'required' && e.instancePath.startsWith('/spec/');
      lines.push(...ajvErrorLines(errs, (e) => !byWebhook(e)));
      warnings.push(...ajvErrorLines(errs, byWebhook).map((l) => `${l} (left to the operator's defaulting webhook)`));
    }
    for (const f of findUnknownFields(obj, schema)) {
      const hint = f.suggestion === undefined ? '' : `; did you mean ${f.suggestion}?`;
      lines.push(`${f.path} is not a field of the schema (the API server would drop it${hint})`);
    }
    return fail(byPath(lines), byPath(warnings));
  }

  /** Validate a set of objects; also reports two objects with the same kind, namespace and name. */
  validateObjects(objs: readonly unknown[]): ValidationResult {
    const errors: string[] = [];
    const warnings: string[] = [];
    const seen = new Map<string, number>();
    objs.forEach((obj, i) => {
      const r = this.validateObject(obj, i);
      errors.push(...r.errors);
      warnings.push(...r.warnings);
      if (!isObject(obj)) return;
      const md = isObject(obj['metadata']) ? obj['metadata'] : {};
      if (typeof md['name'] !== 'string') return;
      const { group } = splitApiVersion(String(obj['apiVersion'] ?? ''));
      const id = `${group}|${String(obj['kind'])}|${String(md['namespace'] ?? '')}|${md['name']}`;
      const first = seen.get(id);
      if (first === undefined) seen.set(id, i);
      else errors.push(`${refOf(obj, i)}: objects #${first + 1} and #${i + 1} have the same kind, namespace and name`);
    });
    return { ok: errors.length === 0, errors, warnings };
  }
}

let shared: CrdSchemaValidator | undefined;

function sharedValidator(): CrdSchemaValidator {
  shared ??= new CrdSchemaValidator();
  return shared;
}

/** Validate one object against the project's CRDs (see the module comment). */
export function validateObject(obj: unknown): ValidationResult {
  return sharedValidator().validateObject(obj);
}

/** Validate many objects; errors of all of them, plus duplicate kind/namespace/name. */
export function validateObjects(objs: readonly unknown[]): ValidationResult {
  return sharedValidator().validateObjects(objs);
}

/** The kinds `validateObject` knows. */
export function knownKinds(): KnownKind[] {
  return sharedValidator().knownKinds();
}
