/**
 * The `yaml` package, loaded on first use (issue 14): reading plain manifests takes the fast reader
 * (plain-yaml.ts), so a command whose inputs are all plain, `plan --example` among them, never
 * loads the 263 KB parser. Loading is synchronous (the input readers are), through `require`.
 *
 * The CLI bundle sets OSV_BUNDLED_YAML (scripts/build.mjs) to its own bundle of `yaml`, which every
 * other bundled importer of `yaml` requires too: one copy per process. The library
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
  // in the bundle, its own `require` (bin/load-bundle.cjs), which loads dist/cli/vendor/yaml.cjs with its code cache
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle's require, not Node's
  if (typeof OSV_BUNDLED_YAML === 'string') return require(OSV_BUNDLED_YAML) as typeof Yaml;
  return createRequire(import.meta.url)('yaml') as typeof Yaml;
}
