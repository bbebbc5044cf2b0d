/**
 * One run of a real GitOps agent against the real kube-apiserver, the set-up the Argo CD and Flux
 * tests share: the API server with the agent's CRDs, the case's pre-update state and the simulated
 * operator (our simulated agent does not run: the real one is the agent), the user's repository
 * (a bare one the agent reads, a clone the test or `advance` commits in), optionally the gate Job
 * runner, a recorder of the watched objects, and the agent's processes.
 *
 * Everything started is undone by one stop(), last started first, also when the start fails
 * halfway. What the agent is then given to apply (a root Application or Kustomization) is the
 * caller's part, inside `run.cleanups.guard` so a failure there stops the run too.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ARGOCD_APPLICATION, CORE_TYPES, DATAPLANE_DEPLOYMENT, FLUX_KUSTOMIZATION, OPENSTACK_VERSION, collectionPath } from '../../src/cluster/resources.js';
import { writeFiles } from '../../src/git/write-tree.js';
import { renderDirectories, renderedPhases, type RenderedFile } from '../../src/render/render.js';
import { exampleDir } from '../../src/cli/inputs.js';
import { EXAMPLE_SUBSCRIPTION } from '../../src/cli/simulate.js';
import { startGateJobRunner } from '../../src/simulate/jobs.js';
import { startSimulatedOlm } from '../../src/simulate/olm.js';
import { CSV_NAMESPACE, seedAndStartOperator, type RehearsalOptions } from '../../src/simulate/rehearsal.js';
import { rehearsalInputs } from '../helpers/rehearsal.js';
import { ARGOCD_EXTRA_CRDS, ARGOCD_NS, renderedArgo, startArgoCd } from './argocd.js';
import { CleanupStack } from './cleanup-stack.js';
import { FLUX_CLUSTER_CRDS, FLUX_NS, startFluxControllers } from './flux.js';
import { startGitHttpServer, type GitHttpServer } from './git-http.js';
import { DEFAULT_CRDS, kubeRequest, startRealCluster, statusMessage, type RealCluster } from './harness.js';
import type { AgentProcesses } from './processes.js';
import { WatchRecorder, type Recorded } from './watch-recorder.js';

export type AgentName = 'argocd' | 'flux';

/** Kinds in the plan's namespace a run can watch besides the agent's own objects. */
const PLAN_KINDS = {
  OpenStackVersion: OPENSTACK_VERSION,
  OpenStackDataPlaneDeployment: DATAPLANE_DEPLOYMENT,
  Job: CORE_TYPES.find((t) => t.kind === 'Job')!,
} as const;
export type PlanKind = keyof typeof PLAN_KINDS;

const AGENTS = {
  // the Application CRD is in crds/gitops, the AppProject CRD in ARGOCD_EXTRA_CRDS
  argocd: { crds: [...DEFAULT_CRDS, ARGOCD_EXTRA_CRDS], namespace: ARGOCD_NS, kind: 'Application', type: ARGOCD_APPLICATION, logsEnv: 'OSV_ARGOCD_LOGS' },
  flux: { crds: FLUX_CLUSTER_CRDS, namespace: FLUX_NS, kind: 'Kustomization', type: FLUX_KUSTOMIZATION, logsEnv: 'OSV_FLUX_LOGS' },
} as const;

export interface AgentRunOptions<S extends Recorded> {
  readonly agent: AgentName;
  /**
   * directories: the repository's one commit is the case's directories render, which the agent
   * walks by itself; commits: one commit of a README, `advance` commits the phases.
   */
  readonly mode: 'directories' | 'commits';
  /** A fixture case. @default 'example' */
  readonly caseName?: string;
  readonly faults?: { readonly failDeployments?: RegExp };
  /** How the recorder keeps a watched object; the agent's own objects are always watched. */
  readonly toSeen: (obj: unknown, kind: string, atMs: number) => S;
  readonly watchKinds?: readonly PlanKind[];
  /** Play the Job controller for the gate Jobs (no kubelet runs their containers). */
  readonly gateJobs?: boolean;
  /**
   * Start from phase 0 (directories mode): the example's Subscription in the render, the operator
   * namespace, the simulated OLM, and the Job runner for the approval Job there.
   */
  readonly phase0?: boolean;
  /** A second repository of the user's (one commit of these files), for their own objects. */
  readonly otherRepoFiles?: readonly RenderedFile[];
  /** Runs once the cluster is seeded, before the agent starts (admission policies, the user's own objects). */
  readonly beforeAgent?: (run: { readonly kc: k8s.KubeConfig; readonly repoURL: string; readonly otherRepoURL: string }) => Promise<void>;
}

export interface AgentRun<S extends Recorded> {
  readonly cluster: RealCluster;
  readonly kc: k8s.KubeConfig;
  readonly inputs: RehearsalOptions;
  readonly plan: RehearsalOptions['update']['plan'];
  /** directories mode: the render in the repository's one commit; commits mode: none. */
  readonly files: readonly RenderedFile[];
  /** The bare repository (the remote), the URL the agent reads it at, and the clone with `origin` on it. */
  readonly bare: string;
  readonly repoURL: string;
  readonly work: string;
  /** Only for Flux, which clones over HTTP. */
  readonly git?: GitHttpServer;
  readonly recorder: WatchRecorder<S>;
  readonly agent: AgentProcesses;
  /** The agent's namespace (Applications, Kustomizations). */
  readonly agentNamespace: string;
  /** Everything started so far; the caller defers what it starts next. */
  readonly cleanups: CleanupStack;
  /** ms on the recorder's clock. */
  now(): number;
  stop(): Promise<void>;
}

/** git without the machine's or the user's configuration, as the test's own author. */
export function sealedGit(cwd: string, args: string[], author = 'osv-real'): void {
  execFileSync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: author,
      GIT_AUTHOR_EMAIL: `${author}@osv-gitops.invalid`,
      GIT_COMMITTER_NAME: author,
      GIT_COMMITTER_EMAIL: `${author}@osv-gitops.invalid`,
    },
    stdio: 'ignore',
  });
}

/** A bare repository and a clone of it with one commit of `files`, pushed. */
function initRepository(bare: string, work: string, files: readonly RenderedFile[], message: string, author: string): void {
  mkdirSync(work, { recursive: true });
  sealedGit(work, ['init', '--quiet', '--bare', '--initial-branch=main', bare], author);
  sealedGit(work, ['init', '--quiet', '--initial-branch=main', work], author);
  writeFiles(work, files);
  sealedGit(work, ['add', '--all'], author);
  sealedGit(work, ['commit', '--quiet', '-m', message], author);
  sealedGit(work, ['remote', 'add', 'origin', `file://${bare}`], author);
  sealedGit(work, ['push', '--quiet', 'origin', 'main'], author);
}

export async function startAgentRun<S extends Recorded>(opts: AgentRunOptions<S>): Promise<AgentRun<S>> {
  const agent = AGENTS[opts.agent];
  const author = `${opts.agent}-real`;
  const cleanups = new CleanupStack();
  const stop = async () => {
    for (const e of await cleanups.unwind()) console.warn(`stopping the real ${opts.agent} run: ${e instanceof Error ? e.message : String(e)}`);
  };
  return cleanups.guard(async () => {
    const cluster = await startRealCluster({ crds: agent.crds });
    cleanups.defer(() => cluster.stop());
    const base = mkdtempSync(join(tmpdir(), `osv-${opts.agent}-run-`));
    cleanups.defer(() => rmSync(base, { recursive: true, force: true }));
    const inputs = rehearsalInputs(opts.caseName ?? 'example', opts.agent, opts.mode, opts.phase0 ? { subscription: join(exampleDir(), EXAMPLE_SUBSCRIPTION) } : {});
    const plan = inputs.update.plan;
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cluster.kubeconfigYaml);

    // the user's repositories; Argo CD clones at a file:// URL, Flux's source-controller over HTTP
    const gitRoot = join(base, 'git');
    mkdirSync(gitRoot);
    const bare = join(gitRoot, 'gitops.git');
    const otherBare = join(gitRoot, 'other.git');
    const git = opts.agent === 'flux' ? await startGitHttpServer(gitRoot) : undefined;
    if (git) cleanups.defer(() => git.close());
    const urlOf = (repo: string) => (git ? `${git.url}/${repo}` : `file://${join(gitRoot, repo)}`);
    const repoURL = urlOf('gitops.git');
    // Argo CD's health checks come from this render in both modes; Flux's commits mode needs none
    const needsRender = opts.mode === 'directories' || opts.agent === 'argocd';
    const render = () =>
      opts.agent === 'argocd' ? renderDirectories(inputs.update, { engine: 'argocd', repoPath: '.', argo: { repoURL } }) : renderDirectories(inputs.update, { engine: 'flux', repoPath: '.' });
    const files = needsRender ? render() : [];
    const work = join(base, 'work');
    if (opts.mode === 'directories') {
      initRepository(bare, work, files, `osv-gitops: update to ${plan.versions.target} (all phases, agent-gated)`, author);
    } else {
      initRepository(bare, work, [{ path: 'README.md', content: `GitOps repository of the real ${opts.agent} test\n` }], 'initial', author);
    }
    if (opts.otherRepoFiles) initRepository(otherBare, join(base, 'other'), opts.otherRepoFiles, 'the cluster as the user keeps it', author);

    // the pre-update state and the simulated operator, without our simulated agent
    const operator = await seedAndStartOperator(cluster.kubeconfigYaml, { ...inputs, ...(opts.faults ? { faults: opts.faults } : {}) }, CSV_NAMESPACE);
    cleanups.defer(() => operator.stop());
    const op = opts.phase0 ? plan.operatorUpgrade : undefined;
    if (opts.phase0 && !op) throw new Error('phase0: the plan has no phase 0 operator');
    if (op) {
      const ns = await kubeRequest(kc, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: op.operatorNamespace } });
      if (ns.status !== 201 && ns.status !== 409) throw new Error(`namespace ${op.operatorNamespace}: ${statusMessage(ns.body)}`);
      const olm = await startSimulatedOlm({ kubeconfigYaml: cluster.kubeconfigYaml, namespace: op.operatorNamespace, catalog: inputs.csv ? [inputs.csv] : [], onInstalled: () => operator.setAvailableVersion(plan.versions.available), pollMs: 500 });
      cleanups.defer(() => olm.stop());
      const approvals = await startGateJobRunner({ kubeconfigYaml: cluster.kubeconfigYaml, namespace: op.operatorNamespace, pollMs: 500 });
      cleanups.defer(() => approvals.stop());
    }
    if (opts.gateJobs) {
      // the Job controller and kubelet for the gate Jobs: their script's rule, on the live object
      const jobRunner = await startGateJobRunner({ kubeconfigYaml: cluster.kubeconfigYaml, namespace: plan.namespace, pollMs: 500 });
      cleanups.defer(() => jobRunner.stop());
    }

    const recorder = new WatchRecorder(kc, opts.toSeen);
    cleanups.defer(() => recorder.stop());
    await Promise.all([
      recorder.watch(collectionPath(agent.type, agent.namespace), agent.kind),
      ...(opts.watchKinds ?? []).map((k) => recorder.watch(collectionPath(PLAN_KINDS[k], plan.namespace), k)),
    ]);
    await opts.beforeAgent?.({ kc, repoURL, otherRepoURL: urlOf('other.git') });

    const processes =
      opts.agent === 'argocd'
        ? await startArgoCd({ cluster, argocdCm: renderedArgo(files, renderedPhases(plan), plan.versions.target).argocdCm as k8s.V1ConfigMap })
        : await startFluxControllers(cluster);
    cleanups.defer(() => processes.stop());
    // the logs go with the temp folders; OSV_ARGOCD_LOGS=1 or OSV_FLUX_LOGS=1 prints them first
    cleanups.defer(() => {
      if (process.env[agent.logsEnv]) console.info(processes.logs(200));
    });

    return {
      cluster,
      kc,
      inputs,
      plan,
      files: opts.mode === 'directories' ? files : [],
      bare,
      repoURL,
      work,
      ...(git ? { git } : {}),
      recorder,
      agent: processes,
      agentNamespace: agent.namespace,
      cleanups,
      now: () => Date.now() - recorder.t0,
      stop,
    };
  });
}
