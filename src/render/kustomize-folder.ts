/**
 * Objects to files: synthesizes cdk8s charts into plain objects and writes a kustomize folder of
 * them, one file per object, with the checks every rendered file passes (no empty fields, no
 * secrets, YAML that reads back as the object). Shared by the phase folders and each agent's wiring.
 */
import { App, type Chart } from 'cdk8s';
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { OsvError } from '../errors.js';
import { assertNoEmptyFields } from '../validate/empty-fields.js';
import { scannedYaml } from '../validate/secrets.js';
import { toYaml } from './yaml-out.js';

export interface RenderedFile {
  readonly path: string;
  readonly content: string;
}

export function synthObjects(build: (app: App) => Chart[]): Record<string, unknown>[] {
  const app = new App({ outdir: '.' });
  const objects = build(app).flatMap((c) => c.toJson() as Record<string, unknown>[]);
  // every object we render, in every mode and engine
  assertNoEmptyFields(objects);
  return objects;
}

/** Longest file name we derive from an object (filesystems stop at 255 bytes). */
const MAX_FILE_NAME = 120;

/** `<kind>-<name>.yaml`; a long name (Kubernetes allows 253 characters) keeps its head and a hash of the whole. */
export function fileName(obj: Record<string, unknown>): string {
  const meta = obj['metadata'] as { name?: string } | undefined;
  const base = `${String(obj['kind']).toLowerCase()}-${meta?.name ?? 'unnamed'}`;
  if (base.length + 5 <= MAX_FILE_NAME) return `${base}.yaml`;
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 12);
  return `${base.slice(0, MAX_FILE_NAME - 5 - 13)}-${hash}.yaml`;
}

// every phase folder holds the same nodesets again: write each distinct object's YAML once per
// process, by the key that names its content (src/validate/secrets.ts, `scannedYaml`)
const yamlByKey = new Map<string, string>();

function objectYaml(o: Record<string, unknown>, key: string | undefined): string {
  if (key === undefined) return toYaml(o);
  let yaml = yamlByKey.get(key);
  if (yaml === undefined) {
    yaml = toYaml(o);
    yamlByKey.set(key, yaml);
  }
  return yaml;
}

/** One object alone in a file outside any folder (applied by hand or merged elsewhere), scanned as a folder's are. */
export function objectFile(path: string, obj: Record<string, unknown>): RenderedFile {
  return { path, content: scannedYaml([obj], [path], objectYaml)[0]! };
}

/** A kustomize folder: one file per object plus `kustomization.yaml` listing them in order. */
export function kustomizeFolder(dir: string, objects: readonly Record<string, unknown>[]): RenderedFile[] {
  const names: string[] = [];
  const taken = new Set<string>();
  for (const o of objects) {
    const name = fileName(o);
    if (taken.has(name)) throw new OsvError('RENDER_INVALID', `two objects would be written to ${posix.join(dir, name)}`);
    taken.add(name);
    names.push(name);
  }
  const kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: names };
  const written = [...objects, kustomization];
  const paths = [...names, 'kustomization.yaml'].map((n) => posix.join(dir, n));
  // the one secret scan of every folder we write (the agents' wiring included: a repoURL with a
  // password), the kustomization too, so the files gate need not parse any of it back
  const contents = scannedYaml(written, paths, objectYaml);
  return paths.map((path, i) => ({ path, content: contents[i]! }));
}
