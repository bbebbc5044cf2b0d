#!/usr/bin/env node
// The update loop on the rehearsal cluster (issue 4). Run after `npm run build`:
// - latency: from the status change that closes a gate (seen by a separate watch) to the tool's
//   next phase commit being pushed, median over every gate of several whole updates;
// - requests per minute while a gate waits: operator and agent stopped, so the API server's count
//   is the tool's own (watches plus the periodic resync).
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => join(root, 'dist', p);
const { rehearsalStart } = await import(dist('src/cli/simulate.js'));
const { startRehearsalCluster } = await import(dist('src/simulate/rehearsal.js'));
const { ClusterWatcher } = await import(dist('src/cluster/watcher.js'));
const { KubeReader } = await import(dist('src/cluster/kube.js'));
const { watchUpdate } = await import(dist('src/advance/watch.js'));

process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_AUTHOR_NAME = process.env.GIT_COMMITTER_NAME = 'bench';
process.env.GIT_AUTHOR_EMAIL = process.env.GIT_COMMITTER_EMAIL = 'bench@osv-gitops.invalid';

const io = { cwd: root, stdout: () => {}, stderr: () => {}, color: false };
const runs = Number(process.env.BENCH_RUNS ?? 3);
const waitSeconds = Number(process.env.BENCH_WAIT_SECONDS ?? 30);

function options() {
  return {
    ...rehearsalStart({ example: true }, io),
    engine: 'flux',
    mode: 'commits',
    durations: { ovnControlPlane: 300, rabbitmq: 100, galera: 100, memcached: 100, keystone: 100, controlPlaneRest: 300, deploymentService: 200 },
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The condition whose turning True lets the next phase be committed. */
const CLOSING = { 'ovn-dataplane': 'MinorUpdateOVNControlplane', dataplane: 'MinorUpdateControlplane' };

async function oneUpdate() {
  const opts = options();
  const cluster = await startRehearsalCluster(opts);
  const kc = new k8s.KubeConfig();
  kc.loadFromString(cluster.kubeconfigYaml);
  const plan = opts.update.plan;
  // a separate watch records when each fact a gate needs became visible in the API
  const conditionTrue = {};
  const applied = {};
  const observe = (path, onObject) => new k8s.Watch(kc).watch(path, {}, (_t, o) => onObject(o), () => {});
  const watches = [
    await observe(`/apis/core.openstack.org/v1beta1/namespaces/${plan.namespace}/openstackversions`, (o) => {
      if (o.spec?.targetVersion !== plan.versions.target || o.status?.observedGeneration !== o.metadata?.generation) return;
      for (const c of o.status?.conditions ?? []) if (c.status === 'True') conditionTrue[c.type] ??= performance.now();
    }),
    await observe(`/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations`, (o) => {
      const sha = /sha1:([0-9a-f]+)$/.exec(o.status?.lastAppliedRevision ?? '')?.[1];
      if (sha) applied[sha] ??= performance.now();
    }),
  ];
  const watcher = new ClusterWatcher(new KubeReader(kc), cluster.snapshotTarget, { resyncMs: 30_000 });
  await watcher.start();
  const latencies = [];
  let previous;
  try {
    const r = await watchUpdate(
      opts.update,
      { repo: cluster.repo.work, engine: 'flux', remote: 'origin', readSnapshot: async () => watcher.snapshot(), nextChange: (ms) => watcher.changed(ms), idleMs: 30_000, timeoutMs: 120_000 },
      {
        onStep: (s) => {
          if (!s.committed) return;
          const now = performance.now();
          const cond = CLOSING[s.committed.phase];
          // the gate closed when both its condition held and the agent had applied the phase before
          if (cond && previous && conditionTrue[cond] !== undefined && applied[previous] !== undefined) latencies.push(now - Math.max(conditionTrue[cond], applied[previous]));
          previous = s.committed.sha;
        },
      },
    );
    if (r.end !== 'done') throw new Error(`update ended ${r.end}: ${r.last?.reason}`);
  } finally {
    for (const w of watches) w.abort();
    await watcher.stop();
    await cluster.stop();
  }
  return latencies;
}

async function requestsWhileWaiting() {
  const opts = options();
  const cluster = await startRehearsalCluster(opts);
  const kc = new k8s.KubeConfig();
  kc.loadFromString(cluster.kubeconfigYaml);
  const watcher = new ClusterWatcher(new KubeReader(kc), cluster.snapshotTarget, { resyncMs: 30_000 });
  try {
    await cluster.operator.stop();
    await cluster.agent.stop();
    const before = cluster.server.stats.requests;
    await watcher.start();
    const t0 = performance.now();
    const r = await watchUpdate(opts.update, { repo: cluster.repo.work, engine: 'flux', remote: 'origin', readSnapshot: async () => watcher.snapshot(), nextChange: (ms) => watcher.changed(ms), idleMs: 30_000, timeoutMs: waitSeconds * 1000 });
    const minutes = (performance.now() - t0) / 60_000;
    return { perMinute: (cluster.server.stats.requests - before) / minutes, end: r.end, phase: r.last?.phase };
  } finally {
    await watcher.stop();
    await cluster.stop();
  }
}

const all = [];
for (let i = 0; i < runs; i++) all.push(...(await oneUpdate()));
console.log(`gate closed (condition True and agent applied) → next commit pushed: median ${median(all).toFixed(0)} ms (min ${Math.min(...all).toFixed(0)}, max ${Math.max(...all).toFixed(0)}, ${all.length} gates over ${runs} updates)`);
const w = await requestsWhileWaiting();
console.log(`API requests per minute while waiting in ${w.phase}: ${w.perMinute.toFixed(1)} (over ${waitSeconds} s, ended ${w.end})`);
