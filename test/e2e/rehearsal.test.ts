/**
 * End to end: osv-gitops against the rehearsal cluster (API server, simulated operator and agent)
 * and a real Git repository, talking to it only through client-node and a kubeconfig.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { advanceOnce, type AdvanceResult } from '../../src/advance/advance.js';
import { watchUpdate } from '../../src/advance/watch.js';
import * as k8s from '@kubernetes/client-node';
import { KubeReader } from '../../src/cluster/kube.js';
import { ClusterWatcher } from '../../src/cluster/watcher.js';
import type { UpdatePlan } from '../../src/plan/types.js';
import { rehearse, startRehearsalCluster, type RehearsalOptions } from '../../src/simulate/rehearsal.js';
import { sealGitEnv } from '../helpers/git-repo.js';
import { clusterReader, rehearsalInputs } from '../helpers/rehearsal.js';

const sh = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
const phaseTrailers = (dir: string, ref: string) =>
  sh(dir, 'log', '--format=%(trailers:key=Osv-Update-Phase,valueonly)', ref)
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .reverse();
const gitPhases = (plan: UpdatePlan) => plan.phases.filter((p) => p.git.changes).map((p) => `${p.index} ${p.id}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LONG = 120_000;

describe('rehearsal: complete updates', () => {
  beforeAll(sealGitEnv);
  for (const engine of ['flux', 'argocd'] as const) {
    for (const mode of ['commits', 'directories'] as const) {
      it(`completes the example with ${engine} in ${mode} mode, every gate in order`, async () => {
        const opts = rehearsalInputs('example', engine, mode);
        const r = await rehearse(opts);
        expect(r.end, JSON.stringify(r.status?.reason)).toBe('done');
        expect(r.status?.phase).toBe('complete');
        expect(r.status?.verdict).toBe('passed');
        const plan = opts.update.plan;
        expect(r.commits.map((c) => c.phase)).toEqual(mode === 'commits' ? plan.phases.filter((p) => p.git.changes).map((p) => p.id) : []);
        // every gate passed once, in plan order; in commits mode each commit comes after the gate before it
        const passed = r.timeline.filter((e) => e.kind === 'gate-passed').map((e) => e.phase);
        expect(passed).toEqual(plan.phases.map((p) => p.id));
        if (mode === 'commits') {
          for (const c of r.commits) {
            const idx = plan.phases.findIndex((p) => p.id === c.phase);
            const gateBefore = r.timeline.findIndex((e) => e.kind === 'gate-passed' && e.phase === plan.phases[idx - 1]!.id);
            const commitAt = r.timeline.findIndex((e) => e.kind === 'commit' && e.phase === c.phase);
            expect(gateBefore).toBeGreaterThanOrEqual(0);
            expect(gateBefore).toBeLessThan(commitAt);
          }
        }
      }, LONG);
    }
  }

  for (const name of ['ovn-disabled', 'ovn-image-unchanged', 'batches-canary']) {
    it(`completes the ${name} case in commits mode`, async () => {
      const opts = rehearsalInputs(name, 'flux', 'commits');
      const r = await rehearse(opts);
      expect(r.end, r.status?.reason).toBe('done');
      expect(r.commits.map((c) => c.phase)).toEqual(opts.update.plan.phases.filter((p) => p.git.changes).map((p) => p.id));
    }, LONG);
  }
});

describe('rehearsal: crashes, stale status and faults', () => {
  beforeAll(sealGitEnv);

  it('converges with no duplicate commit when the process dies at every step', async () => {
    const opts = rehearsalInputs('example', 'flux', 'commits');
    const plan = opts.update.plan;
    const cluster = await startRehearsalCluster(opts);
    try {
      const read = clusterReader(cluster);
      const crashes = ['before-read', 'after-commit', 'none', 'while-waiting'] as const;
      const killed = new Set<string>();
      let last: AdvanceResult | undefined;
      const deadline = Date.now() + 90_000;
      for (let step = 0; Date.now() < deadline; step++) {
        const crash = crashes[step % crashes.length]!;
        try {
          last = await advanceOnce(opts.update, {
            repo: cluster.repo.work,
            engine: 'flux',
            remote: 'origin',
            readSnapshot: async () => {
              if (crash === 'before-read') throw new Error('killed before reading');
              return read();
            },
            afterCommit: async () => {
              if (crash === 'after-commit') throw new Error('killed after commit, before push');
            },
          });
        } catch (e) {
          killed.add((e as Error).message);
          continue;
        }
        if (last.outcome === 'done') break;
        expect(last.outcome).not.toBe('failed');
        if (crash === 'while-waiting') killed.add('killed while waiting');
        await sleep(100);
      }
      expect(last?.outcome).toBe('done');
      expect(killed).toContain('killed after commit, before push');
      expect(phaseTrailers(cluster.repo.bare, 'main')).toEqual(gitPhases(plan));
    } finally {
      await cluster.stop();
    }
  }, LONG);

  it('does not pass a gate on conditions left True by the last update while the operator has not reconciled', async () => {
    const opts = rehearsalInputs('example', 'flux', 'commits');
    const osv = structuredClone(opts.openStackVersion) as { status: { conditions: { type: string; status: string }[] } };
    for (const c of osv.status.conditions) c.status = 'True'; // what the last update left behind
    const cluster = await startRehearsalCluster({ ...opts, openStackVersion: osv });
    try {
      await cluster.operator.stop(); // nothing reconciles our change
      const read = clusterReader(cluster);
      const step = () => advanceOnce(opts.update, { repo: cluster.repo.work, engine: 'flux', remote: 'origin', readSnapshot: read });
      expect((await step()).committed?.phase).toBe('ovn-controlplane');
      // wait for the agent to apply our commit, then the gate must still wait on observedGeneration
      let r: AdvanceResult | undefined;
      for (let i = 0; i < 50; i++) {
        r = await step();
        if (/generation is 2, but latest observed generation is 1/.test(r.status.reason)) break;
        await sleep(100);
      }
      expect(r?.outcome).toBe('waiting');
      expect(r?.status.reason).toMatch(/generation is 2, but latest observed generation is 1/);
      expect(phaseTrailers(cluster.repo.bare, 'main')).toEqual(['1 ovn-controlplane']);
    } finally {
      await cluster.stop();
    }
  }, LONG);

  it('waits while the agent has not applied our commit (still at an older revision)', async () => {
    const opts = rehearsalInputs('example', 'flux', 'commits');
    const cluster = await startRehearsalCluster(opts);
    try {
      await sleep(300); // the agent reports the initial commit
      await cluster.agent.stop();
      const read = clusterReader(cluster);
      const step = () => advanceOnce(opts.update, { repo: cluster.repo.work, engine: 'flux', remote: 'origin', readSnapshot: read });
      expect((await step()).outcome).toBe('advanced');
      await sleep(500);
      const r = await step();
      expect(r.outcome).toBe('waiting');
      expect(r.status.reason).toMatch(/Kustomization flux-system\/openstack(: nothing applied yet| at \w+ does not contain yet)/);
    } finally {
      await cluster.stop();
    }
  }, LONG);

  it('ends with exit 1 and the reason when a data-plane deployment fails', async () => {
    const opts: RehearsalOptions = { ...rehearsalInputs('example', 'flux', 'commits'), faults: { failDeployments: /edpm-update/ } };
    const r = await rehearse(opts);
    expect(r.end).toBe('failed');
    expect(r.exitCode).toBe(1);
    expect(r.status?.phase).toBe('dataplane');
    expect(r.status?.reason).toMatch(/BackoffLimitExceeded/);
  }, LONG);

  it('fails a gate whose deadline passed', async () => {
    const base = rehearsalInputs('example', 'flux', 'commits');
    const plan: UpdatePlan = {
      ...base.update.plan,
      phases: base.update.plan.phases.map((p) => (p.id === 'ovn-controlplane' ? { ...p, gate: { ...p.gate, deadlineSeconds: 1 } } : p)),
    };
    const r = await rehearse({ ...base, update: { ...base.update, plan }, durations: { ...base.durations, ovnControlPlane: 4_000 } });
    expect(r.end).toBe('failed');
    expect(r.status?.reason).toMatch(/^deadline of 1s passed/);
  }, LONG);

  it('survives 500s, hung requests and dropped watches, and a remote that moves under a push', async () => {
    const opts = rehearsalInputs('example', 'flux', 'commits');
    const cluster = await startRehearsalCluster(opts);
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cluster.kubeconfigYaml);
    const watcher = new ClusterWatcher(new KubeReader(kc, 1_000, { attempts: 6, baseMs: 50, maxMs: 500 }), cluster.snapshotTarget, { resyncMs: 1_000 });
    const other = join(cluster.repo.work, '..', 'other');
    sh(join(cluster.repo.work, '..'), 'clone', '--quiet', `file://${cluster.repo.bare}`, other);
    let moved = false;
    const chaos = setInterval(() => {
      cluster.server.faults.failNext(3, 500);
      cluster.server.faults.hangNext(1);
      cluster.server.faults.dropWatches();
    }, 700);
    try {
      await watcher.start();
      const r = await watchUpdate(opts.update, {
        repo: cluster.repo.work,
        engine: 'flux',
        remote: 'origin',
        readSnapshot: async () => watcher.snapshot(),
        nextChange: (ms) => watcher.changed(ms),
        idleMs: 300,
        timeoutMs: 90_000,
        afterCommit: async () => {
          if (moved) return;
          moved = true;
          sh(other, 'pull', '--quiet', '--ff-only');
          writeFileSync(join(other, 'NOTES.md'), 'a teammate pushes at the same moment\n');
          sh(other, 'add', 'NOTES.md');
          sh(other, 'commit', '--quiet', '-m', 'notes');
          sh(other, 'push', '--quiet', 'origin', 'HEAD:main');
        },
      });
      expect(r.end, r.last?.reason).toBe('done');
      expect(phaseTrailers(cluster.repo.bare, 'main')).toEqual(gitPhases(opts.update.plan));
      expect(sh(cluster.repo.bare, 'log', '--format=%s', 'main')).toContain('notes');
    } finally {
      clearInterval(chaos);
      cluster.server.faults.clear();
      await watcher.stop();
      await cluster.stop();
    }
  }, LONG);
});
