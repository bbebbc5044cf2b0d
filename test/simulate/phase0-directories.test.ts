/**
 * Phase 0 in directories mode on the rehearsal server, for each agent that renders it: the agent
 * applies 00-operator, the approval Job (run by the rehearsal's Job runner) approves the target
 * CSV's InstallPlan, OLM installs it, and only then does the next phase set the target version
 * (Argo CD: the next sync wave; Flux: the next Kustomization, which dependsOn 00-operator, itself
 * Ready once the Job completed and the Subscription reports the target CSV). An InstallPlan that
 * bundles another CSV makes the Job fail with the reason, and the chain stops at phase 0.
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

const ENGINES = [
  // measured 24-31 s in all (cluster start 8-12 s) on 2 shared cores
  { engine: 'argocd', refusedWithin: '30s', agentCause: undefined },
  // measured 31-40 s in all at load 7-11; Flux retries the failed phase (retryInterval), so the
  // stop may find 00-operator failed or re-applying
  { engine: 'flux', refusedWithin: '60s', agentCause: /Kustomization flux-system\/osv-[a-z0-9-]+-00-operator: (HealthCheckFailed|Progressing): / },
] as const;

describe.each(ENGINES)('simulate --mode directories from phase 0 ($engine)', ({ engine, refusedWithin, agentCause }) => {
  beforeAll(sealGitEnv);

  async function simulate(args: readonly string[]): Promise<{ exitCode: number; out: SimulateJson; stderr: string }> {
    const r = await runCli(['simulate', '--example', '--engine', engine, '--mode', 'directories', '--json', ...args], process.cwd());
    return { exitCode: r.exitCode, out: JSON.parse(r.stdout) as SimulateJson, stderr: r.stderr };
  }

  it('runs from the operator upgrade to complete, the operator gate before the first OpenStack phase', async () => {
    const { exitCode, out, stderr } = await simulate(['--timeout', '90s']);
    expect(exitCode, stderr + JSON.stringify(out.causes)).toBe(0);
    expect(out.end).toBe('done');
    const passed = out.timeline.filter((e) => e.kind === 'gate-passed').map((e) => e.phase);
    expect(passed[0]).toBe('operator');
    expect(passed.indexOf('operator')).toBeLessThan(passed.indexOf('ovn-controlplane'));
    expect(passed).toContain('complete');
  }, 150_000);

  it('an InstallPlan bundling another CSV: the approval Job fails with the reason and the chain stops at phase 0', async () => {
    const { exitCode, out } = await simulate(['--bundle-csv', 'cinder-operator.v1.2.0', '--timeout', refusedWithin]);
    expect(exitCode).toBe(3);
    expect(out.end).toBe('timeout');
    expect(out.status.phase).toBe('operator');
    expect(out.timeline.some((e) => e.kind === 'gate-passed' && e.phase === 'operator')).toBe(false);
    expect(out.causes.join('\n')).toMatch(/Job openstack-operators\/osv-approve-[a-z0-9-]+-00 failed: BackoffLimitExceeded: refused: InstallPlan install-[a-z0-9]+ would also install cinder-operator\.v1\.2\.0/);
    if (agentCause) expect(out.causes.join('\n')).toMatch(agentCause);
  }, 150_000);
});
