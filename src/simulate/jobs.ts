/**
 * The rehearsal cluster's "kubelet" for the gate Jobs osv-gitops renders for Argo CD
 * (src/agents/argocd/gate-job-chart.ts). It cannot run containers, so it runs the Job's shell loop in
 * process: it recognises the gate by its environment (OSV, NS, TARGET, COND, NEED_DEPLOYED,
 * DEADLINE), reads the OpenStackVersion through the API on every tick, and writes the Job status
 * as the Job controller would (startTime and active, then succeeded and Complete with
 * completionTime, or failed and Failed). Phase 0's approval Job (approval-job-chart.ts, env OLM_NS,
 * CSV, OSV, NS, TARGET, DEADLINE) is run by the rule `advance --approve-installplan` follows
 * (src/olm/gate.ts judges, src/olm/cluster.ts approves with a tested patch): approve only the
 * InstallPlan of exactly the target CSV, fail with the reason on one that bundles others. Any
 * other Job is marked Failed: the rehearsal cluster cannot run arbitrary images.
 */
import * as k8s from '@kubernetes/client-node';
import { scaledDeadlineMs } from './clock.js';
import { CLUSTER_SERVICE_VERSION, CORE_TYPES, INSTALL_PLAN, OPENSTACK_VERSION, apiVersionOf } from '../cluster/resources.js';
import { errorText } from './agent/common.js';
import { approveInstallPlan } from '../olm/cluster.js';
import { judgeOperatorGate } from '../olm/gate.js';
import { nowTimestamp } from './agent/common.js';
import { ControllerLoop } from './controller-loop.js';
import { KubeClient, type KubeObject } from './agent/kube.js';

export const GATE_ENV_NAMES = ['OSV', 'NS', 'TARGET', 'COND', 'NEED_DEPLOYED', 'DEADLINE'] as const;

export interface GateJobEnv {
  readonly osv: string;
  readonly namespace: string;
  readonly target: string;
  readonly condition: string;
  readonly needDeployed: boolean;
  readonly deadlineSeconds: number;
}

export type GateVerdict = { readonly result: 'passed' | 'failed' | 'waiting'; readonly message: string };

function envOf(job: KubeObject): Map<string, string> | undefined {
  const containers = (job['spec'] as { template?: { spec?: { containers?: unknown } } } | undefined)?.template?.spec?.containers;
  if (!Array.isArray(containers) || containers.length !== 1) return undefined;
  const env = (containers[0] as { env?: unknown }).env;
  if (!Array.isArray(env)) return undefined;
  const values = new Map<string, string>();
  for (const e of env as { name?: unknown; value?: unknown }[]) {
    if (typeof e.name === 'string' && typeof e.value === 'string') values.set(e.name, e.value);
  }
  return values;
}

/** The gate environment of a Job, or undefined when it is not one of ours. */
export function gateJobEnv(job: KubeObject): GateJobEnv | undefined {
  const values = envOf(job);
  if (!values || !GATE_ENV_NAMES.every((n) => values.has(n))) return undefined;
  const deadline = Number(values.get('DEADLINE'));
  if (!Number.isFinite(deadline)) return undefined;
  return {
    osv: values.get('OSV')!,
    namespace: values.get('NS')!,
    target: values.get('TARGET')!,
    condition: values.get('COND')!,
    needDeployed: values.get('NEED_DEPLOYED') === 'true',
    deadlineSeconds: deadline,
  };
}

export const APPROVAL_ENV_NAMES = ['OLM_NS', 'CSV', 'OSV', 'NS', 'TARGET', 'DEADLINE'] as const;

export interface ApprovalJobEnv {
  readonly olmNamespace: string;
  readonly csv: string;
  readonly osv: string;
  readonly namespace: string;
  readonly target: string;
  readonly deadlineSeconds: number;
}

/** The environment of phase 0's approval Job, or undefined when the Job is not one. */
export function approvalJobEnv(job: KubeObject): ApprovalJobEnv | undefined {
  const values = envOf(job);
  if (!values || !APPROVAL_ENV_NAMES.every((n) => values.has(n))) return undefined;
  const deadline = Number(values.get('DEADLINE'));
  if (!Number.isFinite(deadline)) return undefined;
  return { olmNamespace: values.get('OLM_NS')!, csv: values.get('CSV')!, osv: values.get('OSV')!, namespace: values.get('NS')!, target: values.get('TARGET')!, deadlineSeconds: deadline };
}

/** The rule of the gate script, on the OpenStackVersion as read (undefined: not found). */
export function evaluateGate(env: GateJobEnv, osv: KubeObject | undefined): GateVerdict {
  const spec = (osv?.['spec'] ?? {}) as { targetVersion?: unknown };
  const status = (osv?.['status'] ?? {}) as { observedGeneration?: unknown; deployedVersion?: unknown; conditions?: unknown };
  const generation = osv?.metadata.generation;
  const conditions = Array.isArray(status.conditions) ? (status.conditions as { type?: unknown; status?: unknown; reason?: unknown }[]) : [];
  const cond = conditions.find((c) => c.type === env.condition);
  if (osv !== undefined && spec.targetVersion === env.target && generation !== undefined && generation === status.observedGeneration) {
    if (cond?.status === 'True' && (!env.needDeployed || status.deployedVersion === env.target)) {
      return { result: 'passed', message: `gate passed: ${env.condition}=True` };
    }
    if (cond?.status === 'False' && cond.reason === 'Error') return { result: 'failed', message: `gate failed: ${env.condition}=False reason Error` };
  }
  return {
    result: 'waiting',
    message: `waiting: targetVersion=${String(spec.targetVersion ?? '?')} generation=${String(generation ?? '?')} observed=${String(status.observedGeneration ?? '?')} ${env.condition}=${String(cond?.status ?? 'missing')} reason=${String(cond?.reason ?? '')}`,
  };
}

export interface GateJobRunnerOptions {
  readonly kubeconfigYaml: string;
  /** Namespace whose Jobs are run. */
  readonly namespace: string;
  /** How often a running gate re-reads the OpenStackVersion (the script sleeps 15 s). @default 200 */
  readonly pollMs?: number;
  /** DEADLINE and activeDeadlineSeconds are divided by this. @default 1 */
  readonly timeScale?: number;
  readonly log?: (line: string) => void;
}

export interface GateJobRunner {
  stop(): Promise<void>;
}

const JOB = CORE_TYPES.find((t) => t.kind === 'Job')!;

function isFinished(job: KubeObject): boolean {
  const conditions = ((job['status'] as { conditions?: unknown } | undefined)?.conditions ?? []) as { type?: unknown; status?: unknown }[];
  return Array.isArray(conditions) && conditions.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export async function startGateJobRunner(opts: GateJobRunnerOptions): Promise<GateJobRunner> {
  const log = (line: string) => opts.log?.(`[jobs] ${line}`);
  const loop = new ControllerLoop(log);
  const kube = new KubeClient(opts.kubeconfigYaml, { log, stopped: loop.stopped });
  const scale = opts.timeScale ?? 1;

  const finish = async (job: KubeObject, status: Record<string, unknown>, ok: boolean, reason: string, message: string) => {
    const now = nowTimestamp();
    // the API server refuses a terminal condition without the one that leads to it (Kubernetes 1.31+)
    const condition = (type: string) => ({ type, status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now });
    const next: Record<string, unknown> = {
      startTime: status['startTime'] ?? now,
      ...(ok ? { succeeded: 1, completionTime: now } : { failed: 1 }),
      active: 0,
      ready: 0,
      conditions: ok ? [condition('SuccessCriteriaMet'), condition('Complete')] : [condition('FailureTarget'), condition('Failed')],
    };
    log(`Job ${job.metadata.name}: ${ok ? 'Complete' : 'Failed'}: ${message}`);
    await kube.writeStatus(job, next);
  };

  const kc = new k8s.KubeConfig();
  kc.loadFromString(opts.kubeconfigYaml);

  /** One pass of the approval script: undefined while it waits, else how the Job ends. */
  const approvalStep = async (env: ApprovalJobEnv): Promise<{ ok: boolean; message: string } | undefined> => {
    const [plans, csvObject, osv] = await Promise.all([
      kube.list(INSTALL_PLAN, env.olmNamespace),
      kube.get(apiVersionOf(CLUSTER_SERVICE_VERSION), CLUSTER_SERVICE_VERSION.kind, env.olmNamespace, env.csv),
      kube.get(apiVersionOf(OPENSTACK_VERSION), OPENSTACK_VERSION.kind, env.namespace, env.osv),
    ]);
    const gate = judgeOperatorGate({ csv: env.csv, installPlans: plans.items, csvObject, openStackVersion: osv });
    const plan = gate.installPlan;
    if (gate.state === 'other-csvs' && plan) return { ok: false, message: `refused: InstallPlan ${plan.name} would also install ${plan.unexpected.join(' ')}; approve only a plan that installs exactly ${env.csv}` };
    if (gate.state === 'needs-approval' && plan) {
      try {
        await approveInstallPlan(kc, plan);
        log(`approved InstallPlan ${plan.name} for ${env.csv}`);
      } catch (e) {
        log(`InstallPlan ${plan.name} changed while it was approved: reading it again (${errorText(e)})`);
      }
      return undefined;
    }
    if (gate.state === 'failed') return { ok: false, message: gate.reason };
    const available = (osv?.['status'] as { availableVersion?: unknown } | undefined)?.availableVersion;
    if (gate.csvPhase === 'Succeeded' && available === env.target) return { ok: true, message: `operator upgraded: ${env.csv} Succeeded, availableVersion ${env.target}` };
    return undefined;
  };

  const tick = async () => {
    const { items } = await kube.list(JOB, opts.namespace);
    for (const job of items) {
      if (isFinished(job)) continue;
      const status = (job['status'] ?? {}) as Record<string, unknown>;
      const approval = approvalJobEnv(job);
      if (approval !== undefined) {
        if (status['startTime'] === undefined) {
          await kube.writeStatus(job, { startTime: nowTimestamp(), active: 1, ready: 1 });
          log(`Job ${job.metadata.name}: started, approving the InstallPlan of ${approval.csv}`);
          continue;
        }
        const elapsedMs = Date.now() - Date.parse(String(status['startTime']));
        const end = await approvalStep(approval);
        if (end) await finish(job, status, end.ok, end.ok ? 'Completed' : 'BackoffLimitExceeded', end.message);
        else if (elapsedMs > scaledDeadlineMs(approval.deadlineSeconds * 1000, scale)) await finish(job, status, false, 'BackoffLimitExceeded', 'approval deadline passed');
        continue;
      }
      const env = gateJobEnv(job);
      if (env === undefined) {
        await finish(job, status, false, 'UnsupportedImage', 'the rehearsal cluster cannot run arbitrary images: only osv-gitops gate Jobs (env OSV, NS, TARGET, COND, NEED_DEPLOYED, DEADLINE) run here');
        continue;
      }
      if (status['startTime'] === undefined) {
        await kube.writeStatus(job, { startTime: nowTimestamp(), active: 1, ready: 1 });
        log(`Job ${job.metadata.name}: started, waiting for ${env.condition}`);
        continue;
      }
      const started = Date.parse(String(status['startTime']));
      const elapsedMs = Date.now() - started;
      const activeDeadline = (job['spec'] as { activeDeadlineSeconds?: unknown } | undefined)?.activeDeadlineSeconds;
      if (typeof activeDeadline === 'number' && elapsedMs > scaledDeadlineMs(activeDeadline * 1000, scale)) {
        await finish(job, status, false, 'DeadlineExceeded', 'Job was active longer than specified deadline');
        continue;
      }
      const osv = await kube.get(apiVersionOf(OPENSTACK_VERSION), OPENSTACK_VERSION.kind, env.namespace, env.osv);
      const verdict = evaluateGate(env, osv);
      if (verdict.result === 'passed') await finish(job, status, true, 'Completed', verdict.message);
      else if (verdict.result === 'failed') await finish(job, status, false, 'BackoffLimitExceeded', verdict.message);
      else if (elapsedMs > scaledDeadlineMs(env.deadlineSeconds * 1000, scale)) await finish(job, status, false, 'BackoffLimitExceeded', 'gate deadline passed');
    }
  };

  loop.start(tick, { kube, types: [OPENSTACK_VERSION, JOB], namespace: opts.namespace, pollMs: opts.pollMs ?? 200 });
  return { stop: () => loop.stop() };
}
