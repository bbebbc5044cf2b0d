/** advance against real temporary repositories and a bare remote, with scripted cluster snapshots. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { advanceOnce } from '../../src/advance/advance.js';
import { loadUpdate } from '../../src/cli/inputs.js';
import type { ClusterSnapshot } from '../../src/status/snapshot.js';
import { newRepo, otherClone, sealGitEnv, sh, TEST_DATE } from '../helpers/git-repo.js';
import { clusterAt } from '../helpers/snapshots.js';

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const update = loadUpdate({ example: true }, io);
const plan = update.plan;
const before = clusterAt(plan, { targetApplied: false, trueConditions: [] });

function opts(work: string, snapshot: () => ClusterSnapshot, extra: Partial<Parameters<typeof advanceOnce>[1]> = {}) {
  return { repo: work, engine: 'flux' as const, remote: 'origin', date: TEST_DATE, readSnapshot: async () => snapshot(), ...extra };
}

const phaseCommits = (dir: string, ref = 'HEAD') =>
  sh(dir, 'log', '--format=%(trailers:key=Osv-Update-Phase,valueonly)', ref)
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);

describe('advance', () => {
  beforeAll(sealGitEnv);

  it('commits and pushes the first phase once preflight passes, then waits without a second commit', async () => {
    const r = newRepo();
    const first = await advanceOnce(update, opts(r.work, () => before));
    expect(first.outcome).toBe('advanced');
    expect(first.committed?.phase).toBe('ovn-controlplane');
    expect(sh(r.bare, 'rev-parse', 'main')).toBe(sh(r.work, 'rev-parse', 'HEAD'));
    const again = await advanceOnce(update, opts(r.work, () => before));
    expect(again.outcome).toBe('waiting');
    expect(again.exitCode).toBe(3);
    expect(again.status.reason).toContain("the agent's applied revision");
    expect(phaseCommits(r.work)).toEqual(['1 ovn-controlplane']);
  });

  it('refuses its first commit when the live OpenStackVersion is applied by another agent, and leaves the repository as it was', async () => {
    const r = newRepo();
    const headBefore = sh(r.work, 'rev-parse', 'HEAD');
    const osv = before.openStackVersions[0]!;
    const metadata = { ...(osv.metadata as object), labels: { 'kustomize.toolkit.fluxcd.io/name': 'user-openstack', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } };
    const owned: ClusterSnapshot = { ...before, openStackVersions: [{ ...osv, metadata }] };
    await expect(advanceOnce(update, opts(r.work, () => owned))).rejects.toMatchObject({ code: 'SECOND_OWNER', message: expect.stringContaining('Kustomization flux-system/user-openstack') });
    expect(sh(r.work, 'rev-parse', 'HEAD')).toBe(headBefore);
    expect(sh(r.work, 'status', '--porcelain')).toBe('');
    // marked by the agent our commits go through: that is one owner
    const ours: ClusterSnapshot = { ...before, openStackVersions: [{ ...osv, metadata: { ...metadata, labels: { 'kustomize.toolkit.fluxcd.io/name': 'openstack', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } } }] };
    expect((await advanceOnce(update, opts(r.work, () => ours))).outcome).toBe('advanced');
  });

  it('moves on only when the agent applied our commit and the condition holds on a fresh object', async () => {
    const r = newRepo();
    await advanceOnce(update, opts(r.work, () => before));
    const sha = sh(r.work, 'rev-parse', 'HEAD').trim();
    // the condition is still True from the last update, but the operator has not seen our generation
    const stale = clusterAt(plan, { targetApplied: false, trueConditions: ['MinorUpdateOVNControlplane'], agentSha: sha });
    expect((await advanceOnce(update, opts(r.work, () => stale))).outcome).toBe('waiting');
    const ready = clusterAt(plan, { targetApplied: true, trueConditions: ['MinorUpdateOVNControlplane'], agentSha: sha });
    const next = await advanceOnce(update, opts(r.work, () => ready));
    expect(next.outcome).toBe('advanced');
    expect(next.committed?.phase).toBe('ovn-dataplane');
  });

  it('after a crash between commit and push, the next run pushes the same commit and makes no new one', async () => {
    const r = newRepo();
    await expect(advanceOnce(update, opts(r.work, () => before, { afterCommit: () => Promise.reject(new Error('killed')) }))).rejects.toThrow('killed');
    const local = sh(r.work, 'rev-parse', 'HEAD').trim();
    expect(sh(r.bare, 'rev-parse', 'main').trim()).not.toBe(local);
    const resumed = await advanceOnce(update, opts(r.work, () => before));
    expect(resumed.pushed).toBe(1);
    expect(resumed.outcome).toBe('waiting');
    expect(sh(r.bare, 'rev-parse', 'main').trim()).toBe(local);
    expect(phaseCommits(r.work)).toEqual(['1 ovn-controlplane']);
  });

  it('a push rejected because the remote moved is fetched, re-checked and retried', async () => {
    const r = newRepo();
    const other = otherClone(r);
    let raced = false;
    const lines: string[] = [];
    const res = await advanceOnce(
      update,
      opts(r.work, () => before, {
        log: (l) => lines.push(l),
        afterCommit: async () => {
          if (raced) return;
          raced = true;
          writeFileSync(join(other, 'other.txt'), 'someone else\n');
          sh(other, 'add', 'other.txt');
          sh(other, '-c', 'user.name=o', '-c', 'user.email=o@example.invalid', 'commit', '--quiet', '-m', 'unrelated change');
          sh(other, 'push', '--quiet', 'origin', 'main');
        },
      }),
    );
    expect(res.outcome).toBe('advanced');
    expect(lines.join('\n')).toMatch(/push rejected: the remote moved/);
    expect(phaseCommits(r.bare, 'main')).toEqual(['1 ovn-controlplane']);
    expect(sh(r.bare, 'log', '--format=%s', 'main')).toContain('unrelated change');
  });

  it('when another advance committed the same phase first, it does not commit it again', async () => {
    const r = newRepo();
    const other = otherClone(r);
    const res = await advanceOnce(
      update,
      opts(r.work, () => before, {
        afterCommit: async () => {
          if (phaseCommits(other, 'HEAD').length) return;
          // another advance, a second earlier, with a different date: a different commit for the same phase
          await advanceOnce(update, opts(other, () => before, { date: '2026-11-25T07:59:00Z' }));
        },
      }),
    );
    expect(['waiting', 'advanced']).toContain(res.outcome);
    expect(phaseCommits(r.bare, 'main')).toEqual(['1 ovn-controlplane']);
    expect(sh(r.work, 'rev-parse', 'HEAD')).toBe(sh(r.bare, 'rev-parse', 'main'));
  });

  it('stops with exit 1 on a failed gate and commits nothing', async () => {
    const r = newRepo();
    await advanceOnce(update, opts(r.work, () => before));
    const sha = sh(r.work, 'rev-parse', 'HEAD').trim();
    const failed = clusterAt(plan, { targetApplied: true, trueConditions: [], agentSha: sha });
    const osvStatus = failed.openStackVersions[0]!['status'] as { conditions: { type: string; status: string; reason: string; message: string }[] };
    const c = osvStatus.conditions.find((x) => x.type === 'MinorUpdateOVNControlplane')!;
    Object.assign(c, { status: 'False', reason: 'Error', message: 'error occured OVN controller images do not match' });
    const res = await advanceOnce(update, opts(r.work, () => failed));
    expect(res.outcome).toBe('failed');
    expect(res.exitCode).toBe(1);
    expect(res.status.reason).toContain('error occured');
    expect(phaseCommits(r.work)).toEqual(['1 ovn-controlplane']);
  });

  it('fails a gate still waiting after its deadline, counted from the phase commit', async () => {
    const r = newRepo();
    await advanceOnce(update, opts(r.work, () => before));
    const late = clusterAt(plan, { targetApplied: false, trueConditions: [], now: '2026-11-25T09:00:00Z' });
    const res = await advanceOnce(update, opts(r.work, () => late));
    expect(res.outcome).toBe('failed');
    expect(res.status.reason).toMatch(/^deadline of 30m passed \(60m since the phase started\)/);
  });

  it('records a skipped gate in a commit trailer', async () => {
    const r = newRepo();
    await advanceOnce(update, opts(r.work, () => before));
    const res = await advanceOnce(update, opts(r.work, () => before, { skipGates: ['ovn-controlplane'] }));
    expect(res.committed?.phase).toBe('ovn-dataplane');
    expect(sh(r.work, 'log', '-1', '--format=%(trailers:key=Osv-Update-Skipped-Gate,valueonly)').trim()).toBe('ovn-controlplane');
    const st = await advanceOnce(update, opts(r.work, () => before));
    expect(st.status.gates.find((g) => g.id === 'ovn-controlplane')?.skipped).toBe(true);
  });
  it('with --version-file: edits the user\'s own OpenStackVersion in place and puts the deployments beside it', async () => {
    const r = newRepo({ push: false });
    mkdirSync(join(r.work, 'clusters', 'prod'), { recursive: true });
    const own = `# the platform team's file\napiVersion: core.openstack.org/v1beta1\nkind: OpenStackVersion\nmetadata:\n  name: ${plan.openStackVersion}\n  namespace: ${plan.namespace}\nspec:\n  targetVersion: ${plan.versions.deployed}\n`;
    writeFileSync(join(r.work, 'clusters', 'prod', 'openstackversion.yaml'), own);
    writeFileSync(join(r.work, 'clusters', 'prod', 'kustomization.yaml'), 'resources:\n- openstackversion.yaml\n');
    sh(r.work, 'add', '.');
    sh(r.work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', 'the prod cloud');
    sh(r.work, 'push', '--quiet', 'origin', 'main');
    const layout = { versionFile: { path: 'clusters/prod/openstackversion.yaml', deploymentsDir: 'clusters/prod/updates' } };
    // without it, a copy would give the OpenStackVersion a second owner
    await expect(advanceOnce(update, opts(r.work, () => before))).rejects.toMatchObject({ code: 'SECOND_OWNER' });
    const first = await advanceOnce(update, opts(r.work, () => before, layout));
    expect(first.committed?.phase).toBe('ovn-controlplane');
    const edited = sh(r.work, 'show', 'HEAD:clusters/prod/openstackversion.yaml');
    expect(edited).toContain("# the platform team's file");
    expect(edited).toContain(`targetVersion: "${plan.versions.target}"`);
    expect(sh(r.work, 'ls-tree', '--name-only', 'HEAD')).not.toContain('openstack-update');
    const sha = sh(r.work, 'rev-parse', 'HEAD').trim();
    const ready = clusterAt(plan, { targetApplied: true, trueConditions: ['MinorUpdateOVNControlplane'], agentSha: sha });
    const second = await advanceOnce(update, opts(r.work, () => ready, layout));
    expect(second.committed?.phase).toBe('ovn-dataplane');
    expect(sh(r.work, 'ls-tree', '-r', '--name-only', 'HEAD', '--', 'clusters/prod/updates')).toMatch(/openstackdataplanedeployment/i);
    expect(sh(r.work, 'show', 'HEAD:clusters/prod/kustomization.yaml')).toContain('- updates');
    expect(sh(r.work, 'status', '--porcelain')).toBe('');
  });
});
