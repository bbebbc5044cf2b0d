/** `status --from-files`: where is the update, from a must-gather, with no cluster and no repository. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { exampleDir, loadUpdate } from '../../src/cli/inputs.js';
import { runCli } from '../helpers/cli.js';
import { newRepo, sealGitEnv, TEST_DATE } from '../helpers/git-repo.js';
import { cond } from '../helpers/snapshots.js';

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const plan = loadUpdate({ example: true }, io).plan;
const T = plan.versions.target;

/** A dump of the example mid-update: target set, OVN control plane done, OVN deployment running. */
function mustGather(opts: { stale?: boolean; withDeployment?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'osv-mg-'));
  mkdirSync(join(dir, 'namespaces', 'openstack'), { recursive: true });
  const osv = parse(readFileSync(join(exampleDir(), 'openstackversion.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  osv['spec']!['targetVersion'] = T;
  osv['metadata']!['generation'] = 5;
  const status = osv['status']!;
  status['observedGeneration'] = opts.stale ? 4 : 5;
  status['availableVersion'] = T;
  status['conditions'] = [cond('MinorUpdateOVNControlplane', 'True'), cond('MinorUpdateOVNDataplane', 'False'), cond('Ready', 'False')];
  const cp = parse(readFileSync(join(exampleDir(), 'controlplane.yaml'), 'utf8')) as Record<string, unknown>;
  const list = { apiVersion: 'v1', kind: 'List', items: [osv, cp] };
  // any file names, a List, a multi-document file and an unrelated log next to them
  writeFileSync(join(dir, 'namespaces', 'openstack', 'core.txt'), stringify(list));
  const nodesets = ['compute-a', 'compute-b'].map((n) => readFileSync(join(exampleDir(), 'nodesets', `${n}.yaml`), 'utf8'));
  writeFileSync(join(dir, 'namespaces', 'openstack', 'nodesets'), nodesets.join('\n---\n'));
  writeFileSync(join(dir, 'operator.log'), 'I1125 10:00:00 reconcile: {not yaml: [\n');
  if (opts.withDeployment !== false) {
    const name = plan.phases.find((p) => p.id === 'ovn-dataplane')!.git.deployments[0]!.name;
    writeFileSync(
      join(dir, 'namespaces', 'openstack', 'deployments.yaml'),
      stringify({ apiVersion: 'dataplane.openstack.org/v1beta1', kind: 'OpenStackDataPlaneDeployment', metadata: { name, namespace: 'openstack', generation: 1, creationTimestamp: '2026-11-25T10:00:00Z' }, spec: { nodeSets: ['compute-a'] }, status: { observedGeneration: 1, deployed: false, conditions: [cond('Ready', 'False'), cond('DeploymentReady', 'False')] } }),
    );
  }
  return dir;
}

describe('status --from-files', () => {
  it('finds the phase from the dump alone and says what it waits for', async () => {
    const dir = mustGather();
    const res = await runCli(['status', '--from-files', dir, '--agent', 'none', '--json'], dir);
    expect(res.exitCode, res.stderr).toBe(0);
    const s = JSON.parse(res.stdout) as { target: string; phase: string; verdict: string; gates: { id: string; verdict: string; reason: string }[]; progressFrom: string };
    expect(s.target).toBe(T);
    expect(s.progressFrom).toBe('cluster');
    expect(s.phase).toBe('ovn-dataplane');
    expect(s.verdict).toBe('waiting');
    expect(s.gates.find((g) => g.id === 'ovn-controlplane')?.verdict).toBe('passed');
    expect(s.gates.find((g) => g.id === 'ovn-dataplane')?.reason).toContain('DeploymentReady=False');
  });

  it('does not count a True condition on a stale generation', async () => {
    const dir = mustGather({ stale: true, withDeployment: false });
    const res = await runCli(['status', '--from-files', dir, '--agent', 'none', '--json'], dir);
    const s = JSON.parse(res.stdout) as { phase: string; gates: { id: string; reason: string }[] };
    expect(s.phase).toBe('ovn-controlplane');
    expect(s.gates.find((g) => g.id === 'ovn-controlplane')?.reason).toMatch(/generation is 5, but latest observed generation is 4/);
  });

  it('reports a missing agent object as not checked, never passed', async () => {
    sealGitEnv();
    const dir = mustGather();
    const repo = newRepo();
    const committed = await runCli(['commit', '--example', '--repo', repo.work, '--phase', '2', '--date', TEST_DATE], repo.work);
    expect(committed.exitCode, committed.stderr).toBe(0);
    const res = await runCli(['status', '--example', '--from-files', dir, '--agent', 'flux:flux-system/openstack', '--repo', repo.work, '--json'], dir);
    expect(res.exitCode, res.stderr).toBe(0);
    const s = JSON.parse(res.stdout) as { phase: string; verdict: string; reason: string; gates: { id: string; verdict: string; checks?: { state: string; detail: string }[] }[] };
    expect(s.phase).toBe('ovn-dataplane');
    expect(s.verdict).toBe('waiting');
    const agentCheck = s.gates.find((g) => g.id === 'ovn-dataplane')?.checks?.find((c) => c.detail.includes('Kustomization'));
    expect(agentCheck).toEqual({ check: { kind: 'agent-applied' }, text: expect.any(String), state: 'unchecked', detail: 'Kustomization flux-system/openstack not found' });
  });

  it('prints a readable table and names what was not read', async () => {
    const dir = mustGather();
    const res = await runCli(['status', '--from-files', dir, '--agent', 'none'], dir);
    expect(res.stdout).toMatch(/phase 2 of 5: ovn-dataplane — waiting/);
    expect(res.stdout).toContain('Control plane steps');
    expect(res.stdout).toContain('not read (reported as not checked): ClusterServiceVersion');
  });

  it('refuses a folder without an OpenStackVersion with a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'osv-mg-empty-'));
    const res = await runCli(['status', '--from-files', dir], dir);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('error [STATUS_NOT_FOUND]');
  });
});
