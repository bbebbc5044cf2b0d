/**
 * A re-render of phase 0 under Flux (directories mode): the approval Job keeps its name, and a
 * Job's pod template is immutable, so the second commit's apply is refused by the API server. The
 * Job carries `kustomize.toolkit.fluxcd.io/force: Enabled`: the simulated kustomize-controller
 * recreates it, as Flux's ssa does. Without the mark the Kustomization stalls on the apply.
 */
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exampleDir, loadUpdate } from '../../src/cli/inputs.js';
import { EXAMPLE_SUBSCRIPTION } from '../../src/cli/simulate.js';
import { writeFiles } from '../../src/git/write-tree.js';
import { renderDirectories, type RenderedFile } from '../../src/render/render.js';
import { startSimulatedAgent, type SimulatedAgent } from '../../src/simulate/agent/agent.js';
import { startRehearsalApiServer, type RehearsalApiServer } from '../../src/simulate/apiserver/server.js';
import { newRepo } from '../helpers/git-repo.js';

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const inputs = loadUpdate({ example: true, subscription: join(exampleDir(), EXAMPLE_SUBSCRIPTION) }, io);
const plan = inputs.plan;
const OLM_NS = plan.operatorUpgrade!.operatorNamespace;
const FORCE = 'kustomize.toolkit.fluxcd.io/force';

interface Job {
  metadata: { name: string; uid: string; annotations?: Record<string, string> };
  spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
}

let server: RehearsalApiServer | undefined;
let agent: SimulatedAgent | undefined;

beforeAll(() => {
  process.env['GIT_CONFIG_GLOBAL'] = '/dev/null';
  process.env['GIT_AUTHOR_NAME'] = process.env['GIT_COMMITTER_NAME'] = 'osv-gitops test';
  process.env['GIT_AUTHOR_EMAIL'] = process.env['GIT_COMMITTER_EMAIL'] = 'test@osv-gitops.invalid';
});

afterEach(async () => {
  await agent?.stop();
  await server?.close();
  agent = undefined;
  server = undefined;
});

function commit(work: string, files: readonly RenderedFile[], message: string): void {
  writeFiles(work, files);
  for (const args of [['add', '--all'], ['commit', '--quiet', '-m', message], ['push', '--quiet', 'origin', 'main']]) execFileSync('git', args, { cwd: work });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Renders phase 0 with the given operator deadline; `keepForce: false` strips the Job's mark. */
function render(deadlineSeconds: number, keepForce = true): RenderedFile[] {
  const files = renderDirectories(inputs, { engine: 'flux', gateDeadlines: { operator: deadlineSeconds } });
  return keepForce ? files : files.map((f) => (/\/00-operator\/job-/.test(f.path) ? { ...f, content: f.content.replace(new RegExp(`\\n\\s*annotations:\\n\\s*${FORCE}: Enabled`), '') } : f));
}

async function run(keepForce: boolean) {
  server = await startRehearsalApiServer({ namespaces: [plan.namespace, 'flux-system', OLM_NS] });
  const kubeconfig = server.kubeconfig(plan.namespace);
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfig);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const repo = newRepo();
  const first = render(600, keepForce);
  expect(first.find((f) => /\/00-operator\/job-/.test(f.path))!.content.includes(FORCE)).toBe(keepForce);
  commit(repo.work, first, 'phase 0, deadline 10m');
  agent = await startSimulatedAgent({ kubeconfigYaml: kubeconfig, engine: 'flux', mode: 'directories', repoUrl: repo.bare, branch: 'main', path: `updates/${plan.versions.target}/flux`, agentObject: { namespace: 'flux-system', name: 'flux-system' }, namespace: plan.namespace, pollMs: 50, resyncMs: 300, timeScale: 1, ...(process.env['OSV_AGENT_DEBUG'] ? { log: (l: string) => console.log(`${Date.now() % 100000} ${l}`) } : {}) });
  const jobs = async () => (await batch.listNamespacedJob({ namespace: OLM_NS })).items as unknown as Job[];
  const deadlineOf = (j: Job) => j.spec.template.spec.containers[0]!.env.find((e) => e.name === 'DEADLINE')?.value;
  const before = await until('the approval Job applied', async () => (await jobs())[0]);
  expect(deadlineOf(before)).toBe('600');
  commit(repo.work, render(900, keepForce), 'phase 0, deadline 15m');
  const operatorKs = async () => {
    const list = (await custom.listNamespacedCustomObject({ group: 'kustomize.toolkit.fluxcd.io', version: 'v1', namespace: 'flux-system', plural: 'kustomizations' })) as { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } }[] };
    return list.items.find((k) => k.metadata.name.endsWith('-00-operator'));
  };
  return { before, jobs, deadlineOf, operatorKs };
}

describe('Flux re-render of phase 0 (simulated kustomize-controller, rehearsal API server)', () => {
  it('recreates the approval Job whose template changed (force mark)', async () => {
    const { before, jobs, deadlineOf } = await run(true);
    const after = await until('the Job recreated with the new deadline', async () => (await jobs()).find((j) => deadlineOf(j) === '900'));
    expect(after.metadata.name).toBe(before.metadata.name);
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(after.metadata.annotations?.[FORCE]).toBe('Enabled');
    // measured 12-14 s (7 s of it the first clone and build), 2 s from the second push to the new Job, load ~9
  }, 180_000);

  it('without the mark the apply is refused (the template is immutable) and the Job stays as it was', async () => {
    const { before, jobs, deadlineOf, operatorKs } = await run(false);
    const failed = await until('the 00-operator Kustomization refused', async () => {
      const ready = (await operatorKs())?.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.reason === 'ReconciliationFailed' ? ready : undefined;
    });
    expect(failed.message).toMatch(/immutable/);
    const live = await jobs();
    expect(live.map((j) => [j.metadata.uid, deadlineOf(j)])).toEqual([[before.metadata.uid, '600']]);
  }, 180_000);
});
