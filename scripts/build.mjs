#!/usr/bin/env node
// `npm run build`: tsc compiles dist/src (the library and its types), then the CLI is bundled.
// tsc still emits when it reports type errors; the bundle is built anyway and the exit code is tsc's.
//
// The CLI as one esbuild ESM bundle (issue 14): start-up reads a few files instead of walking the
// hundreds of ESM modules tsc emits. Code splitting keeps every command's action in chunks of its
// own, loaded by the dynamic imports in src/cli/commands.ts. `dist/src` (tsc) stays the library.
// - bundled: our code, the small pure-JS packages every command loads (commander, yaml, semver),
//   cdk8s and constructs (render: ~40 CommonJS files resolved and read one by one), and the
//   Kubernetes client: its ESM build is ~1,900 files, and walking them cost advance 2 s
// - external: packages that read files beside themselves, load native or optional bits, or are
//   heavy and loaded by a few commands only
// dist/cli/packages.json names the packages bundled into each chunk: the startup test watches heavy
// packages by name, bundled or not.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const BUNDLED = new Set(['commander', 'yaml', 'semver', '@kubernetes/client-node', 'cdk8s', 'constructs']);
const external = Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d));
const YAML_ENTRY = 'chunks/yaml';

/**
 * cdk8s requires its own copy of `yaml` when it loads, for `Yaml` and `App.synth`, which render
 * never calls (it writes YAML itself): ~35 ms of every render. Its `require('yaml')` gets a
 * stand-in for the one `yaml` of the bundle (src/inputs/full-yaml.ts), loaded on first use. cdk8s
 * pins the same version; the build stops if that ever changes.
 */
const cdk8sYamlOnDemand = {
  name: 'cdk8s-yaml-on-demand',
  setup(b) {
    const version = (dir) => JSON.parse(readFileSync(join(dir, 'yaml', 'package.json'), 'utf8')).version;
    const pinned = version(join(root, 'node_modules', 'cdk8s', 'node_modules'));
    const ours = version(join(root, 'node_modules'));
    if (pinned !== ours) throw new Error(`build: cdk8s pins yaml ${pinned}, the project has ${ours}: the stand-in would swap versions`);
    const fromCdk8s = (args) => /node_modules\/cdk8s\//.test(args.importer) && args.namespace === 'file';
    b.onResolve({ filter: /^yaml$/ }, (args) => (fromCdk8s(args) ? { path: 'yaml', namespace: 'osv-on-demand' } : undefined));
    // every property read goes to fullYaml(), which loads the package the first time
    const contents = [
      `const { fullYaml } = require(${JSON.stringify(join(root, 'src', 'inputs', 'full-yaml.ts'))});`,
      'module.exports = new Proxy({}, {',
      "  get: (_, k) => (k === '__esModule' ? true : fullYaml()[k]),",
      '  has: (_, k) => k in fullYaml(),',
      '  ownKeys: () => Reflect.ownKeys(fullYaml()),',
      '  getOwnPropertyDescriptor: (_, k) => Reflect.getOwnPropertyDescriptor(fullYaml(), k),',
      '});',
    ].join('\n');
    b.onLoad({ filter: /.*/, namespace: 'osv-on-demand' }, () => ({ resolveDir: root, loader: 'js', contents }));
  },
};

let started = Date.now();
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
console.log(`build: tsc ${tsc.status === 0 ? 'compiled' : 'failed, emitted'} dist/src in ${((Date.now() - started) / 1000).toFixed(1)} s`);

started = Date.now();
// esbuild never removes chunks of earlier builds (their names carry a hash): they would pile up in
// dist/cli/chunks and be packed. Only the bundle's own folder goes; dist/src is tsc's.
rmSync(join(root, 'dist', 'cli'), { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  // chunks/yaml.js: `yaml` for src/inputs/full-yaml.ts, which requires it on first use (beside it in
  // chunks/); it shares the chunk of `yaml` with every static importer
  entryPoints: { cli: 'src/cli/main.ts', [YAML_ENTRY]: 'src/inputs/full-yaml-entry.ts' },
  define: {
    OSV_BUNDLED_YAML: JSON.stringify(`./${basename(YAML_ENTRY)}.js`),
    // the fast YAML writer's 1.1 tests as JSON text (a string is inlined where used; an array
    // would be a module of its own that every chunk initializes), asked of `yaml` here, not in every render
    OSV_YAML11_PLAIN_TESTS: JSON.stringify(JSON.stringify(await yaml11PlainTests())),
  },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  external: external.flatMap((d) => [d, `${d}/*`]),
  plugins: [cdk8sYamlOnDemand],
  // the bundled CommonJS packages require node's own modules; an ESM bundle has no `require`
  banner: { js: "import { createRequire as __osvCreateRequire } from 'node:module'; const require = __osvCreateRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  // whitespace and syntax only (names stay, for stack traces): less to read and parse at start-up
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
});
checkYamlEntryBeside(result.metafile);
writeFileSync(join(root, 'dist', 'cli', 'packages.json'), JSON.stringify(packagesByChunk(result.metafile), null, 1) + '\n');
console.log(`build: esbuild bundled dist/cli in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = tsc.status ?? 1;

/** src/render/plain-yaml-out.ts's `yaml11PlainTests()`, from the library tsc just compiled. */
async function yaml11PlainTests() {
  const lib = await import(pathToFileURL(join(root, 'dist', 'src', 'render', 'plain-yaml-out.js')).href);
  return lib.yaml11PlainTests();
}

/** Each output chunk (path under dist/cli/) with the npm packages bundled into it, sorted. */
function packagesByChunk(metafile) {
  const out = {};
  for (const [file, output] of Object.entries(metafile.outputs)) {
    const names = new Set();
    for (const input of Object.keys(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input);
      if (m) names.add(m[1]);
    }
    if (names.size) out[file.replace(/^dist\/cli\//, '')] = [...names].sort();
  }
  return out;
}

/** full-yaml.ts requires `./yaml.js` relative to its own chunk: it must land in chunks/, beside the entry. */
function checkYamlEntryBeside(metafile) {
  const dir = `dist/cli/${dirname(YAML_ENTRY)}/`;
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if ('src/inputs/full-yaml.ts' in output.inputs && !(file.startsWith(dir) && !file.slice(dir.length).includes('/'))) {
      throw new Error(`build: src/inputs/full-yaml.ts landed in ${file}, not beside ${YAML_ENTRY}.js; it could not find it there`);
    }
  }
}
