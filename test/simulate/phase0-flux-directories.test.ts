/**
 * Phase 0 in directories mode on the rehearsal server (Flux): the 00-operator Kustomization applies
 * the pinned Subscription and the approval Job (run by the rehearsal's Job runner), waits for the
 * Job to complete and the Subscription to report the target CSV, and only then does the next
 * Kustomization (dependsOn) set the target version; an InstallPlan that bundles another CSV makes
 * the Job fail with the reason, and the chain stops at phase 0.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { sealGitEnv } from '../helpers/git-repo.js';

interface SimulateJson {
  readonly end: string;
  readonly causes: readonly string[];
  readonly timeline: readonly { readonly kind: string; readonly phase: string; readonly text: string }[];
  readonly status: { readonly phase: string };
}

async function simulate(args: readonly string[]): Promise<{ exitCode: number; out: SimulateJson; stderr: string }> {
  const r = await runCli(['simulate', '--example', '--engine', 'flux', '--mode', 'directories', '--json', ...args], process.cwd());
  return { exitCode: r.exitCode, out: JSON.parse(r.stdout) as SimulateJson, stderr: r.stderr };
}

describe('simulate --mode directories from phase 0 (flux)', () => {
  beforeAll(sealGitEnv);

  it('runs from the operator upgrade to complete, the operator gate before the first OpenStack phase', async () => {
    const { exitCode, out, stderr } = await simulate(['--timeout', '90s']);
    expect(exitCode, stderr + JSON.stringify(out.causes)).toBe(0);
    expect(out.end).toBe('done');
    const passed = out.timeline.filter((e) => e.kind === 'gate-passed').map((e) => e.phase);
    expect(passed[0]).toBe('operator');
    expect(passed.indexOf('operator')).toBeLessThan(passed.indexOf('ovn-controlplane'));
    expect(passed).toContain('complete');
    // measured 31-40 s in all (cluster start included) on 2 shared cores, load 7-11
  }, 150_000);

  it('an InstallPlan bundling another CSV: the approval Job fails with the reason and the chain stops at phase 0', async () => {
    const { exitCode, out } = await simulate(['--bundle-csv', 'cinder-operator.v1.2.0', '--timeout', '60s']);
    expect(exitCode).toBe(3);
    expect(out.end).toBe('timeout');
    expect(out.status.phase).toBe('operator');
    expect(out.timeline.some((e) => e.kind === 'gate-passed' && e.phase === 'operator')).toBe(false);
    expect(out.causes.join('\n')).toMatch(/Job openstack-operators\/osv-approve-[a-z0-9-]+-00 failed: BackoffLimitExceeded: refused: InstallPlan install-[a-z0-9]+ would also install cinder-operator\.v1\.2\.0/);
    // Flux retries the failed phase (retryInterval): the stop may find it failed or re-applying
    expect(out.causes.join('\n')).toMatch(/Kustomization flux-system\/osv-[a-z0-9-]+-00-operator: (HealthCheckFailed|Progressing): /);
  }, 150_000);
});
