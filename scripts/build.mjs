#!/usr/bin/env node
// `npm run build`: tsc compiles dist/src (the library and its types), then the CLI is bundled.
// tsc still emits when it reports type errors; the bundle is built anyway and the exit code is tsc's.
//
// The CLI as esbuild CommonJS bundles, each loaded with a V8 code cache (issue 14): start-up reads
// a few files, and V8 takes the bytecode the build's warm-up compiled instead of compiling again
// (bin/load-bundle.cjs; Node 20 has no code cache for ES modules). `dist/src` (tsc) stays the library.
// - dist/cli/cli.cjs: our code with commander and semver; each command's action is initialized
//   only when it runs (esbuild turns the dynamic imports of src/cli/commands.ts into lazy inits)
// - dist/cli/vendor/*.cjs: the heavy packages a few commands load, one bundle each, required from
//   cli.cjs when first needed: the Kubernetes client (its ESM build is ~1,900 files, and walking
//   them cost advance 2 s), cdk8s and constructs (~40 CommonJS files), and yaml
// - external: packages that read files beside themselves, load native or optional bits, or are
//   heavy and loaded by a few commands only
// dist/cli/packages.json names the packages bundled into each file: the startup test watches heavy
// packages by name, bundled or not.
import { isAscii } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUILT_BY_FILE, builtBy } from './built-by.mjs';
import { checkNoDynamicImport, kubernetesClientNames, typeScriptSources } from './bundle-checks.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** Packages bundled into cli.cjs. */
const BUNDLED = new Set(['commander', 'semver']);
/** Packages bundled alone, each into dist/cli/vendor/<file>.cjs. */
const VENDOR = { '@kubernetes/client-node': 'kubernetes-client-node', cdk8s: 'cdk8s', constructs: 'constructs', yaml: 'yaml' };
const external = Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d) && !(d in VENDOR));

/**
 * Imports of the vendor packages become requires of their bundles (`prefix` + file + `.cjs`,
 * relative to the bundle being built), and such a require stays as written. `own` is the package a
 * vendor bundle is made of: its imports of itself are bundled.
 */
const vendorBundles = (prefix, own) => ({
  name: 'vendor-bundles',
  setup(b) {
    b.onResolve({ filter: /^\.\/(vendor\/)?[\w-]+\.cjs$/ }, (args) => ({ path: args.path, external: true }));
    for (const [name, file] of Object.entries(VENDOR)) {
      if (name === own) continue;
      const escaped = name.replace(/[/.]/g, (c) => `\\${c}`);
      b.onResolve({ filter: new RegExp(`^${escaped}$`) }, () => ({ path: `${prefix}${file}.cjs`, external: true }));
    }
  },
});

/**
 * cdk8s requires its own copy of `yaml` when it loads, for `Yaml` and `App.synth`, which render
 * never calls (it writes YAML itself): ~35 ms of every render. Its `require('yaml')` gets a
 * stand-in for vendor/yaml.cjs, the one `yaml` of the CLI, loaded on first use. cdk8s pins the
 * same version; the build stops if that ever changes.
 */
const cdk8sYamlOnDemand = {
  name: 'cdk8s-yaml-on-demand',
  setup(b) {
    const version = (dir) => JSON.parse(readFileSync(join(dir, 'yaml', 'package.json'), 'utf8')).version;
    const pinned = version(join(root, 'node_modules', 'cdk8s', 'node_modules'));
    const ours = version(join(root, 'node_modules'));
    if (pinned !== ours) throw new Error(`build: cdk8s pins yaml ${pinned}, the project has ${ours}: the stand-in would swap versions`);
    b.onResolve({ filter: /^yaml$/ }, () => ({ path: 'yaml', namespace: 'osv-on-demand' }));
    // every property read goes to the bundle of yaml, required the first time
    const contents = [
      `const yaml = () => require('./${VENDOR.yaml}.cjs');`,
      'module.exports = new Proxy({}, {',
      "  get: (_, k) => (k === '__esModule' ? true : yaml()[k]),",
      '  has: (_, k) => k in yaml(),',
      '  ownKeys: () => Reflect.ownKeys(yaml()),',
      '  getOwnPropertyDescriptor: (_, k) => Reflect.getOwnPropertyDescriptor(yaml(), k),',
      '});',
    ].join('\n');
    b.onLoad({ filter: /.*/, namespace: 'osv-on-demand' }, () => ({ resolveDir: root, loader: 'js', contents }));
  },
};

/**
 * A vendor package's bundle: the package's CommonJS face, as `require(name)` gives it, or only the
 * `names` it exports: the rest is left out of the bundle.
 */
const vendorEntry = (name, names) => ({
  name: 'vendor-entry',
  setup(b) {
    const contents = names ? `export { ${names.join(', ')} } from ${JSON.stringify(name)};` : `module.exports = require(${JSON.stringify(name)});`;
    b.onResolve({ filter: /^osv-vendor-entry$/ }, () => ({ path: name, namespace: 'osv-vendor-entry' }));
    b.onLoad({ filter: /.*/, namespace: 'osv-vendor-entry' }, () => ({ resolveDir: root, loader: 'js', contents }));
  },
});

/** `kubernetesClientNames` of the sources under src/, among the names the client exports. */
async function clientNamesOfSources() {
  const exported = new Set(Object.keys(await import('@kubernetes/client-node')));
  return kubernetesClientNames(typeScriptSources(join(root, 'src')), exported);
}

/** What every bundle shares: CommonJS for Node 20, whitespace and syntax minified (names stay, for stack traces). */
const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.19',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
};

let started = Date.now();
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
console.log(`build: tsc ${tsc.status === 0 ? 'compiled' : 'failed, emitted'} dist/src in ${((Date.now() - started) / 1000).toFixed(1)} s`);

started = Date.now();
// a new build starts from an empty folder: no file (or code cache) of an earlier build is left to
// be packed. Only the bundles' own folder goes; dist/src is tsc's.
rmSync(join(root, 'dist', 'cli'), { recursive: true, force: true });
const clientNames = await clientNamesOfSources();
const results = await Promise.all([
  build({
    ...common,
    entryPoints: { cli: 'src/cli/main.ts' },
    define: {
      'import.meta.url': '__osvModuleUrl',
      OSV_BUNDLED_YAML: JSON.stringify(`./vendor/${VENDOR.yaml}.cjs`),
      // the fast YAML writer's 1.1 tests as JSON text (a string is inlined where used), asked of
      // `yaml` here, not in every render
      OSV_YAML11_PLAIN_TESTS: JSON.stringify(JSON.stringify(await yaml11PlainTests())),
    },
    // our sources are ES modules that read import.meta.url (to find the package's files)
    banner: { js: "const __osvModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
    outdir: 'dist/cli',
    outExtension: { '.js': '.cjs' },
    external: external.flatMap((d) => [d, `${d}/*`]),
    plugins: [vendorBundles('./vendor/')],
  }),
  ...Object.entries(VENDOR).map(([name, file]) =>
    build({
      ...common,
      entryPoints: { [`vendor/${file}`]: 'osv-vendor-entry' },
      outdir: 'dist/cli',
      outExtension: { '.js': '.cjs' },
      // the stand-in of yaml first: vendorBundles would make cdk8s require vendor/yaml.cjs as it loads
      plugins: [...(name === 'cdk8s' ? [cdk8sYamlOnDemand] : []), vendorEntry(name, name === '@kubernetes/client-node' ? clientNames : undefined), vendorBundles('./', name)],
    }),
  ),
]);
checkNoDynamicImport(results.map((r) => r.metafile));
warnIfNotAscii(results.map((r) => r.metafile));
writeFileSync(join(root, 'dist', 'cli', 'packages.json'), JSON.stringify(packagesByFile(results.map((r) => r.metafile)), null, 1) + '\n');
console.log(`build: esbuild bundled dist/cli in ${((Date.now() - started) / 1000).toFixed(1)} s`);

started = Date.now();
const warm = spawnSync(process.execPath, [join(root, 'scripts', 'code-cache.mjs')], { cwd: root, stdio: 'inherit' });
console.log(`build: code caches ${warm.status === 0 ? 'written' : 'not written (the CLI runs without them)'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
writeFileSync(BUILT_BY_FILE, `${JSON.stringify(builtBy())}\n`);
process.exitCode = tsc.status ?? 1;

/** src/render/plain-yaml-out.ts's `yaml11PlainTests()`, from the library tsc just compiled. */
async function yaml11PlainTests() {
  const lib = await import(pathToFileURL(join(root, 'dist', 'src', 'render', 'plain-yaml-out.js')).href);
  return lib.yaml11PlainTests();
}

/** bin/load-bundle.cjs reads an ASCII bundle without decoding UTF-8 (esbuild escapes non-ASCII text, but not in every regex). */
function warnIfNotAscii(metafiles) {
  for (const file of metafiles.flatMap((m) => Object.keys(m.outputs)).filter((f) => f.endsWith('.cjs'))) {
    if (!isAscii(readFileSync(join(root, file)))) console.log(`build: ${file} is not ASCII: it loads a little slower (write the character as an escape in the source)`);
  }
}

/** Each output file (path under dist/cli/) with the npm packages bundled into it, sorted. */
function packagesByFile(metafiles) {
  const out = {};
  for (const metafile of metafiles) {
    for (const [file, output] of Object.entries(metafile.outputs)) {
      const names = new Set();
      for (const input of Object.keys(output.inputs)) {
        const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input);
        if (m) names.add(m[1]);
      }
      if (names.size) out[file.replace(/^dist\/cli\//, '')] = [...names].sort();
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}
