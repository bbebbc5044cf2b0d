/**
 * The simulated agent end to end: real Git (a bare remote over file://, commits made by
 * `commitPhases`), the rehearsal API server on 127.0.0.1, and only `@kubernetes/client-node`
 * between them. The OpenStack operator is played by the test, through the status subresource.
 */
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadUpdate } from '../../src/cli/inputs.js';
import { commitPhases } from '../../src/git/commit-phases.js';
import { writeFiles } from '../../src/git/write-tree.js';
import { renderDirectories } from '../../src/render/render.js';
import { startSimulatedAgent, type SimulatedAgent } from '../../src/simulate/agent/agent.js';
import { startRehearsalApiServer, type RehearsalApiServer } from '../../src/simulate/apiserver/server.js';
import { startGateJobRunner, type GateJobRunner } from '../../src/simulate/jobs.js';
import { newRepo } from '../helpers/git-repo.js';

const NS = 'openstack';
const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const inputs = loadUpdate({ example: true }, io);
const TARGET = inputs.plan.versions.target;
const SLUG = TARGET.replace(/\./g, '-');

type Obj = { metadata: { name: string; generation?: number; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown>; status?: Record<string, unknown> };

function sh(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}


const GROUPS = {
  osv: { group: 'core.openstack.org', version: 'v1beta1', plural: 'openstackversions' },
  deployment: { group: 'dataplane.openstack.org', version: 'v1beta1', plural: 'openstackdataplanedeployments' },
  ks: { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', plural: 'kustomizations' },
  app: { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications' },
  job: { group: 'batch', version: 'v1', plural: 'jobs' },
  controlplane: { group: 'core.openstack.org', version: 'v1beta1', plural: 'openstackcontrolplanes' },
  nodeset: { group: 'dataplane.openstack.org', version: 'v1beta1', plural: 'openstackdataplanenodesets' },
} as const;

let server: RehearsalApiServer | undefined;
const running: { stop(): Promise<void> }[] = [];

async function cluster(): Promise<{ server: RehearsalApiServer; api: k8s.CustomObjectsApi; kubeconfig: string }> {
  server = await startRehearsalApiServer({ namespaces: [NS, 'flux-system', 'argocd'] });
  const kubeconfig = server.kubeconfig(NS);
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfig);
  return { server, api: kc.makeApiClient(k8s.CustomObjectsApi), kubeconfig };
}

async function get(api: k8s.CustomObjectsApi, kind: keyof typeof GROUPS, namespace: string, name: string): Promise<Obj | undefined> {
  try {
    return (await api.getNamespacedCustomObject({ ...GROUPS[kind], namespace, name })) as Obj;
  } catch (e) {
    if (e instanceof k8s.ApiException && e.code === 404) return undefined;
    throw e;
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Plays the operator: marks a condition of the OpenStackVersion True for its current generation. */
async function setOsvCondition(api: k8s.CustomObjectsApi, type: string, extra: Record<string, unknown> = {}, generationLag = 0): Promise<void> {
  const osv = (await get(api, 'osv', NS, 'openstack'))!;
  const old = ((osv.status?.['conditions'] as { type: string }[] | undefined) ?? []).filter((c) => c.type !== type);
  const status = {
    ...(osv.status ?? {}),
    ...extra,
    observedGeneration: (osv.metadata.generation ?? 1) - generationLag,
    conditions: [...old, { type, status: 'True', reason: 'Ready', message: `${type} completed`, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
  };
  await api.patchNamespacedCustomObjectStatus({ ...GROUPS.osv, namespace: NS, name: 'openstack', body: [{ op: 'add', path: '/status', value: status }] });
}

/** Plays the operator for the control plane and the nodesets: Ready for their current generation. */
async function markCarriedReady(api: k8s.CustomObjectsApi): Promise<void> {
  for (const [kind, name] of [['controlplane', 'openstack'], ['nodeset', 'compute-a'], ['nodeset', 'compute-b']] as const) {
    const o = await until(`${kind} ${name} applied`, () => get(api, kind, NS, name));
    const status = { observedGeneration: o.metadata.generation, conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'Setup complete', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
    await api.patchNamespacedCustomObjectStatus({ ...GROUPS[kind], namespace: NS, name, body: [{ op: 'add', path: '/status', value: status }] });
  }
}

function condition(o: Obj | undefined, type: string): { status?: string; reason?: string; message?: string; observedGeneration?: number } | undefined {
  type Cond = { type: string; status?: string; reason?: string; message?: string; observedGeneration?: number };
  return ((o?.status?.['conditions'] as Cond[] | undefined) ?? []).find((c) => c.type === type);
}

async function agent(opts: Parameters<typeof startSimulatedAgent>[0]): Promise<SimulatedAgent> {
  const a = await startSimulatedAgent({ pollMs: 50, resyncMs: 300, ...(process.env['OSV_AGENT_DEBUG'] ? { log: (l: string) => console.log(l) } : {}), ...opts });
  running.push(a);
  return a;
}

beforeAll(() => {
  process.env['GIT_CONFIG_GLOBAL'] = '/dev/null';
  process.env['GIT_AUTHOR_NAME'] = process.env['GIT_COMMITTER_NAME'] = 'osv-gitops test';
  process.env['GIT_AUTHOR_EMAIL'] = process.env['GIT_COMMITTER_EMAIL'] = 'test@osv-gitops.invalid';
});

afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  await server?.close();
  server = undefined;
});

describe('simulated agent, commits mode', () => {
  it('Flux: applies each phase commit and reports the revision on the Kustomization', async () => {
    const { api, kubeconfig, server: srv } = await cluster();
    const repo = newRepo();
    const first = await commitPhases(inputs, { repo: repo.work, engine: 'flux', push: { remote: 'origin' } });
    const sha1 = first.committed[0]!.sha;
    const a = await agent({ kubeconfigYaml: kubeconfig, engine: 'flux', mode: 'commits', repoUrl: `file://${repo.bare}`, branch: 'main', path: 'openstack-update', agentObject: { namespace: 'flux-system', name: 'openstack' }, namespace: NS });

    const ks1 = await until('Kustomization Ready at phase 1', async () => {
      const ks = await get(api, 'ks', 'flux-system', 'openstack');
      return ks?.status?.['lastAppliedRevision'] === `main@sha1:${sha1}` && condition(ks, 'Ready')?.status === 'True' ? ks : undefined;
    });
    expect(ks1.status?.['observedGeneration']).toBe(ks1.metadata.generation);
    expect(condition(ks1, 'Ready')).toMatchObject({ reason: 'ReconciliationSucceeded', observedGeneration: ks1.metadata.generation });
    expect(ks1.status?.['lastAttemptedRevision']).toBe(`main@sha1:${sha1}`);
    const osv = await get(api, 'osv', NS, 'openstack');
    expect(osv?.spec?.['targetVersion']).toBe(TARGET);
    expect(osv?.metadata.labels?.['kustomize.toolkit.fluxcd.io/name']).toBe('openstack');
    expect(osv?.status).toBeUndefined(); // the agent never writes the status of what it applies
    expect(await get(api, 'deployment', NS, `edpm-ovn-${SLUG}`)).toBeUndefined();
    expect(a.appliedRevision).toBe(sha1);

    // the next phase, with the API failing now and then and the watches dropped
    srv.faults.failNext(3, 500);
    srv.faults.dropWatches();
    const second = await commitPhases(inputs, { repo: repo.work, engine: 'flux', push: { remote: 'origin' } });
    const sha2 = second.committed[0]!.sha;
    await until('phase 2 applied', async () => {
      const ks = await get(api, 'ks', 'flux-system', 'openstack');
      return ks?.status?.['lastAppliedRevision'] === `main@sha1:${sha2}` && condition(ks, 'Ready')?.status === 'True';
    });
    expect(await get(api, 'deployment', NS, `edpm-ovn-${SLUG}`)).toBeDefined();
    expect(a.appliedRevision).toBe(sha2);
  });

  it('Argo CD: syncs the Application and reports sync, operation and trusted health', async () => {
    const { api, kubeconfig } = await cluster();
    const repo = newRepo();
    const first = await commitPhases(inputs, { repo: repo.work, engine: 'argocd', push: { remote: 'origin' } });
    const sha1 = first.committed[0]!.sha;
    await agent({ kubeconfigYaml: kubeconfig, engine: 'argocd', mode: 'commits', repoUrl: `file://${repo.bare}`, branch: 'main', path: 'openstack-update', agentObject: { namespace: 'argocd', name: 'openstack' }, namespace: NS });

    const synced = await until('Application synced with health assessed', async () => {
      const app = await get(api, 'app', 'argocd', 'openstack');
      const st = app?.status as { sync?: { status?: string; revision?: string }; operationState?: { phase?: string; finishedAt?: string }; reconciledAt?: string } | undefined;
      const op = st?.operationState;
      return st?.sync?.status === 'Synced' && st.sync.revision === sha1 && op?.phase === 'Succeeded' && st.reconciledAt !== undefined && op.finishedAt !== undefined && st.reconciledAt >= op.finishedAt ? app : undefined;
    });
    const st = synced.status as { operationState: { startedAt: string; syncResult: { revision: string } }; health: { status: string; message?: string } };
    expect(st.operationState.syncResult.revision).toBe(sha1);
    expect(st.operationState.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // the OpenStackVersion has no status yet: its Lua check says Progressing, and so does the app
    expect(st.health.status).toBe('Progressing');
    const osv = await get(api, 'osv', NS, 'openstack');
    expect(osv?.metadata.annotations?.['argocd.argoproj.io/tracking-id']).toBe('openstack:core.openstack.org/OpenStackVersion:openstack/openstack');

    // the operator reports the phase-1 gate: the health-gate annotation names it, so the app turns Healthy
    const gate = osv?.metadata.annotations?.['osv-gitops.io/health-gate'];
    expect(gate).toBe('MinorUpdateOVNControlplane');
    await setOsvCondition(api, gate!);
    await new Promise((r) => setTimeout(r, 500));
    // still Progressing: the control plane and nodesets have not reported Ready yet
    expect(((await get(api, 'app', 'argocd', 'openstack'))?.status?.['health'] as { status?: string }).status).toBe('Progressing');
    await markCarriedReady(api);
    await until('Application Healthy', async () => {
      const app = await get(api, 'app', 'argocd', 'openstack');
      return (app?.status?.['health'] as { status?: string } | undefined)?.status === 'Healthy';
    });

    const second = await commitPhases(inputs, { repo: repo.work, engine: 'argocd', push: { remote: 'origin' } });
    const sha2 = second.committed[0]!.sha;
    await until('phase 2 synced', async () => {
      const app = await get(api, 'app', 'argocd', 'openstack');
      const s = app?.status as { sync?: { revision?: string; status?: string }; operationState?: { phase?: string; syncResult?: { revision?: string } } } | undefined;
      return s?.sync?.revision === sha2 && s.sync.status === 'Synced' && s.operationState?.phase === 'Succeeded' && s.operationState.syncResult?.revision === sha2;
    });
    expect(await get(api, 'deployment', NS, `edpm-ovn-${SLUG}`)).toBeDefined();
  });
});

describe('simulated agent, directories mode', () => {
  it('Flux: the second Kustomization waits on the first one, whose CEL gate waits on the OpenStackVersion', async () => {
    const { api, kubeconfig } = await cluster();
    const repo = newRepo();
    writeFiles(repo.work, renderDirectories(inputs, { engine: 'flux' }));
    sh(repo.work, 'add', '--all');
    sh(repo.work, 'commit', '--quiet', '-m', 'update');
    sh(repo.work, 'push', '--quiet', 'origin', 'main');
    const sha = sh(repo.work, 'rev-parse', 'HEAD');
    const rev = `main@sha1:${sha}`;
    await agent({ kubeconfigYaml: kubeconfig, engine: 'flux', mode: 'directories', repoUrl: repo.bare, branch: 'main', path: `updates/${TARGET}/flux`, agentObject: { namespace: 'flux-system', name: 'flux-system' }, namespace: NS, timeScale: 1 });
    const k1 = `osv-${SLUG}-01-ovn-controlplane`;
    const k2 = `osv-${SLUG}-02-ovn-dataplane`;

    // phase 1 is applied and runs its health checks; phase 2 waits for it
    await until('phase 1 applied, health pending', async () => {
      const ks = await get(api, 'ks', 'flux-system', k1);
      return condition(ks, 'Ready')?.reason === 'Progressing' && ks?.status?.['lastAttemptedRevision'] === rev;
    });
    // the Kustomization reports the attempt before its apply of the OpenStackVersion has landed
    await until('the OpenStackVersion applied', async () => (await get(api, 'osv', NS, 'openstack'))?.spec?.['targetVersion'] === TARGET);
    const waiting = await until('phase 2 waiting on phase 1', async () => {
      const ks = await get(api, 'ks', 'flux-system', k2);
      return condition(ks, 'Ready')?.reason === 'DependencyNotReady' ? ks : undefined;
    });
    expect(condition(waiting, 'Ready')?.message).toContain(k1);
    expect(await get(api, 'deployment', NS, `edpm-ovn-${SLUG}`)).toBeUndefined();

    // a stale condition (observedGeneration behind) must not pass the gate
    await setOsvCondition(api, 'MinorUpdateOVNControlplane', {}, 1);
    await new Promise((r) => setTimeout(r, 700));
    expect(condition(await get(api, 'ks', 'flux-system', k1), 'Ready')?.status).not.toBe('True');
    expect(await get(api, 'deployment', NS, `edpm-ovn-${SLUG}`)).toBeUndefined();

    // the operator catches up: phase 1 turns Ready, phase 2 applies the OVN deployment
    await setOsvCondition(api, 'MinorUpdateOVNControlplane');
    const ready1 = await until('phase 1 Ready', async () => {
      const ks = await get(api, 'ks', 'flux-system', k1);
      return condition(ks, 'Ready')?.status === 'True' ? ks : undefined;
    });
    expect(ready1.status?.['lastAppliedRevision']).toBe(rev);
    await until('OVN data-plane deployment applied by phase 2', () => get(api, 'deployment', NS, `edpm-ovn-${SLUG}`));
    const ks2 = await until('phase 2 health pending', async () => {
      const ks = await get(api, 'ks', 'flux-system', k2);
      return condition(ks, 'Ready')?.reason === 'Progressing' ? ks : undefined;
    });
    expect(ks2.status?.['lastAppliedRevision']).toBeUndefined();
    expect(condition(await get(api, 'ks', 'flux-system', `osv-${SLUG}-03-controlplane`), 'Ready')?.reason).toBe('DependencyNotReady');
  });

  it('Flux: a failed data-plane deployment fails the health check with its message', async () => {
    const { api, kubeconfig } = await cluster();
    const repo = newRepo();
    writeFiles(repo.work, renderDirectories(inputs, { engine: 'flux' }));
    sh(repo.work, 'add', '--all');
    sh(repo.work, 'commit', '--quiet', '-m', 'update');
    sh(repo.work, 'push', '--quiet', 'origin', 'main');
    await agent({ kubeconfigYaml: kubeconfig, engine: 'flux', mode: 'directories', repoUrl: repo.bare, branch: 'main', path: `updates/${TARGET}/flux`, agentObject: { namespace: 'flux-system', name: 'flux-system' }, namespace: NS });
    await until('OSV applied', () => get(api, 'osv', NS, 'openstack'));
    await setOsvCondition(api, 'MinorUpdateOVNControlplane');
    const dep = await until('deployment applied', () => get(api, 'deployment', NS, `edpm-ovn-${SLUG}`));
    await api.patchNamespacedCustomObjectStatus({
      ...GROUPS.deployment,
      namespace: NS,
      name: dep.metadata.name,
      body: [{ op: 'add', path: '/status', value: { observedGeneration: dep.metadata.generation, conditions: [{ type: 'DeploymentReady', status: 'False', severity: 'Error', reason: 'BackoffLimitExceeded', message: 'ansible failed on compute-a-0', lastTransitionTime: '2026-01-01T00:00:00Z' }] } }],
    });
    const failed = await until('phase 2 HealthCheckFailed', async () => {
      const ks = await get(api, 'ks', 'flux-system', `osv-${SLUG}-02-ovn-dataplane`);
      return condition(ks, 'Ready')?.reason === 'HealthCheckFailed' ? ks : undefined;
    });
    expect(condition(failed, 'Ready')?.status).toBe('False');
    expect(condition(failed, 'Ready')?.message).toContain('ansible failed on compute-a-0');
  });

  it('Argo CD: app-of-apps syncs phase Applications wave by wave, gated by the gate Jobs', async () => {
    const { api, kubeconfig } = await cluster();
    const repo = newRepo();
    writeFiles(repo.work, renderDirectories(inputs, { engine: 'argocd', argo: { repoURL: 'https://git.example.com/ops/openstack.git' } }));
    sh(repo.work, 'add', '--all');
    sh(repo.work, 'commit', '--quiet', '-m', 'update');
    sh(repo.work, 'push', '--quiet', 'origin', 'main');
    await agent({ kubeconfigYaml: kubeconfig, engine: 'argocd', mode: 'directories', repoUrl: repo.bare, branch: 'main', path: `updates/${TARGET}/argocd`, agentObject: { namespace: 'argocd', name: 'osv-root' }, namespace: NS });
    const jobs: GateJobRunner = await startGateJobRunner({ kubeconfigYaml: kubeconfig, namespace: NS, pollMs: 100 });
    running.push(jobs);
    const a1 = `osv-${SLUG}-01-ovn-controlplane`;
    const a2 = `osv-${SLUG}-02-ovn-dataplane`;

    await until('phase 1 Application synced', async () => {
      const app = await get(api, 'app', 'argocd', a1);
      return (app?.status?.['sync'] as { status?: string } | undefined)?.status === 'Synced';
    });
    const job1 = await until('gate Job 1 started', async () => {
      const job = await get(api, 'job', NS, `osv-gate-${SLUG}-01`);
      return job?.status?.['startTime'] ? job : undefined;
    });
    expect(job1.status?.['active']).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(await get(api, 'app', 'argocd', a2)).toBeUndefined(); // wave 2 waits for wave 1 to be Healthy
    const root = await get(api, 'app', 'argocd', 'osv-root');
    expect((root?.status?.['operationState'] as { phase?: string; message?: string }).phase).toBe('Running');
    expect((root?.status?.['operationState'] as { message?: string }).message).toContain(a1);

    await setOsvCondition(api, 'MinorUpdateOVNControlplane');
    await markCarriedReady(api);
    const done = await until('gate Job 1 Complete', async () => {
      const job = await get(api, 'job', NS, `osv-gate-${SLUG}-01`);
      return condition(job, 'Complete')?.status === 'True' ? job : undefined;
    });
    expect(done.status?.['succeeded']).toBe(1);
    expect(done.status?.['completionTime']).toBeDefined();
    await until('phase 1 Application Healthy', async () => {
      const app = await get(api, 'app', 'argocd', a1);
      return (app?.status?.['health'] as { status?: string } | undefined)?.status === 'Healthy';
    });
    await until('wave 2 Application created and synced', async () => {
      const app = await get(api, 'app', 'argocd', a2);
      return (app?.status?.['sync'] as { status?: string } | undefined)?.status === 'Synced';
    });
    expect(await get(api, 'deployment', NS, `edpm-ovn-${SLUG}`)).toBeDefined();
    expect(await get(api, 'app', 'argocd', `osv-${SLUG}-03-controlplane`)).toBeUndefined();
  });
});
