// Loaded with `node --import`: records every module a CLI process loads into the file
// $OSV_RECORD_IMPORTS, one file URL or path a line. ESM resolutions are seen by a resolve hook
// (on the loader thread); CommonJS packages (cdk8s, fengari, anything loaded with require) are read
// from the require cache when the process exits.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

let out = process.env.OSV_RECORD_IMPORTS;

export function initialize(data) {
  out = data.out;
}

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(out, `${result.url}\n`);
  return result;
}

if (isMainThread && out) {
  register(import.meta.url, { data: { out } });
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => appendFileSync(out, Object.keys(cache).map((p) => `${p}\n`).join('')));
}
