/**
 * The runner from phase 0 on a real kube-apiserver serving the OLM CRDs: the example update with
 * the operator upgrade first, driven to the end by "CronJob ticks" that run the rendered pod's
 * clone and `advance ... --subscription ... --approve-installplan` under a TokenRequest token of
 * the rendered ServiceAccount. The simulated OLM, operator and Flux play the cluster (as admin).
 * Everything the rendered Roles do not grant gets 403, including the InstallPlan patch for a
 * runner rendered without --approve-installplan.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runnerOptions, type RenderRunnerFlags } from '../../src/cli/render-runner.js';
import { runnerManifests, type RunnerOptions } from '../../src/runner/manifests.js';
import { startRehearsalCluster, SUBSCRIPTION_PATH, type RehearsalCluster } from '../../src/simulate/rehearsal.js';
import { describeRealCluster } from '../e2e-real/describe-real.js';
import { kubeRequest, startRealCluster, statusMessage, type RealCluster } from '../e2e-real/harness.js';
import { phase0Inputs } from '../simulate/phase0-scenarios.js';
import { sealGitEnv } from '../helpers/git-repo.js';
import { applyRunnerManifests, commitSavedPlan, RUNNER_REPO_URL, runnerTokenKubeconfig, runPodTick, usePodGitConfig } from './runner-pod.js';

const OLM = '/apis/operators.coreos.com/v1alpha1/namespaces/openstack-operators';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

interface Access {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace: string;
}

const trailers = (repo: string, key: string) =>
  execFileSync('git', ['log', '--reverse', `--format=%(trailers:key=${key},valueonly)`, 'main'], { cwd: repo, encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

describeRealCluster('render-runner from phase 0: CronJob ticks approve the InstallPlan and finish the update under the runner token (real API server)', () => {
  let real: RealCluster | undefined;
  let rehearsal: RehearsalCluster | undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'osv-runner-phase0-'));
  const opts = phase0Inputs();
  const plan = opts.update.plan;
  let admin: KubeConfig;
  let approver: RunnerOptions;
  /** The kubeconfig files of the two runners: with --approve-installplan, and without. */
  const tokens = { approver: '', reader: '' };
  let restoreEnv = () => {};

  const applyRunner = async (flags: Partial<RenderRunnerFlags>): Promise<RunnerOptions> => {
    const options = runnerOptions({
      namespace: plan.namespace,
      image: 'quay.io/example/osv-gitops:0.1.0',
      repoUrl: RUNNER_REPO_URL,
      gitSecret: 'osv-gitops-git',
      plan: 'inputs/plan.json',
      agent: `flux:${rehearsal!.agentRef.namespace}/${rehearsal!.agentRef.name}`,
      csvNamespace: plan.operatorUpgrade!.operatorNamespace,
      subscription: SUBSCRIPTION_PATH,
      ...flags,
    });
    await applyRunnerManifests(admin, options);
    return options;
  };
  const as = (file: string) => {
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    return kc;
  };
  const allowed = async (file: string, a: Access): Promise<boolean> => {
    const res = await kubeRequest(as(file), 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: a },
    });
    expect(res.status, statusMessage(res.body)).toBe(201);
    return (res.body as { status: { allowed: boolean } }).status.allowed;
  };

  beforeAll(async () => {
    sealGitEnv(); // for the rehearsal's own Git; the ticks use the rendered configuration
    real = await startRealCluster();
    const r = real;
    rehearsal = await startRehearsalCluster({ ...opts, apiServer: { kubeconfig: () => r.kubeconfigYaml, close: async () => {} } });
    // the Subscription is in the repository already
    commitSavedPlan(rehearsal.repo, plan);

    admin = new KubeConfig();
    admin.loadFromString(r.kubeconfigYaml);
    approver = await applyRunner({ approveInstallplan: true });
    const reader = await applyRunner({ name: 'osv-gitops-reader' });
    tokens.approver = await runnerTokenKubeconfig(admin, r.kubeconfigYaml, approver, tmp);
    tokens.reader = await runnerTokenKubeconfig(admin, r.kubeconfigYaml, reader, tmp);
    restoreEnv = usePodGitConfig(approver, tmp);
  }, 240_000);
  afterAll(async () => {
    restoreEnv();
    await rehearsal?.stop();
    await real?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('every tick clones afresh and runs the rendered advance: phase 0 is approved under the token, and the update completes', async () => {
    const pod = (runnerManifests(approver).at(-1) as Any).spec.jobTemplate.spec.template.spec;
    const clone: string[] = pod.initContainers[0].command;
    const args: string[] = pod.containers[0].args;
    expect(args).toEqual(expect.arrayContaining(['--subscription', SUBSCRIPTION_PATH, '--approve-installplan']));
    const bare = `file://${rehearsal!.repo.bare}`;
    const outcomes: string[] = [];
    // measured 26 s (11 ticks) beside other work: generous room, not a race
    const deadline = Date.now() + 240_000;
    let last: Any;
    let approvals = 0;
    let ticks = 0;
    for (let tick = 0; Date.now() < deadline; tick++) {
      ticks = tick + 1;
      const r = await runPodTick({ clone, args, bareUrl: bare, kubeconfig: tokens.approver, workspace: join(tmp, `work-${tick}`) });
      expect([0, 3], `tick ${tick}: ${r.stderr}${r.stdout}`).toContain(r.exitCode);
      expect(r.stderr).not.toMatch(/forbidden|403/i);
      last = JSON.parse(r.stdout);
      if (last.approvedInstallPlan) approvals++;
      if (outcomes.at(-1) !== last.outcome || last.outcome === 'advanced') outcomes.push(last.outcome === 'advanced' ? `advanced ${last.committed?.phase}` : last.outcome);
      if (last.outcome === 'done') break;
      await sleep(500);
    }
    console.info(`${ticks} ticks: ${outcomes.join(' → ')}`);
    expect(last?.outcome, JSON.stringify(last?.status?.reason)).toBe('done');
    expect(outcomes.filter((o) => o.startsWith('advanced'))).toEqual(['advanced operator', 'advanced ovn-controlplane', 'advanced ovn-dataplane', 'advanced dataplane']);
    expect(approvals).toBe(1);
    expect(trailers(rehearsal!.repo.bare, 'Osv-Update-Phase')).toEqual(['0 operator', '2 ovn-controlplane', '3 ovn-dataplane', '5 dataplane']);
    expect(trailers(rehearsal!.repo.bare, 'Osv-Update-Approved-InstallPlan')).toEqual([expect.stringMatching(/^install-[0-9a-f]{5}$/)]);
    const plans = await kubeRequest(admin, 'GET', `${OLM}/installplans`);
    const items = (plans.body as Any).items as Any[];
    expect(items.map((p) => [p.spec.clusterServiceVersionNames, p.spec.approved])).toEqual([[['openstack-operator.v18.0.4'], true]]);
    // the approval was our narrow patch (its field manager), sent under the runner's token
    const managers = (items[0].metadata.managedFields as Any[]).filter((f) => JSON.stringify(f.fieldsV1 ?? {}).includes('f:approved')).map((f) => f.manager);
    expect(managers).toContain('osv-gitops');
  }, 360_000);

  it('the approver may read what phase 0 reads and patch InstallPlans; everything else in the operator namespace is forbidden', async () => {
    const ns = 'openstack-operators';
    const olm = (verb: string, resource: string): Access => ({ verb, group: 'operators.coreos.com', resource, namespace: ns });
    const wanted = [...['get', 'list', 'watch'].flatMap((v) => [olm(v, 'installplans'), olm(v, 'clusterserviceversions')]), olm('patch', 'installplans')];
    const unwanted = [
      ...['create', 'update', 'delete', 'deletecollection'].map((v) => olm(v, 'installplans')),
      ...['patch', 'update', 'delete', 'create'].map((v) => olm(v, 'clusterserviceversions')),
      // advance reads the Subscription from Git, never from the cluster
      ...['get', 'list', 'watch', 'patch', 'update', 'create', 'delete'].map((v) => olm(v, 'subscriptions')),
      ...['get', 'list', 'patch'].map((v) => olm(v, 'catalogsources')),
      olm('patch', 'operatorgroups'),
      { verb: 'list', group: '', resource: 'secrets', namespace: ns },
      { verb: 'create', group: '', resource: 'pods', namespace: ns },
      { verb: 'list', group: 'operators.coreos.com', resource: 'installplans', namespace: 'openstack' },
      { verb: 'patch', group: 'operators.coreos.com', resource: 'installplans', namespace: 'openstack' },
    ];
    const refused = [];
    for (const a of wanted) if (!(await allowed(tokens.approver, a))) refused.push(`${a.verb} ${a.resource}`);
    expect(refused).toEqual([]);
    const granted = [];
    for (const a of unwanted) if (await allowed(tokens.approver, a)) granted.push(`${a.verb} ${a.resource} in ${a.namespace}`);
    expect(granted).toEqual([]);
  });

  it('without --approve-installplan the runner reads InstallPlans but may not patch them: the server answers 403', async () => {
    const reader = as(tokens.reader);
    const list = await kubeRequest(reader, 'GET', `${OLM}/installplans`);
    expect(list.status, statusMessage(list.body)).toBe(200);
    const name = String(((list.body as Any).items as Any[])[0].metadata.name);
    expect(await allowed(tokens.reader, { verb: 'patch', group: 'operators.coreos.com', resource: 'installplans', namespace: 'openstack-operators' })).toBe(false);
    const api = reader.makeApiClient(CustomObjectsApi);
    const ref = { group: 'operators.coreos.com', version: 'v1alpha1', namespace: 'openstack-operators', plural: 'installplans', name };
    const body = [{ op: 'replace', path: '/spec/approved', value: true }];
    await expect(api.patchNamespacedCustomObject({ ...ref, body }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch))).rejects.toMatchObject({ code: 403 });
    // and the approver's writes beyond the one patch are refused by the server itself too
    const approverKc = as(tokens.approver);
    const calls: [string, string, unknown?][] = [
      ['DELETE', `${OLM}/installplans/${name}`],
      ['GET', `${OLM}/subscriptions`],
      ['DELETE', `${OLM}/clusterserviceversions/openstack-operator.v18.0.4`],
      ['POST', `${OLM}/installplans`, { apiVersion: 'operators.coreos.com/v1alpha1', kind: 'InstallPlan', metadata: { name: 'install-forged' }, spec: { approval: 'Manual', approved: true, clusterServiceVersionNames: ['evil.v1'] } }],
    ];
    for (const [method, path, body] of calls) {
      const res = await kubeRequest(approverKc, method, path, body);
      expect(res.status, `${method} ${path}: ${statusMessage(res.body)}`).toBe(403);
    }
  });
});
