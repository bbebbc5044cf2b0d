#!/usr/bin/env node
// Thin launcher: the CLI is one esbuild bundle in dist/cli/ (built by `npm run build`, which `npm ci`
// runs through the prepare script); dist/src/ is the library tsc compiles, with its types.
import { main } from '../dist/cli/cli.js';

await main(process.argv.slice(2));
