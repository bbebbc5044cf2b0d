/**
 * The rehearsal cluster's GitOps agent: Flux's source- and kustomize-controllers or Argo CD's
 * repo-server and application controller, reduced to what an osv-gitops update needs. It talks to
 * the API server only through `@kubernetes/client-node`, so it runs unchanged against the
 * rehearsal API server and a real kube-apiserver with the Flux or Argo CD CRDs installed.
 *
 * One loop: a Git poll (every `pollMs`) notices a new branch head; watches on the agent's objects
 * and the OpenStack namespace, plus a periodic resync, wake the reconciler; each pass reconciles
 * the agent object (and, in directories mode, the phase objects it applies) at the current head.
 * Passes never overlap; a failed pass is retried with backoff.
 */
import { rehearsalOf, statusOf } from '../../agents/index.js';
import type { AgentEngine } from '../../agents/types.js';
import { DATAPLANE_DEPLOYMENT, DATAPLANE_NODESET, OPENSTACK_CONTROLPLANE, OPENSTACK_VERSION, type ResourceType } from '../../cluster/resources.js';
import { errorText } from './common.js';
import { makeBuilder, type AgentContext } from './context.js';
import { GitSource, type Checkout } from './git-source.js';
import { KubeClient, watchCollection, type CollectionWatch } from './kube.js';

export interface SimulatedAgentOptions {
  readonly kubeconfigYaml: string;
  readonly engine: AgentEngine;
  readonly mode: 'commits' | 'directories';
  /** A Git URL the `git` CLI can fetch: a bare repository path or a file:// URL. */
  readonly repoUrl: string;
  readonly branch: string;
  /**
   * commits: the osv-gitops folder (default 'openstack-update'); directories: the folder the
   * agent is pointed at, e.g. 'updates/<version>/flux' or 'updates/<version>/argocd'.
   */
  readonly path: string;
  /** The Flux Kustomization / Argo CD Application the agent reports on; created when missing. */
  readonly agentObject: { readonly namespace: string; readonly name: string };
  /** The OpenStack namespace (destination). */
  readonly namespace: string;
  /** Git poll interval. @default 100 */
  readonly pollMs?: number;
  /** Simulated lag between seeing a commit and applying it. @default 0 */
  readonly applyDelayMs?: number;
  /** Periodic reconcile even without events (timeouts, missed events). @default 1000 */
  readonly resyncMs?: number;
  /** Manifest durations (Flux timeout/retryInterval) are divided by this. @default 1 */
  readonly timeScale?: number;
  readonly log?: (line: string) => void;
}

export interface SimulatedAgent {
  stop(): Promise<void>;
  /** The commit the agent object last reconciled successfully (Flux Ready / Argo CD sync Succeeded). */
  readonly appliedRevision: string | undefined;
  /** API requests made so far (for benchmarks). */
  readonly apiRequests: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startSimulatedAgent(opts: SimulatedAgentOptions): Promise<SimulatedAgent> {
  const model = await rehearsalOf(opts.engine);
  const log = (line: string) => opts.log?.(`[agent ${opts.engine}] ${line}`);
  let stopped = false;
  const kube = new KubeClient(opts.kubeconfigYaml, { log, stopped: () => stopped });
  const source = await GitSource.open(opts.repoUrl, opts.branch);
  const ctx: AgentContext = {
    kube,
    source,
    branch: opts.branch,
    namespace: opts.namespace,
    timeScale: opts.timeScale ?? 1,
    log,
    now: () => Date.now(),
    build: makeBuilder(),
  };
  const controller = model.controller(ctx, { mode: opts.mode, agentObject: opts.agentObject, path: opts.path, repoUrl: opts.repoUrl });

  let appliedRevision: string | undefined;
  let current: Checkout | undefined;
  let seen: { sha: string; at: number } | undefined;
  let agentObjectReady = false;

  // --- the reconcile loop: one pass at a time, re-run when woken during a pass ---
  let running: Promise<void> | undefined;
  let again = false;
  let failures = 0;
  let wakeTimer: NodeJS.Timeout | undefined;

  const pass = async () => {
    if (!agentObjectReady) {
      await controller.ensureAgentObject();
      agentObjectReady = true;
    }
    if (seen && (current === undefined || current.sha !== seen.sha) && Date.now() - seen.at >= (opts.applyDelayMs ?? 0)) {
      current = await source.checkout(seen.sha);
      log(`revision ${opts.branch}@sha1:${current.sha}`);
    }
    if (!current) return;
    const ready = await controller.reconcile(current);
    if (ready !== undefined) appliedRevision = ready;
    if (controller.requeue) again = true;
  };

  const wake = (delayMs = 0) => {
    if (stopped) return;
    if (delayMs > 0) {
      clearTimeout(wakeTimer);
      wakeTimer = setTimeout(() => wake(), delayMs);
      return;
    }
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await pass();
          failures = 0;
        } catch (e) {
          failures++;
          log(`reconcile failed (${failures}): ${errorText(e)}`);
          if (!stopped) await sleep(Math.min(50 * 2 ** Math.min(failures, 6), 2000));
          again = true;
        }
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
  };

  // --- Git poll ---
  let polling = false;
  const poll = async () => {
    if (polling || stopped) return;
    polling = true;
    try {
      const head = await source.head();
      if (head !== undefined && head !== seen?.sha) {
        seen = { sha: head, at: Date.now() };
        log(`new head ${head.slice(0, 12)} on ${opts.branch}`);
        wake(opts.applyDelayMs ?? 0);
      }
    } catch (e) {
      log(`git poll failed: ${errorText(e)}`);
    } finally {
      polling = false;
    }
  };
  const pollTimer = setInterval(() => void poll(), opts.pollMs ?? 100);
  const resyncTimer = setInterval(() => wake(), opts.resyncMs ?? 1000);

  // --- watches: the agent's own kind, and what it applies and health-checks ---
  const watched: [ResourceType, string][] = [
    [statusOf(opts.engine).objectType, opts.agentObject.namespace],
    ...[OPENSTACK_VERSION, OPENSTACK_CONTROLPLANE, DATAPLANE_NODESET, DATAPLANE_DEPLOYMENT, ...model.watchedKinds].map((t): [ResourceType, string] => [t, opts.namespace]),
  ];
  const watches: CollectionWatch[] = watched.map(([t, ns]) => watchCollection(kube, t, ns, () => wake(), log));

  await poll();
  wake();

  return {
    get appliedRevision() {
      return appliedRevision;
    },
    get apiRequests() {
      return kube.requests;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(pollTimer);
      clearInterval(resyncTimer);
      clearTimeout(wakeTimer);
      for (const w of watches) w.stop();
      await running?.catch(() => undefined);
      while (polling) await sleep(10);
      controller.close?.();
      source.close();
    },
  };
}
