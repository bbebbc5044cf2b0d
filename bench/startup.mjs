#!/usr/bin/env node
// Start-up time of the CLI (issue 14), next to an empty `node -e ''`, the floor no command can go
// under. Run `npm run build` first (npm run bench does).
// - version:       `osv-gitops --version` (the bundle's entry and commander)
// - plan-example:  `osv-gitops plan --example` (the inputs and the planner, no cluster client, no cdk8s)
// - plan-json:     `osv-gitops plan --example --json`
// - status-files:  `osv-gitops status --example --from-files DUMP` on a dump of the example
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyExampleDump } from '../scripts/example-dump.mjs';
import { bin, header, measure, root, spawnTimed } from './timing.mjs';

/** A dump of the example as `status --from-files` reads it: the OpenStackVersion, the control plane, the nodesets. */
function exampleDump() {
  const dir = mkdtempSync(join(tmpdir(), 'osv-bench-startup-'));
  copyExampleDump(join(root, 'fixtures', 'example'), dir);
  return dir;
}

const dump = exampleDump();
const cases = [
  ["node -e ''", ['-e', '']],
  ['version', [bin, '--version']],
  ['plan-example', [bin, 'plan', '--example']],
  ['plan-json', [bin, 'plan', '--example', '--json']],
  ['status-files', [bin, 'status', '--example', '--from-files', dump, '--agent', 'none'], [0, 3]],
];

try {
  console.log(header('start-up, whole processes (ms)'));
  let floor;
  for (const [label, args, okCodes] of cases) {
    const m = measure((memory) => spawnTimed(process.execPath, args, { okCodes, memory }));
    floor ??= m.median;
    const over = floor === m.median && label === cases[0][0] ? '' : `  (+${(m.median - floor).toFixed(0)} over node)`;
    console.log(`${label.padEnd(14)} median ${m.median.toFixed(0).padStart(5)}  min ${m.min.toFixed(0).padStart(5)}  peak ${(m.mb ?? 0).toFixed(0)} MB${over}`);
  }
} finally {
  rmSync(dump, { recursive: true, force: true });
}
