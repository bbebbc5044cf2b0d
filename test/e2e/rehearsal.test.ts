/**
 * End to end: osv-gitops against the rehearsal cluster (API server, simulated operator and agent)
 * and a real Git repository, talking to it only through client-node and a kubeconfig. The shared
 * scenarios also run against the real kube-apiserver (test/e2e-real); the fault injection below
 * exists only on our server.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { watchUpdate } from '../../src/advance/watch.js';
import { KubeReader } from '../../src/cluster/kube.js';
import { ClusterWatcher } from '../../src/cluster/watcher.js';
import { startRehearsalCluster } from '../../src/simulate/rehearsal.js';
import { sealGitEnv } from '../helpers/git-repo.js';
import { rehearsalInputs } from '../helpers/rehearsal.js';
import { defineUpdateScenarios, gitPhases, phaseTrailers } from './scenarios.js';

defineUpdateScenarios('rehearsal server');

/**
 * Writes (the update's own work: commits applied, status written) between two bursts of faults.
 * The 700 ms timer this replaces stacked bursts faster than a loaded machine's retries could clear
 * them; reads cannot pace it either, as resyncs and polls make them grow with the time taken.
 * An update makes ~100 writes: ~40 bursts at any load (42 measured at load 7).
 */
const WRITES_PER_BURST = 2;

describe('rehearsal server: API faults', () => {
  beforeAll(sealGitEnv);

  it('survives 500s, hung requests and dropped watches during a whole update', async () => {
    const opts = rehearsalInputs('example', 'flux', 'commits');
    const cluster = await startRehearsalCluster(opts);
    const faults = cluster.server.faults;
    if (!faults) throw new Error('the rehearsal server injects faults');
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cluster.kubeconfigYaml);
    const watcher = new ClusterWatcher(new KubeReader(kc, 1_000, { attempts: 6, baseMs: 50, maxMs: 500 }), cluster.snapshotTarget, { resyncMs: 1_000 });
    let bursts = 0;
    // chaos paced by the work done, not by the clock: a burst once the last one was taken and
    // WRITES_PER_BURST writes went by, so a loaded machine gets the same faults per step of work
    let lastBurst = 0;
    const chaos = setInterval(() => {
      if (faults.pending() > 0 || faults.writes - lastBurst < WRITES_PER_BURST) return;
      lastBurst = faults.writes;
      bursts++;
      faults.failNext(3, 500);
      faults.hangNext(1);
      faults.dropWatches();
    }, 20);
    try {
      await watcher.start();
      const r = await watchUpdate(opts.update, {
        repo: cluster.repo.work,
        engine: 'flux',
        remote: 'origin',
        readSnapshot: async () => watcher.snapshot(),
        nextChange: (ms) => watcher.changed(ms),
        idleMs: 300,
        // 50 s at load 7; the update alone (no faults) needs over 240 s at load 11
        timeoutMs: 240_000,
      });
      expect(r.end, r.last?.reason).toBe('done');
      expect(phaseTrailers(cluster.repo.bare, 'main')).toEqual(gitPhases(opts.update.plan));
      // the update went through the faults, not around them
      expect(bursts).toBeGreaterThan(20);
    } finally {
      clearInterval(chaos);
      faults.clear();
      await watcher.stop();
      await cluster.stop();
    }
  }, 300_000);
});
