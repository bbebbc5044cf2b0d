// Which Node.js built dist/cli (scripts/build.mjs writes it last, the tests' ensureBuilt reads it):
// V8 takes a code cache only in the Node.js that made it, so after a switch of Node.js the bundles
// still run but compile again, and the test that holds them to their caches fails.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUILT_BY_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'built-by.json');

/** The Node.js and V8 of this process, as the file records them. */
export const builtBy = () => ({ node: process.version, v8: process.versions.v8 });
