// Loads the CLI's CommonJS bundles (dist/cli/*.cjs, built by scripts/build.mjs) with the V8 code
// cache the build wrote beside each one (issue 14). Compiling the bundles is most of a command's
// start-up; with the cache, V8 takes the bytecode of every function the build's warm-up ran
// instead of parsing and compiling it again.
//
// A cache is used only when it was made from exactly this bundle: it starts with the SHA-256 of
// the source it was made from (V8 itself only compares the source's length). V8 rejects a cache of
// another Node version or other flags, and the bundle then compiles as usual. Nothing is written
// here: the caches are made by `npm run build` (scripts/code-cache.mjs), never at run time.
//
// CommonJS, as the launcher: a process that loads no ES module never starts Node's ESM loader.
'use strict';
const { isAscii } = require('node:buffer');
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { createRequire, Module } = require('node:module');
const { dirname, relative, resolve } = require('node:path');
const vm = require('node:vm');

const HASH_BYTES = 32;
/** A bundle runs as Node runs a CommonJS file: in a function of these parameters. */
const wrapBundle = (source) => `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
const packageRoot = resolve(__dirname, '..');

/**
 * The name a bundle's code carries in stack traces: `osv-gitops/` and its path in the package.
 * Node 20's V8 keeps the name a cache was made under, so it must not depend on where the package
 * sits (src/cli/source-stack.ts finds the file again).
 */
const scriptNameOf = (file) => `osv-gitops/${relative(packageRoot, file).split('\\').join('/')}`;

/** The scripts this process compiled, by file: scripts/code-cache.mjs writes their caches after its warm-up. */
const compiledScripts = new Map();

/** The code cache file of a bundle. */
const cacheFileOf = (file) => `${file}.v8-cache`;

/** The SHA-256 a cache file must start with to be used for the bundle `bytes`. */
const sourceHash = (bytes) => createHash('sha256').update(bytes).digest();

function cachedDataFor(file, hash) {
  let bytes;
  try {
    bytes = readFileSync(cacheFileOf(file));
  } catch {
    return undefined;
  }
  return bytes.length > HASH_BYTES && hash.equals(bytes.subarray(0, HASH_BYTES)) ? bytes.subarray(HASH_BYTES) : undefined;
}

/**
 * The exports of the CommonJS bundle `file` (an absolute path), loaded once per process. It is
 * entered in the require cache, so a `require` of the same file gets the same module. A relative
 * `.cjs` it requires (another bundle) is loaded the same way; anything else is Node's `require`.
 */
function loadBundle(file) {
  const known = require.cache[file];
  if (known) return known.exports;
  const bytes = readFileSync(file);
  const hash = sourceHash(bytes);
  // esbuild writes ASCII (the build warns when a bundle is not): read as such, without UTF-8's decoding
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  const script = new vm.Script(wrapBundle(source), {
    filename: scriptNameOf(file),
    cachedData: cachedDataFor(file, hash),
  });
  compiledScripts.set(file, { script, hash });
  const module = new Module(file);
  module.filename = file;
  require.cache[file] = module;
  const requireOfFile = createRequire(file);
  const bundleRequire = (id) => (id.startsWith('./') && id.endsWith('.cjs') ? loadBundle(resolve(dirname(file), id)) : requireOfFile(id));
  bundleRequire.cache = requireOfFile.cache;
  bundleRequire.resolve = requireOfFile.resolve;
  try {
    script.runInThisContext().call(module.exports, module.exports, bundleRequire, module, file, dirname(file));
    module.loaded = true;
  } catch (e) {
    delete require.cache[file];
    throw e;
  }
  return module.exports;
}

exports.cacheFileOf = cacheFileOf;
exports.compiledScripts = compiledScripts;
exports.loadBundle = loadBundle;
exports.scriptNameOf = scriptNameOf;
exports.sourceHash = sourceHash;
exports.wrapBundle = wrapBundle;
