/** The gate-Job "kubelet" and the agents' health helpers. */
import * as k8s from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { loadUpdate } from '../../src/cli/inputs.js';
import { renderDirectories } from '../../src/render/render.js';
import { parseAllDocuments } from 'yaml';
import { aggregateArgoHealth, argoResourceHealth } from '../../src/agents/argocd/rehearsal-health.js';
import { fluxObjectHealth, kstatusOf } from '../../src/agents/flux/rehearsal-health.js';
import type { KubeObject } from '../../src/simulate/agent/kube.js';
import { startRehearsalApiServer, type RehearsalApiServer } from '../../src/simulate/apiserver/server.js';
import { evaluateGate, gateJobEnv, startGateJobRunner, type GateJobRunner } from '../../src/simulate/jobs.js';

const inputs = loadUpdate({ example: true }, { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false });
const TARGET = inputs.plan.versions.target;
const jobs = renderDirectories(inputs, { engine: 'argocd', argo: { repoURL: 'https://git.example.com/ops/openstack.git' } })
  .filter((f) => /\/job-[^/]+\.yaml$/.test(f.path))
  .map((f) => parseAllDocuments(f.content)[0]!.toJS() as KubeObject);

const osv = (status: Record<string, unknown>, generation = 2, target = TARGET): KubeObject => ({
  apiVersion: 'core.openstack.org/v1beta1',
  kind: 'OpenStackVersion',
  metadata: { name: 'openstack', namespace: 'openstack', generation },
  spec: { targetVersion: target },
  status,
});
const cond = (type: string, status: string, reason = 'Ready') => ({ type, status, reason, message: 'm' });

describe('gate rule', () => {
  it('reads the rendered Jobs and applies the script rule', () => {
    expect(jobs.length).toBeGreaterThan(1);
    const env = gateJobEnv(jobs[0]!)!;
    expect(env).toMatchObject({ osv: 'openstack', namespace: 'openstack', target: TARGET, condition: 'MinorUpdateOVNControlplane', needDeployed: false });
    expect(evaluateGate(env, undefined).result).toBe('waiting');
    expect(evaluateGate(env, osv({ observedGeneration: 2, conditions: [cond(env.condition, 'True')] })).result).toBe('passed');
    // stale generation, other target, missing condition: waiting
    expect(evaluateGate(env, osv({ observedGeneration: 1, conditions: [cond(env.condition, 'True')] })).result).toBe('waiting');
    expect(evaluateGate(env, osv({ observedGeneration: 2, conditions: [cond(env.condition, 'True')] }, 2, '0.0.1')).result).toBe('waiting');
    expect(evaluateGate(env, osv({ observedGeneration: 2, conditions: [] })).message).toContain('MinorUpdateOVNControlplane=missing');
    expect(evaluateGate(env, osv({ observedGeneration: 2, conditions: [cond(env.condition, 'False', 'Error')] })).result).toBe('failed');
    expect(evaluateGate(env, osv({ observedGeneration: 2, conditions: [cond(env.condition, 'False', 'InProgress')] })).result).toBe('waiting');
    const last = gateJobEnv(jobs[jobs.length - 1]!)!;
    expect(last.needDeployed).toBe(true);
    expect(evaluateGate(last, osv({ observedGeneration: 2, deployedVersion: 'old', conditions: [cond(last.condition, 'True')] })).result).toBe('waiting');
    expect(evaluateGate(last, osv({ observedGeneration: 2, deployedVersion: TARGET, conditions: [cond(last.condition, 'True')] })).result).toBe('passed');
  });
});

describe('health helpers', () => {
  it('aggregates Argo CD health in gitops-engine order and uses our Lua checks', () => {
    expect(aggregateArgoHealth([{ status: 'Healthy' }, undefined, { status: 'Progressing' }]).status).toBe('Progressing');
    expect(aggregateArgoHealth([{ status: 'Missing' }, { status: 'Degraded' }, { status: 'Suspended' }]).status).toBe('Degraded');
    expect(aggregateArgoHealth([{ status: 'Degraded' }, { status: 'Unknown' }]).status).toBe('Unknown');
    expect(aggregateArgoHealth([]).status).toBe('Healthy');
    const o = osv({ observedGeneration: 2, conditions: [cond('Ready', 'True')], deployedVersion: TARGET });
    expect(argoResourceHealth(o, o)?.status).toBe('Healthy');
    expect(argoResourceHealth(undefined, o)?.status).toBe('Missing');
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } };
    expect(argoResourceHealth(cm, cm)).toBeUndefined();
    const job = { ...jobs[0]!, status: { conditions: [{ type: 'Failed', status: 'True', message: 'gate failed' }] } };
    expect(argoResourceHealth(job, job)).toEqual({ status: 'Degraded', message: 'gate failed' });
  });

  it('reads Flux health through the CEL entry for the kind, else kstatus', () => {
    const exprs = [{ apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', current: "status.conditions.exists(c, c.type == 'X' && c.status == 'True')" }];
    expect(fluxObjectHealth(osv({ observedGeneration: 2, conditions: [cond('X', 'True')] }), exprs).status).toBe('Current');
    expect(fluxObjectHealth(osv({ observedGeneration: 1, conditions: [cond('X', 'True')] }), exprs).status).toBe('InProgress');
    expect(fluxObjectHealth(osv({}), exprs).status).toBe('Unknown'); // no status.conditions: CEL error, Flux keeps waiting
    expect(fluxObjectHealth(undefined, exprs).status).toBe('NotFound');
    expect(kstatusOf(osv({ observedGeneration: 2, conditions: [cond('Ready', 'False')] })).status).toBe('InProgress');
    expect(kstatusOf(osv({ observedGeneration: 2, conditions: [cond('Stalled', 'True')] })).status).toBe('Failed');
  });
});

describe('gate Job runner', () => {
  let server: RehearsalApiServer | undefined;
  let runner: GateJobRunner | undefined;
  afterEach(async () => {
    await runner?.stop();
    await server?.close();
  });

  it('completes a gate Job when the condition holds, fails a foreign Job and one past its deadline', async () => {
    server = await startRehearsalApiServer({ namespaces: ['openstack'] });
    const kc = new k8s.KubeConfig();
    kc.loadFromString(server.kubeconfig('openstack'));
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const jobApi = { group: 'batch', version: 'v1', namespace: 'openstack', plural: 'jobs' };
    const getJob = async (name: string) => (await custom.getNamespacedCustomObject({ ...jobApi, name })) as { status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[]; succeeded?: number; failed?: number; startTime?: string; completionTime?: string } };
    const waitFor = async (name: string, type: string) => {
      for (let i = 0; i < 200; i++) {
        const j = await getJob(name);
        if (j.status?.conditions?.some((c) => c.type === type && c.status === 'True')) return j;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${name} never ${type}`);
    };

    const gate = jobs[0]!;
    // a gate whose DEADLINE (seconds) has already passed when it starts
    const slow = structuredClone({ ...jobs[1]!, metadata: { ...jobs[1]!.metadata, name: 'slow-gate' } }) as KubeObject & { spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } } };
    for (const e of slow.spec.template.spec.containers[0]!.env) if (e.name === 'DEADLINE') e.value = '0';
    const foreign: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'foreign', namespace: 'openstack' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'x', image: 'busybox', command: ['true'] }] } } },
    };
    await objects.create({ apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', metadata: { name: 'openstack', namespace: 'openstack' }, spec: { targetVersion: TARGET } });
    for (const j of [gate, slow, foreign]) await objects.create(j as k8s.KubernetesObject);
    runner = await startGateJobRunner({ kubeconfigYaml: server.kubeconfig('openstack'), namespace: 'openstack', pollMs: 50 });

    const failedForeign = await waitFor('foreign', 'Failed');
    expect(failedForeign.status?.conditions?.[0]?.message).toContain('cannot run arbitrary images');
    const started = await getJob(gate.metadata.name);
    expect(started.status?.conditions ?? []).toEqual([]);

    const live = (await custom.getNamespacedCustomObject({ group: 'core.openstack.org', version: 'v1beta1', namespace: 'openstack', plural: 'openstackversions', name: 'openstack' })) as { metadata: { generation: number } };
    await custom.patchNamespacedCustomObjectStatus({
      group: 'core.openstack.org',
      version: 'v1beta1',
      namespace: 'openstack',
      plural: 'openstackversions',
      name: 'openstack',
      body: [{ op: 'add', path: '/status', value: { observedGeneration: live.metadata.generation, conditions: [{ type: 'MinorUpdateOVNControlplane', status: 'True', reason: 'Ready', message: 'done', lastTransitionTime: '2026-01-01T00:00:00Z' }] } }],
    });
    const complete = await waitFor(gate.metadata.name, 'Complete');
    expect(complete.status).toMatchObject({ succeeded: 1 });
    expect(complete.status?.startTime).toBeDefined();
    expect(complete.status?.completionTime).toBeDefined();
    const late = await waitFor('slow-gate', 'Failed');
    expect(late.status?.failed).toBe(1);
    expect(late.status?.conditions?.[0]?.message).toBe('gate deadline passed');
  });
});
