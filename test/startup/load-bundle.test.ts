/**
 * The launcher's loader (bin/load-bundle.cjs): the CLI's bundles run from the V8 code cache the build
 * made, and a cache is used only for the very source it was made from.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_BY_FILE } from '../../scripts/built-by.mjs';
import { ensureBuilt } from '../safety/built-cli.js';
import { PROJECT_ROOT } from '../safety/sandbox.js';

const LOADER = join(PROJECT_ROOT, 'bin', 'load-bundle.cjs');
const work = mkdtempSync(join(tmpdir(), 'osv-load-bundle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `script` (an ES module) in a fresh Node process and returns what it printed. */
function node(script: string): Promise<string> {
  const file = join(work, `run-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [file], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
}

/** A cache file as the build writes it: the source's SHA-256, then V8's data for `dataSource`. */
async function cacheFor(file: string, hashedSource: string, dataSource: string): Promise<void> {
  const { sourceHash, cacheFileOf, scriptNameOf, wrapBundle } = (await import(pathToFileURL(LOADER).href)) as {
    sourceHash: (s: string) => Buffer;
    cacheFileOf: (f: string) => string;
    scriptNameOf: (f: string) => string;
    wrapBundle: (s: string) => string;
  };
  const script = new vm.Script(wrapBundle(dataSource), { filename: scriptNameOf(file) });
  writeFileSync(cacheFileOf(file), Buffer.concat([sourceHash(hashedSource), script.createCachedData()]));
}

describe('loading the CLI bundles with their code cache', () => {
  beforeAll(() => ensureBuilt(), 300_000);

  it('the built bundles take the cache the build wrote for them (V8 does not reject it)', async () => {
    const out = await node(`
      import { compiledScripts, loadBundle } from ${JSON.stringify(pathToFileURL(LOADER).href)};
      const cli = loadBundle(${JSON.stringify(join(PROJECT_ROOT, 'dist', 'cli', 'cli.cjs'))});
      await cli.run(['plan', '--example', '--json'], { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false });
      for (const [file, { script }] of compiledScripts) console.log(file.split('/dist/cli/')[1], script.cachedDataRejected);
    `);
    expect(out).toBe('cli.cjs false\n');
  });

  it('the build says which Node.js built it: ensureBuilt rebuilds dist/ for the tests of another', () => {
    expect(readFileSync(BUILT_BY_FILE, 'utf8')).toBe(`${JSON.stringify({ node: process.version, v8: process.versions.v8 })}\n`);
  });

  it('a cache made from another source of the same length is not used, though V8 itself would take it', async () => {
    const file = join(work, 'same-length.cjs');
    const used = "module.exports = 'new';";
    const stale = "module.exports = 'old';";
    expect(used.length).toBe(stale.length);
    writeFileSync(file, used);
    // the hash of the old source, with V8's data for it: what a rebuild that left the cache behind would leave
    await cacheFor(file, stale, stale);
    const out = await node(`
      import { compiledScripts, loadBundle } from ${JSON.stringify(pathToFileURL(LOADER).href)};
      console.log(loadBundle(${JSON.stringify(file)}), compiledScripts.get(${JSON.stringify(file)}).script.cachedDataRejected);
    `);
    // no cached data was offered at all (undefined), and the new source ran
    expect(out).toBe('new undefined\n');
  });

  it('a cache whose hash matches is offered to V8, and the source it came from runs', async () => {
    const file = join(work, 'matching.cjs');
    const source = "module.exports = require('./helper.cjs').twice(21);";
    writeFileSync(file, source);
    writeFileSync(join(work, 'helper.cjs'), 'exports.twice = (n) => n * 2;');
    await cacheFor(file, source, source);
    const out = await node(`
      import { compiledScripts, loadBundle } from ${JSON.stringify(pathToFileURL(LOADER).href)};
      import { createRequire } from 'node:module';
      const first = loadBundle(${JSON.stringify(file)});
      const again = createRequire(import.meta.url)(${JSON.stringify(file)});
      console.log(first, again, compiledScripts.get(${JSON.stringify(file)}).script.cachedDataRejected, [...compiledScripts.keys()].length);
    `);
    // loaded once (Node's require gets the same module), the helper it required through the loader too
    expect(out).toBe('42 42 false 2\n');
  });

  it('a cache file cut short or of another Node is ignored: the bundle compiles as usual', async () => {
    const file = join(work, 'broken.cjs');
    writeFileSync(file, 'module.exports = 7;');
    const { cacheFileOf } = (await import(pathToFileURL(LOADER).href)) as { cacheFileOf: (f: string) => string };
    writeFileSync(cacheFileOf(file), Buffer.from('short'));
    const other = join(work, 'other-node.cjs');
    writeFileSync(other, 'module.exports = 8;');
    await cacheFor(other, 'module.exports = 8;', 'module.exports = 8;');
    const cache = readFileSync(cacheFileOf(other));
    // V8's header (after our 32-byte hash) starts with its magic number and version hash: spoil the version
    cache[32 + 4] = cache[32 + 4]! ^ 0xff;
    writeFileSync(cacheFileOf(other), cache);
    const out = await node(`
      import { compiledScripts, loadBundle } from ${JSON.stringify(pathToFileURL(LOADER).href)};
      console.log(loadBundle(${JSON.stringify(file)}), loadBundle(${JSON.stringify(other)}), compiledScripts.get(${JSON.stringify(other)}).script.cachedDataRejected);
    `);
    expect(out).toBe('7 8 true\n');
  });

  it('an error while a bundle loads leaves it out of the require cache, so it is not taken half-loaded', async () => {
    const file = join(work, 'throws.cjs');
    writeFileSync(file, "exports.partial = true; throw new Error('boom');");
    const out = await node(`
      import { loadBundle } from ${JSON.stringify(pathToFileURL(LOADER).href)};
      for (let i = 0; i < 2; i++) { try { loadBundle(${JSON.stringify(file)}); console.log('loaded'); } catch (e) { console.log(e.message); } }
    `);
    expect(out).toBe('boom\nboom\n');
  });
});
