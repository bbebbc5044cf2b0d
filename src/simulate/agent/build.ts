/**
 * A small kustomize for the simulated agents: `resources:` (files and folders, recursively) and
 * `namespace:`, the features osv-gitops renders. Anything else a kustomization may say (patches,
 * generators, images, components, remote bases…) is refused with AGENT_BUILD_UNSUPPORTED rather
 * than silently ignored, so a rehearsal never applies something other than what the agent would.
 *
 * Without a kustomization file, a folder means what each agent makes of it: Flux generates a
 * kustomization over every YAML file below it (a subfolder with its own kustomization counts as
 * one resource); Argo CD reads the folder's own YAML and JSON files (`directory.recurse: false`).
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { OsvError } from '../../errors.js';
import { typeOfKind } from '../../cluster/resources.js';
import type { KubeObject } from './kube.js';

export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

/** The fields this builder understands; every other top-level field is refused. */
const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace']);

/** Built-in cluster-scoped kinds (kustomize leaves their namespace alone). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'APIService',
]);

export interface BuildOptions {
  /** The checkout root: nothing may be read from outside it. */
  readonly root: string;
  /** How a folder without a kustomization file is read. */
  readonly plainDirectory: 'flux' | 'argocd';
}

function rel(root: string, path: string): string {
  return relative(root, path) || '.';
}

function inside(root: string, path: string): boolean {
  const r = relative(root, path);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
}

function kustomizationFile(dir: string): string | undefined {
  const found = KUSTOMIZATION_FILES.filter((f) => existsSync(join(dir, f)));
  if (found.length > 1) {
    throw new OsvError('AGENT_BUILD_INVALID', `${dir}: found more than one kustomization file (${found.join(', ')})`);
  }
  return found[0] === undefined ? undefined : join(dir, found[0]);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function resourceId(o: KubeObject): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.slice(0, o.apiVersion.indexOf('/')) : '';
  return `${group}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function isNamespaced(o: KubeObject): boolean {
  const known = typeOfKind(o.apiVersion, o.kind);
  if (known) return known.namespaced;
  return !CLUSTER_SCOPED.has(o.kind);
}

/** Reads the Kubernetes objects of one YAML or JSON file (multi-document; `List`s expanded). */
export function readManifestFile(file: string, root: string): KubeObject[] {
  const text = readFileSync(file, 'utf8');
  const where = rel(root, file);
  const out: KubeObject[] = [];
  const docs = parseAllDocuments(text);
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      throw new OsvError('AGENT_BUILD_INVALID', `${where}: document ${index + 1} is not valid YAML: ${doc.errors[0]?.message ?? ''}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    const objects = isRecord(value) && typeof value['kind'] === 'string' && value['kind'].endsWith('List') && Array.isArray(value['items']) ? (value['items'] as unknown[]) : [value];
    for (const o of objects) out.push(checkObject(o, `${where}: document ${index + 1}`));
  });
  return out;
}

function checkObject(value: unknown, where: string): KubeObject {
  if (!isRecord(value)) throw new OsvError('AGENT_BUILD_INVALID', `${where}: not a Kubernetes object`);
  const meta = value['metadata'];
  if (typeof value['apiVersion'] !== 'string' || typeof value['kind'] !== 'string' || !isRecord(meta) || typeof meta['name'] !== 'string' || meta['name'] === '') {
    throw new OsvError('AGENT_BUILD_INVALID', `${where}: an object needs apiVersion, kind and metadata.name`);
  }
  return value as KubeObject;
}

/**
 * Builds the folder `dir` (inside `opts.root`) and returns its objects in the order kustomize
 * lists them (resources depth first, in file order).
 */
export function buildKustomization(dir: string, opts: BuildOptions): KubeObject[] {
  const root = realpathSync(resolve(opts.root));
  const start = resolve(root, dir);
  if (!inside(root, start)) throw new OsvError('AGENT_BUILD_INVALID', `path "${dir}" leaves the repository`);
  if (!existsSync(start) || !statSync(start).isDirectory()) {
    throw new OsvError('AGENT_BUILD_INVALID', `path "${rel(root, start)}" is not a folder of the repository at this revision`);
  }
  return buildFolder(realpathSync(start), root, opts, []);
}

function buildFolder(dir: string, root: string, opts: BuildOptions, stack: readonly string[]): KubeObject[] {
  if (!inside(root, dir)) throw new OsvError('AGENT_BUILD_INVALID', `a resource leaves the repository: ${dir}`);
  if (stack.includes(dir)) {
    throw new OsvError('AGENT_BUILD_INVALID', `kustomizations include each other: ${[...stack, dir].map((d) => rel(root, d)).join(' -> ')}`);
  }
  const file = kustomizationFile(dir);
  if (file === undefined) return plainFolder(dir, root, opts, stack);
  const where = rel(root, file);
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  if (docs.length !== 1 || docs[0]!.errors.length > 0) {
    throw new OsvError('AGENT_BUILD_INVALID', `${where}: must be one valid YAML document${docs[0]?.errors[0] ? `: ${docs[0].errors[0].message}` : ''}`);
  }
  const k: unknown = docs[0]!.toJS();
  if (!isRecord(k)) throw new OsvError('AGENT_BUILD_INVALID', `${where}: not a mapping`);
  const unsupported = Object.keys(k).filter((f) => !SUPPORTED_FIELDS.has(f));
  if (unsupported.length > 0) {
    throw new OsvError('AGENT_BUILD_UNSUPPORTED', `${where}: the rehearsal agent does not support ${unsupported.map((f) => `"${f}"`).join(', ')}`, {
      hint: 'It builds only `resources:` and `namespace:`, the fields osv-gitops renders; run the real agent for anything else.',
    });
  }
  if (k['kind'] !== undefined && k['kind'] !== 'Kustomization') {
    throw new OsvError('AGENT_BUILD_UNSUPPORTED', `${where}: kind ${String(k['kind'])} is not supported (only Kustomization)`);
  }
  const resources = k['resources'] ?? [];
  if (!Array.isArray(resources) || resources.some((r) => typeof r !== 'string')) {
    throw new OsvError('AGENT_BUILD_INVALID', `${where}: resources must be a list of paths`);
  }
  const objects: KubeObject[] = [];
  const seen = new Set<string>();
  for (const entry of resources as string[]) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || /^(github\.com|gitlab\.com|bitbucket\.org)\//.test(entry) || entry.includes('?ref=')) {
      throw new OsvError('AGENT_BUILD_UNSUPPORTED', `${where}: remote resource "${entry}" is not supported`);
    }
    const target = resolve(dir, entry);
    if (!existsSync(target)) throw new OsvError('AGENT_BUILD_INVALID', `${where}: resource "${entry}" does not exist`);
    const real = realpathSync(target);
    let found: KubeObject[];
    if (statSync(real).isDirectory()) found = buildFolder(real, root, opts, [...stack, dir]);
    else {
      // kustomize's default load restrictor: files must sit under the kustomization's own folder
      if (!inside(dir, real)) throw new OsvError('AGENT_BUILD_INVALID', `${where}: file "${entry}" is outside the kustomization's folder`);
      found = readManifestFile(real, root);
    }
    for (const o of found) {
      const id = resourceId(o);
      if (seen.has(id)) throw new OsvError('AGENT_BUILD_INVALID', `${where}: ${o.kind} ${o.metadata.name} is listed twice`);
      seen.add(id);
      objects.push(o);
    }
  }
  const namespace = k['namespace'];
  if (namespace === undefined) return objects;
  if (typeof namespace !== 'string' || namespace === '') throw new OsvError('AGENT_BUILD_INVALID', `${where}: namespace must be a non-empty string`);
  return objects.map((o) => {
    if (!isNamespaced(o)) return o;
    const subjects = o['subjects'];
    if ((o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') && Array.isArray(subjects) && subjects.some((s) => isRecord(s) && s['kind'] === 'ServiceAccount')) {
      throw new OsvError('AGENT_BUILD_UNSUPPORTED', `${where}: namespace: with a ${o.kind} naming ServiceAccounts (kustomize rewrites their namespaces too)`);
    }
    return { ...o, metadata: { ...o.metadata, namespace } };
  });
}

function plainFolder(dir: string, root: string, opts: BuildOptions, stack: readonly string[]): KubeObject[] {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const objects: KubeObject[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (opts.plainDirectory === 'flux') objects.push(...buildFolder(path, root, opts, [...stack, dir]));
    } else if (e.isFile() && /\.(ya?ml|json)$/.test(e.name)) {
      if (opts.plainDirectory === 'flux' && e.name.endsWith('.json')) continue;
      objects.push(...readManifestFile(path, root));
    }
  }
  return objects;
}
