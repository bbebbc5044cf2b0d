#!/usr/bin/env node
// Thin launcher: the CLI is an esbuild bundle in dist/cli/ (built by `npm run build`, which `npm ci`
// runs through the prepare script), loaded with the code cache the build made (load-bundle.js);
// dist/src/ is the library tsc compiles, with its types.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBundle } from './load-bundle.js';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // answered before the bundle loads (issue 14: start-up); src/cli/main.ts answers the same
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  await loadBundle(fileURLToPath(new URL('../dist/cli/cli.cjs', import.meta.url))).main(argv);
}
