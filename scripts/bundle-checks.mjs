// The build's checks of what goes into the CLI's bundles (scripts/build.mjs), pure so that tests
// can hand them sources and esbuild metafiles of their own.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every `.ts` file under `dir`, with its text: what `kubernetesClientNames` reads. */
export function typeScriptSources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? typeScriptSources(join(dir, e.name)) : e.name.endsWith('.ts') ? [{ file: join(dir, e.name), text: readFileSync(join(dir, e.name), 'utf8') }] : [],
  );
}

/**
 * What our code takes of the Kubernetes client: every `k8s.Name` in a source that imports it as
 * `import * as k8s`, among the names the client exports (`exported`; the rest are types or words
 * in strings). Its bundle holds only these, as the ES module build's tree-shaking did: the whole
 * client is 5.6 MB, evaluated on every load. Throws when a source takes the client another way,
 * since the names it uses would then be missed and fail only when that code runs.
 */
export function kubernetesClientNames(sources, exported) {
  const used = new Set();
  for (const { file, text } of sources) {
    if (!text.includes("'@kubernetes/client-node'")) continue;
    const other = /^import (?!type\b)(?!\* as \w+ from)[^;]*from '@kubernetes\/client-node'/m.exec(text);
    if (other) throw new Error(`build: ${file} imports the Kubernetes client as \`${other[0]}\`; import it as \`import * as k8s\` (its bundle is made of the k8s.Name it uses)`);
    const importLine = /^import \* as (\w+) from '@kubernetes\/client-node';?$/m.exec(text);
    if (!importLine) continue;
    const alias = importLine[1];
    const rest = text.replace(importLine[0], '');
    // the namespace handed on whole (`f(k8s)`, `const { X } = k8s`) would hide the names taken from it
    if (new RegExp(`\\b${alias}\\b(?!\\.)`).test(rest)) throw new Error(`build: ${file} uses \`${alias}\` other than as \`${alias}.Name\`; the client's bundle is made of the names used so`);
    for (const m of rest.matchAll(new RegExp(`\\b${alias}\\.([A-Za-z_$][\\w$]*)`, 'g'))) if (exported.has(m[1])) used.add(m[1]);
  }
  return [...used].sort();
}

/**
 * The bundles run as CommonJS scripts (bin/load-bundle.cjs) that have no `import()`: esbuild turns
 * the dynamic imports of bundled modules into lazy inits, but one of an external package would be
 * left as written, and fail when it runs. Throws naming the bundle and what it still imports so.
 */
export function checkNoDynamicImport(metafiles) {
  for (const metafile of metafiles) {
    for (const [file, output] of Object.entries(metafile.outputs)) {
      const left = output.imports.filter((i) => i.kind === 'dynamic-import');
      if (left.length) throw new Error(`build: ${file} keeps import() of ${left.map((i) => i.path).join(', ')}; import it statically in a module that is itself imported dynamically`);
    }
  }
}
