/**
 * The runner end to end on a real kube-apiserver, as far as it goes without a kubelet: the example
 * update driven to the end by "CronJob ticks" that do exactly what the rendered pod does — the init
 * container's `git clone` into an empty folder, then the container's own arguments (`advance ...`)
 * with the rendered Git configuration — under a TokenRequest token of the rendered ServiceAccount,
 * bound by the rendered Roles. The simulated operator and Flux play the cluster (as admin).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runnerOptions } from '../../src/cli/render-runner.js';
import { runnerManifests, type Manifest } from '../../src/runner/manifests.js';
import { startRehearsalCluster, type RehearsalCluster } from '../../src/simulate/rehearsal.js';
import { describeRealCluster } from '../e2e-real/describe-real.js';
import { startRealCluster, type RealCluster } from '../e2e-real/harness.js';
import { gitPhases, phaseTrailers } from '../e2e/scenarios.js';
import { sealGitEnv } from '../helpers/git-repo.js';
import { rehearsalInputs } from '../helpers/rehearsal.js';
import { applyRunnerManifests, commitSavedPlan, RUNNER_REPO_URL, runnerTokenKubeconfig, runPodTick, usePodGitConfig } from './runner-pod.js';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

describeRealCluster('render-runner: CronJob ticks drive the example update under the runner token (real API server)', () => {
  let real: RealCluster | undefined;
  let rehearsal: RehearsalCluster | undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'osv-runner-cron-'));
  const opts = rehearsalInputs('example', 'flux', 'commits');
  const plan = opts.update.plan;
  let workload: Any;
  let deploymentArgs: string[] = [];
  let tokenKubeconfig = '';
  let restoreEnv = () => {};

  beforeAll(async () => {
    sealGitEnv(); // for the rehearsal's own Git; the ticks use the rendered configuration
    real = await startRealCluster();
    const r = real;
    rehearsal = await startRehearsalCluster({ ...opts, apiServer: { kubeconfig: () => r.kubeconfigYaml, close: async () => {} } });
    commitSavedPlan(rehearsal.repo, plan);

    const options = runnerOptions({
      namespace: plan.namespace,
      image: 'quay.io/example/osv-gitops:0.1.0',
      repoUrl: RUNNER_REPO_URL,
      gitSecret: 'osv-gitops-git',
      plan: 'inputs/plan.json',
      agent: `flux:${rehearsal.agentRef.namespace}/${rehearsal.agentRef.name}`,
      csvNamespace: 'openstack-operators',
    });
    const manifests = runnerManifests(options);
    const admin = new KubeConfig();
    admin.loadFromString(r.kubeconfigYaml);
    await applyRunnerManifests(admin, options);
    workload = manifests.at(-1) as Manifest;
    deploymentArgs = (runnerManifests({ ...options, kind: 'deployment' }).at(-1) as Any).spec.template.spec.containers[0].args;
    tokenKubeconfig = await runnerTokenKubeconfig(admin, r.kubeconfigYaml, options, tmp);
    restoreEnv = usePodGitConfig(options, tmp);
  }, 240_000);
  afterAll(async () => {
    restoreEnv();
    await rehearsal?.stop();
    await real?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('every tick clones afresh and runs the rendered advance; the update completes, one commit per phase', async () => {
    const pod = workload.spec.jobTemplate.spec.template.spec;
    const clone: string[] = pod.initContainers[0].command;
    const args: string[] = pod.containers[0].args;
    const bare = `file://${rehearsal!.repo.bare}`;
    const outcomes: string[] = [];
    const deadline = Date.now() + 200_000;
    let last: Any;
    let ticks = 0;
    for (let tick = 0; Date.now() < deadline; tick++) {
      ticks = tick + 1;
      // a new pod: an empty /workspace, the clone of the init container (the URL and folder of this test)
      const r = await runPodTick({ clone, args, bareUrl: bare, kubeconfig: tokenKubeconfig, workspace: join(tmp, `work-${tick}`) });
      // the CronJob's wrapper: exit 3 (waiting) is a successful Job
      expect([0, 3], `tick ${tick}: ${r.stderr}${r.stdout}`).toContain(r.exitCode);
      last = JSON.parse(r.stdout);
      if (outcomes.at(-1) !== last.outcome || last.outcome === 'advanced') outcomes.push(last.outcome === 'advanced' ? `advanced ${last.committed?.phase}` : last.outcome);
      if (last.outcome === 'done') break;
      await sleep(500);
    }
    console.info(`${ticks} ticks: ${outcomes.join(' → ')}`);
    expect(last?.outcome, JSON.stringify(last?.status?.reason)).toBe('done');
    expect(outcomes.filter((o) => o.startsWith('advanced'))).toHaveLength(gitPhases(plan).length);
    expect(phaseTrailers(rehearsal!.repo.bare, rehearsal!.repo.branch)).toEqual(gitPhases(plan));
    // committed by the runner's identity, from the rendered Git configuration
    // the progress as Events on the OpenStackVersion, written under the runner's token, each once
    // although one more tick runs after the update is done (as the CronJob keeps going)
    expect((await runPodTick({ clone, args, bareUrl: bare, kubeconfig: tokenKubeconfig, workspace: join(tmp, 'work-extra') })).exitCode).toBe(0);
    const admin = new KubeConfig();
    admin.loadFromString(real!.kubeconfigYaml);
    const events = await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: plan.namespace, fieldSelector: `involvedObject.name=${plan.openStackVersion}` });
    const reasons = events.items.filter((e) => e.source?.component === 'osv-gitops').map((e) => e.reason ?? '');
    console.info(`Events: ${reasons.join(', ')}`);
    expect(reasons.filter((x) => x === 'OsvGitopsPhaseCommitted')).toHaveLength(gitPhases(plan).length);
    expect(reasons.filter((x) => x === 'OsvGitopsUpdateComplete')).toHaveLength(1);
    expect(reasons).toContain('OsvGitopsGatePassed');
    expect(events.items.every((e) => e.involvedObject.uid)).toBe(true);
    const committers = execFileSync('git', ['log', '--format=%cn', '-n', '1', rehearsal!.repo.branch], { cwd: rehearsal!.repo.bare, encoding: 'utf8' }).trim();
    expect(committers).toBe('osv-gitops-runner');
  }, 300_000);

  it("the Deployment's watch, with the same token, starts its watches and ends at once: the update is done", async () => {
    const clone: string[] = workload.spec.jobTemplate.spec.template.spec.initContainers[0].command;
    expect(deploymentArgs[0]).toBe('watch');
    const r = await runPodTick({ clone, args: deploymentArgs, bareUrl: `file://${rehearsal!.repo.bare}`, kubeconfig: tokenKubeconfig, workspace: join(tmp, 'work-watch'), extraArgs: ['--timeout', '60s'] });
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Any);
    expect(lines.at(-1)).toMatchObject({ event: 'end', end: 'done' });
    expect(r.stderr).not.toMatch(/forbidden|403/i);
  }, 120_000);
});
