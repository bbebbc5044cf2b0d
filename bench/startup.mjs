#!/usr/bin/env node
// Start-up time of the CLI (issue 14): whole processes, each command run BENCH_RUNS times (default 7)
// after one warm-up, printed as median and min next to an empty `node -e ''`, the floor no command
// can go under. Run `npm run build` first (npm run bench does).
// - version:       `osv-gitops --version` (loads commander and the flag definitions only)
// - plan-example:  `osv-gitops plan --example` (the inputs and the planner, no cluster client, no cdk8s)
// - plan-json:     `osv-gitops plan --example --json`
// - status-files:  `osv-gitops status --example --from-files DUMP` on a dump of the example
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'osv-gitops.js');
const runs = Number(process.env.BENCH_RUNS ?? 7);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Wall time of `node ARGS` in milliseconds; output is discarded, a failed run stops the benchmark. */
function once(args) {
  const t0 = process.hrtime.bigint();
  execFileSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** A dump of the example as `status --from-files` reads it: the OpenStackVersion, the control plane, the nodesets. */
function exampleDump() {
  const dir = mkdtempSync(join(tmpdir(), 'osv-bench-startup-'));
  const ex = join(root, 'fixtures', 'example');
  for (const f of ['openstackversion.yaml', 'controlplane.yaml']) copyFileSync(join(ex, f), join(dir, f));
  for (const f of readdirSync(join(ex, 'nodesets'))) copyFileSync(join(ex, 'nodesets', f), join(dir, `nodeset-${f}`));
  return dir;
}

const dump = exampleDump();
const cases = [
  ["node -e ''", ['-e', '']],
  ['version', [bin, '--version']],
  ['plan-example', [bin, 'plan', '--example']],
  ['plan-json', [bin, 'plan', '--example', '--json']],
  ['status-files', [bin, 'status', '--example', '--from-files', dump, '--agent', 'none']],
];

try {
  console.log(`start-up, whole processes, ${runs} runs after one warm-up (ms)`);
  let floor;
  for (const [label, args] of cases) {
    once(args);
    const samples = Array.from({ length: runs }, () => once(args));
    const med = median(samples);
    floor ??= med;
    const over = label === cases[0][0] ? '' : `  (+${(med - floor).toFixed(0)} over node)`;
    console.log(`${label.padEnd(14)} median ${med.toFixed(0).padStart(5)}  min ${Math.min(...samples).toFixed(0).padStart(5)}${over}`);
  }
} finally {
  rmSync(dump, { recursive: true, force: true });
}
