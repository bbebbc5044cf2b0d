#!/usr/bin/env node
// Thin launcher: the CLI is an esbuild bundle in dist/cli/ (built by `npm run build`, which `npm ci`
// runs through the prepare script), loaded with the code cache the build made (load-bundle.cjs);
// dist/src/ is the library tsc compiles, with its types. CommonJS, like the bundles: a command that
// loads no ES module never starts Node's ESM loader.
'use strict';
const { join } = require('node:path');

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // answered before the bundle loads (issue 14: start-up); src/cli/main.ts answers the same
  process.stdout.write(`${require('../package.json').version}\n`);
} else {
  require('./load-bundle.cjs').loadBundle(join(__dirname, '..', 'dist', 'cli', 'cli.cjs')).main(argv);
}
