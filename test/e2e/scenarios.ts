/**
 * The end-to-end scenarios of the update loop, written once and run against two API servers:
 * our rehearsal server (test/e2e) and a real kube-apiserver with the real CRDs (test/e2e-real).
 * The simulated operator and agent are plain client-node controllers, so they run unchanged on both.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { advanceOnce, type AdvanceResult } from '../../src/advance/advance.js';
import type { UpdatePlan } from '../../src/plan/types.js';
import { rehearse, startRehearsalCluster, type ApiEndpoint, type RehearsalCluster, type RehearsalOptions } from '../../src/simulate/rehearsal.js';
import { sealGitEnv } from '../helpers/git-repo.js';
import { clusterReader, rehearsalInputs } from '../helpers/rehearsal.js';

export const sh = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
export const phaseTrailers = (dir: string, ref: string) =>
  sh(dir, 'log', '--format=%(trailers:key=Osv-Update-Phase,valueonly)', ref)
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .reverse();
export const gitPhases = (plan: UpdatePlan) => plan.phases.filter((p) => p.git.changes).map((p) => `${p.index} ${p.id}`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LONG = 300_000;

/** `endpoint` starts a fresh API server per scenario; without it, the rehearsal server is used. */
export function defineUpdateScenarios(label: string, endpoint?: () => Promise<ApiEndpoint>): void {
  /** Run `body` with a fresh API server (when one is given), closed afterwards whatever happens. */
  async function onServer<T>(body: (server: { apiServer?: ApiEndpoint }) => Promise<T>): Promise<T> {
    const apiServer = endpoint ? await endpoint() : undefined;
    try {
      return await body(apiServer ? { apiServer } : {});
    } finally {
      await apiServer?.close();
    }
  }

  async function withCluster<T>(opts: RehearsalOptions, body: (c: RehearsalCluster) => Promise<T>): Promise<T> {
    return onServer(async (server) => {
      const cluster = await startRehearsalCluster({ ...opts, ...server });
      try {
        return await body(cluster);
      } finally {
        await cluster.stop();
      }
    });
  }

  describe(`${label}: complete updates`, () => {
    beforeAll(sealGitEnv);
    for (const engine of ['flux', 'argocd'] as const) {
      for (const mode of ['commits', 'directories'] as const) {
        it(`completes the example with ${engine} in ${mode} mode, every gate in order`, async () => {
          const opts = rehearsalInputs('example', engine, mode);
          const r = await onServer((server) => rehearse({ ...opts, ...server }));
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
        const r = await onServer((server) => rehearse({ ...opts, ...server }));
        expect(r.end, r.status?.reason).toBe('done');
        expect(r.commits.map((c) => c.phase)).toEqual(opts.update.plan.phases.filter((p) => p.git.changes).map((p) => p.id));
      }, LONG);
    }
  });

  describe(`${label}: crashes, stale status and faults`, () => {
    beforeAll(sealGitEnv);

    it('converges with no duplicate commit when the process dies at every step', async () => {
      const opts = rehearsalInputs('example', 'flux', 'commits');
      await withCluster(opts, async (cluster) => {
        const read = clusterReader(cluster);
        const crashes = ['before-read', 'after-commit', 'none', 'while-waiting'] as const;
        const killed = new Set<string>();
        let last: AdvanceResult | undefined;
        const deadline = Date.now() + 120_000;
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
        expect(phaseTrailers(cluster.repo.bare, 'main')).toEqual(gitPhases(opts.update.plan));
      });
    }, LONG);

    it('does not pass a gate on conditions left True by the last update while the operator has not reconciled', async () => {
      const opts = rehearsalInputs('example', 'flux', 'commits');
      const osv = structuredClone(opts.openStackVersion) as { status: { conditions: { type: string; status: string }[] } };
      for (const c of osv.status.conditions) c.status = 'True'; // what the last update left behind
      await withCluster({ ...opts, openStackVersion: osv }, async (cluster) => {
        await cluster.operator.stop(); // nothing reconciles our change
        const read = clusterReader(cluster);
        const step = () => advanceOnce(opts.update, { repo: cluster.repo.work, engine: 'flux', remote: 'origin', readSnapshot: read });
        expect((await step()).committed?.phase).toBe('ovn-controlplane');
        // wait for the agent to apply our commit, then the gate must still wait on observedGeneration
        let r: AdvanceResult | undefined;
        for (let i = 0; i < 100; i++) {
          r = await step();
          if (/generation is 2, but latest observed generation is 1/.test(r.status.reason)) break;
          await sleep(100);
        }
        expect(r?.outcome).toBe('waiting');
        expect(r?.status.reason).toMatch(/generation is 2, but latest observed generation is 1/);
        expect(phaseTrailers(cluster.repo.bare, 'main')).toEqual(['1 ovn-controlplane']);
      });
    }, LONG);

    it('waits while the agent has not applied our commit (still at an older revision)', async () => {
      const opts = rehearsalInputs('example', 'flux', 'commits');
      await withCluster(opts, async (cluster) => {
        await sleep(500); // the agent reports the initial commit
        await cluster.agent.stop();
        const read = clusterReader(cluster);
        const step = () => advanceOnce(opts.update, { repo: cluster.repo.work, engine: 'flux', remote: 'origin', readSnapshot: read });
        expect((await step()).outcome).toBe('advanced');
        await sleep(500);
        const r = await step();
        expect(r.outcome).toBe('waiting');
        expect(r.status.reason).toMatch(/Kustomization flux-system\/openstack(: nothing applied yet| at \w+ does not contain yet)/);
      });
    }, LONG);

    it('ends with exit 1 and the reason when a data-plane deployment fails', async () => {
      const opts: RehearsalOptions = { ...rehearsalInputs('example', 'flux', 'commits'), faults: { failDeployments: /edpm-update/ } };
      const r = await onServer((server) => rehearse({ ...opts, ...server }));
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
      const r = await onServer((server) => rehearse({ ...base, ...server, update: { ...base.update, plan }, durations: { ...base.durations, ovnControlPlane: 4_000 } }));
      expect(r.end).toBe('failed');
      expect(r.status?.reason).toMatch(/^deadline of 1s passed/);
    }, LONG);

    it('a teammate pushing while advance pushes: fetched, checked again, no duplicate', async () => {
      const opts = rehearsalInputs('example', 'flux', 'commits');
      await withCluster(opts, async (cluster) => {
        const read = clusterReader(cluster);
        const other = join(cluster.repo.work, '..', 'teammate');
        sh(join(cluster.repo.work, '..'), 'clone', '--quiet', `file://${cluster.repo.bare}`, other);
        let moved = false;
        let last: AdvanceResult | undefined;
        for (let i = 0; i < 400 && last?.outcome !== 'done'; i++) {
          last = await advanceOnce(opts.update, {
            repo: cluster.repo.work,
            engine: 'flux',
            remote: 'origin',
            readSnapshot: read,
            afterCommit: async () => {
              if (moved) return;
              moved = true;
              writeFileSync(join(other, 'NOTES.md'), 'pushed at the same moment\n');
              sh(other, 'add', 'NOTES.md');
              sh(other, 'commit', '--quiet', '-m', 'notes');
              sh(other, 'push', '--quiet', 'origin', 'HEAD:main');
            },
          });
          expect(last.outcome).not.toBe('failed');
          if (last.outcome === 'waiting') await sleep(100);
        }
        expect(last?.outcome).toBe('done');
        expect(phaseTrailers(cluster.repo.bare, 'main')).toEqual(gitPhases(opts.update.plan));
        expect(sh(cluster.repo.bare, 'log', '--format=%s', 'main')).toContain('notes');
      });
    }, LONG);
  });
}
