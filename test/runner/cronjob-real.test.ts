/**
 * The runner end to end on a real kube-apiserver, as far as it goes without a kubelet: the example
 * update driven to the end by "CronJob ticks" that do exactly what the rendered pod does — the init
 * container's `git clone` into an empty folder, then the container's own arguments (`advance ...`)
 * with the rendered Git configuration — under a TokenRequest token of the rendered ServiceAccount,
 * bound by the rendered Roles. The simulated operator and Flux play the cluster (as admin).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stableJson } from '../../src/cli/plan.js';
import { runnerOptions } from '../../src/cli/render-runner.js';
import { gitConfig, RUNNER_PATHS, runnerManifests, type Manifest } from '../../src/runner/manifests.js';
import { startRehearsalCluster, type RehearsalCluster } from '../../src/simulate/rehearsal.js';
import { describeRealCluster } from '../e2e-real/describe-real.js';
import { kubeRequest, startRealCluster, statusMessage, type RealCluster } from '../e2e-real/harness.js';
import { gitPhases, phaseTrailers } from '../e2e/scenarios.js';
import { runCli } from '../helpers/cli.js';
import { sealGitEnv } from '../helpers/git-repo.js';
import { rehearsalInputs } from '../helpers/rehearsal.js';

const REPO_URL = 'https://git.example.com/ops/openstack.git';
const IDENTITY = ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'GIT_CONFIG_GLOBAL'];
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
  const savedEnv = Object.fromEntries(IDENTITY.map((k) => [k, process.env[k]]));

  beforeAll(async () => {
    sealGitEnv(); // for the rehearsal's own Git; the ticks use the rendered configuration
    real = await startRealCluster();
    const r = real;
    rehearsal = await startRehearsalCluster({ ...opts, apiServer: { kubeconfig: () => r.kubeconfigYaml, close: async () => {} } });
    const repo = rehearsal.repo;
    // what the user commits before applying the runner: the saved plan (a copy of the control plane
    // or nodesets in the repository would be a second owner of them, which advance refuses)
    mkdirSync(join(repo.work, 'inputs'), { recursive: true });
    writeFileSync(join(repo.work, 'inputs', 'plan.json'), stableJson(plan));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo.work, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' }, stdio: 'ignore' });
    git('add', 'inputs');
    git('commit', '--quiet', '-m', 'osv-gitops: the approved plan');
    git('push', '--quiet', 'origin', repo.branch);

    const options = runnerOptions({
      namespace: plan.namespace,
      image: 'quay.io/example/osv-gitops:0.1.0',
      repoUrl: REPO_URL,
      gitSecret: 'osv-gitops-git',
      plan: 'inputs/plan.json',
      agent: `flux:${rehearsal.agentRef.namespace}/${rehearsal.agentRef.name}`,
      csvNamespace: 'openstack-operators',
    });
    const manifests = runnerManifests(options);
    const admin = new KubeConfig();
    admin.loadFromString(r.kubeconfigYaml);
    const plural: Record<string, string> = { ServiceAccount: 'serviceaccounts', ConfigMap: 'configmaps', Role: 'roles', RoleBinding: 'rolebindings', CronJob: 'cronjobs' };
    for (const m of manifests) {
      const md = m['metadata'] as { namespace: string };
      const api = String(m['apiVersion']).includes('/') ? `/apis/${String(m['apiVersion'])}` : `/api/${String(m['apiVersion'])}`;
      const res = await kubeRequest(admin, 'POST', `${api}/namespaces/${md.namespace}/${plural[String(m['kind'])]}`, m);
      expect(res.status, statusMessage(res.body)).toBe(201);
    }
    workload = manifests.at(-1) as Manifest;
    deploymentArgs = (runnerManifests({ ...options, kind: 'deployment' }).at(-1) as Any).spec.template.spec.containers[0].args;
    const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      name: options.name,
      namespace: options.namespace,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const kc = JSON.parse(r.kubeconfigYaml) as { users: { user: { token: string } }[] };
    kc.users[0]!.user.token = token.status?.token ?? '';
    tokenKubeconfig = join(tmp, 'token-kubeconfig');
    writeFileSync(tokenKubeconfig, JSON.stringify(kc), { mode: 0o600 });
    // the pod's GIT_CONFIG_GLOBAL: the rendered configuration (the committer comes from it)
    const cfg = join(tmp, 'gitconfig');
    writeFileSync(cfg, gitConfig(options));
    for (const k of IDENTITY) delete process.env[k];
    process.env['GIT_CONFIG_GLOBAL'] = cfg;
  }, 240_000);
  afterAll(async () => {
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
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
      const work = join(tmp, `work-${tick}`);
      mkdirSync(work);
      const repoDir = join(work, 'repo');
      const cloneArgs = clone.slice(1).map((a) => (a === REPO_URL ? bare : a === RUNNER_PATHS.repo ? repoDir : a));
      execFileSync('git', cloneArgs, { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
      const r = await runCli([...args.map((a) => (a === RUNNER_PATHS.repo ? repoDir : a)), '--kubeconfig', tokenKubeconfig], repoDir);
      rmSync(work, { recursive: true, force: true });
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
    const extra = join(tmp, 'work-extra');
    mkdirSync(extra);
    execFileSync('git', clone.slice(1).map((a) => (a === REPO_URL ? bare : a === RUNNER_PATHS.repo ? join(extra, 'repo') : a)), { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
    expect((await runCli([...args.map((a) => (a === RUNNER_PATHS.repo ? join(extra, 'repo') : a)), '--kubeconfig', tokenKubeconfig], join(extra, 'repo'))).exitCode).toBe(0);
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
    const work = join(tmp, 'work-watch');
    mkdirSync(work);
    const repoDir = join(work, 'repo');
    const clone: string[] = workload.spec.jobTemplate.spec.template.spec.initContainers[0].command;
    execFileSync('git', clone.slice(1).map((a) => (a === REPO_URL ? `file://${rehearsal!.repo.bare}` : a === RUNNER_PATHS.repo ? repoDir : a)), { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
    expect(deploymentArgs[0]).toBe('watch');
    const r = await runCli([...deploymentArgs.map((a) => (a === RUNNER_PATHS.repo ? repoDir : a)), '--kubeconfig', tokenKubeconfig, '--timeout', '60s'], repoDir);
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Any);
    expect(lines.at(-1)).toMatchObject({ event: 'end', end: 'done' });
    expect(r.stderr).not.toMatch(/forbidden|403/i);
  }, 120_000);
});
