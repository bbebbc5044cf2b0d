#!/usr/bin/env node
// Thin launcher: the CLI is an esbuild bundle in dist/cli/ (built by `npm run build`, which `npm ci`
// runs through the prepare script), loaded with the code cache the build made (load-bundle.js);
// dist/src/ is the library tsc compiles, with its types.
import { fileURLToPath } from 'node:url';
import { loadBundle } from './load-bundle.js';

await loadBundle(fileURLToPath(new URL('../dist/cli/cli.cjs', import.meta.url))).main(process.argv.slice(2));
