/** The commands a user runs, against the rehearsal cluster through a kubeconfig file. */
import { beforeAll, describe, expect, it } from 'vitest';
import { startRehearsalCluster } from '../../src/simulate/rehearsal.js';
import { runCli } from '../helpers/cli.js';
import { sealGitEnv } from '../helpers/git-repo.js';
import { rehearsalInputs } from '../helpers/rehearsal.js';

describe('status, advance and watch against any kubeconfig', () => {
  beforeAll(sealGitEnv);

  it('advance commits, status reports, watch finishes the update; JSON contracts hold', async () => {
    const opts = rehearsalInputs('example', 'flux', 'commits');
    const cluster = await startRehearsalCluster(opts);
    try {
      const common = ['--example', '--repo', cluster.repo.work, '--kubeconfig', cluster.kubeconfigPath, '--agent', 'flux:flux-system/openstack', '--csv-namespace', 'openstack-operators'];
      const first = await runCli(['advance', ...common, '--json'], cluster.repo.work);
      expect(first.exitCode, first.stderr).toBe(0);
      const step = JSON.parse(first.stdout) as { outcome: string; committed: { phase: string } };
      expect(step).toMatchObject({ outcome: 'advanced', committed: { phase: 'ovn-controlplane' } });

      const st = await runCli(['status', ...common, '--json'], cluster.repo.work);
      expect(st.exitCode, st.stderr).toBe(0);
      const status = JSON.parse(st.stdout) as { target: string; phase: string; verdict: string; gates: { id: string; verdict: string; reason: string }[] };
      expect(status.target).toBe(opts.update.plan.versions.target);
      expect(status.gates.map((g) => g.id)).toEqual(opts.update.plan.phases.map((p) => p.id));
      expect(['waiting', 'passed']).toContain(status.verdict);

      const w = await runCli(['watch', ...common, '--json', '--timeout', '90s', '--resync', '2s'], cluster.repo.work);
      expect(w.exitCode, w.stderr + w.stdout).toBe(0);
      const lines = w.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; end?: string; commits?: { phase: string }[] });
      expect(lines.at(-1)).toMatchObject({ event: 'end', end: 'done' });
      expect(lines.at(-1)?.commits?.map((c) => c.phase)).toEqual(['ovn-dataplane', 'dataplane']);

      const done = await runCli(['status', ...common, '--exit-code'], cluster.repo.work);
      expect(done.exitCode).toBe(0);
      expect(done.stdout).toMatch(/complete — passed/);
      const again = await runCli(['advance', ...common], cluster.repo.work);
      expect(again.exitCode).toBe(0);
      expect(again.stdout).toMatch(/^done: update to .* complete/);
    } finally {
      await cluster.stop();
    }
  }, 150_000);

  it('refuses a kubeconfig context that does not exist, with exit 2 and nothing committed', async () => {
    const opts = rehearsalInputs('example', 'flux', 'commits');
    const cluster = await startRehearsalCluster(opts);
    try {
      const res = await runCli(['advance', '--example', '--repo', cluster.repo.work, '--kubeconfig', cluster.kubeconfigPath, '--context', 'nope'], cluster.repo.work);
      expect(res.exitCode).toBe(2);
      expect(res.stderr).toContain('error [CLUSTER_CONFIG]: context "nope" is not in the kubeconfig');
    } finally {
      await cluster.stop();
    }
  }, 60_000);

  it('simulate rehearses the example and prints the timeline as JSON; bad flags exit 2', async () => {
    const res = await runCli(['simulate', '--example', '--json', '--step-ms', '40', '--engine', 'argocd'], process.cwd());
    expect(res.exitCode, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { end: string; commits: { phase: string }[]; timeline: { kind: string; phase: string }[]; status: { phase: string } };
    expect(out.end).toBe('done');
    expect(out.status.phase).toBe('complete');
    // the example starts from phase 0: the operator upgrade through OLM, with the example's Subscription
    expect(out.commits.map((c) => c.phase)).toEqual(['operator', 'ovn-controlplane', 'ovn-dataplane', 'dataplane']);
    expect(out.timeline.filter((e) => e.kind === 'gate-passed').map((e) => e.phase)).toEqual(['operator', 'preflight', 'ovn-controlplane', 'ovn-dataplane', 'controlplane', 'dataplane', 'complete']);
    const bad = await runCli(['simulate', '--example', '--engine', 'jenkins'], process.cwd());
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('error [USAGE]: --engine must be flux or argocd');
  }, 120_000);
});
