// Loads the CLI's CommonJS bundles (dist/cli/*.cjs, built by scripts/build.mjs) with the V8 code
// cache the build wrote beside each one (issue 14). Compiling the bundles is most of a command's
// start-up; with the cache, V8 takes the bytecode of every function the build's warm-up ran
// instead of parsing and compiling it again.
//
// A cache is used only when it was made from exactly this bundle: it starts with the SHA-256 of
// the source it was made from (V8 itself only compares the source's length). V8 rejects a cache of
// another Node version or other flags, and the bundle then compiles as usual. Nothing is written
// here: the caches are made by `npm run build` (scripts/code-cache.mjs), never at run time.
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const HASH_BYTES = 32;
const nativeRequire = createRequire(import.meta.url);
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The name a bundle's code carries in stack traces: `osv-gitops/` and its path in the package.
 * Node 20's V8 keeps the name a cache was made under, so it must not depend on where the package
 * sits (src/cli/source-stack.ts finds the file again).
 */
export const scriptNameOf = (file) => `osv-gitops/${relative(packageRoot, file).split('\\').join('/')}`;

/** The scripts this process compiled, by file: scripts/code-cache.mjs writes their caches after its warm-up. */
export const compiledScripts = new Map();

/** The code cache file of a bundle. */
export const cacheFileOf = (file) => `${file}.v8-cache`;

/** The SHA-256 a cache file must start with to be used for the bundle `bytes`. */
export const sourceHash = (bytes) => createHash('sha256').update(bytes).digest();

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
export function loadBundle(file) {
  const known = nativeRequire.cache[file];
  if (known) return known.exports;
  const bytes = readFileSync(file);
  const hash = sourceHash(bytes);
  // esbuild writes ASCII (the build checks it): read as such, without UTF-8's decoding
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  const script = new vm.Script(Module.wrap(source), {
    filename: scriptNameOf(file),
    cachedData: cachedDataFor(file, hash),
  });
  compiledScripts.set(file, { script, hash });
  const module = new Module(file);
  module.filename = file;
  nativeRequire.cache[file] = module;
  const requireOfFile = createRequire(file);
  const bundleRequire = (id) => (id.startsWith('./') && id.endsWith('.cjs') ? loadBundle(resolve(dirname(file), id)) : requireOfFile(id));
  bundleRequire.cache = requireOfFile.cache;
  bundleRequire.resolve = requireOfFile.resolve;
  try {
    script.runInThisContext().call(module.exports, module.exports, bundleRequire, module, file, dirname(file));
    module.loaded = true;
  } catch (e) {
    delete nativeRequire.cache[file];
    throw e;
  }
  return module.exports;
}
