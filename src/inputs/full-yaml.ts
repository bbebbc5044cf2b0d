/**
 * The `yaml` package, loaded on first use (issue 14): reading plain manifests takes the fast reader
 * (plain-yaml.ts), so a command whose inputs are all plain, `plan --example` among them, never
 * loads the 263 KB parser. Loading is synchronous (the input readers are), through `require`.
 *
 * The CLI bundle sets OSV_BUNDLED_YAML (scripts/build.mjs) to its own small entry of `yaml`, which
 * shares the chunk every other bundled importer of `yaml` uses: one copy per process. The library
 * (tsc's dist/src) and the tests load the package, the file their `import ... from 'yaml'` loads.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

declare const OSV_BUNDLED_YAML: string | undefined;

let yaml: typeof Yaml | undefined;

export function fullYaml(): typeof Yaml {
  yaml ??= load();
  return yaml;
}

/** One of `yaml`'s functions, loading the package on its first call. */
function onDemand<K extends 'parse' | 'parseAllDocuments' | 'stringify' | 'isAlias' | 'isMap' | 'isScalar' | 'isSeq'>(name: K): (typeof Yaml)[K] {
  return ((...args: unknown[]) => (fullYaml()[name] as (...a: unknown[]) => unknown)(...args)) as (typeof Yaml)[K];
}

// what the readers and writers of the user's files call: a command that never meets such a file
// (render, commit into a fresh repository) never loads the parser
export const parse = onDemand('parse');
export const parseAllDocuments = onDemand('parseAllDocuments');
export const stringify = onDemand('stringify');
export const isAlias = onDemand('isAlias');
export const isMap = onDemand('isMap');
export const isScalar = onDemand('isScalar');
export const isSeq = onDemand('isSeq');

function load(): typeof Yaml {
  const require = createRequire(import.meta.url);
  // an ES module (the bundle's entry, full-yaml-entry.ts) required: its namespace, yaml as default
  if (typeof OSV_BUNDLED_YAML === 'string') return (require(OSV_BUNDLED_YAML) as { default: typeof Yaml }).default;
  return require('yaml') as typeof Yaml;
}
