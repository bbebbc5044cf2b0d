import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runnerOptions, type RenderRunnerFlags } from '../../src/cli/render-runner.js';
import { gitConfig, RUNNER_PATHS, runnerManifests, type Manifest } from '../../src/runner/manifests.js';
import { cronScheduleProblems } from '../../src/runner/schedule.js';
import { runCli } from '../helpers/cli.js';

const BASE: RenderRunnerFlags = {
  image: 'quay.io/example/osv-gitops:0.1.0',
  repoUrl: 'https://git.example.com/ops/openstack.git',
  gitSecret: 'osv-gitops-git',
  plan: 'updates/plan.json',
  agent: 'flux:flux-system/openstack',
};
const ARGS = ['--image', BASE.image!, '--repo-url', BASE.repoUrl!, '--git-secret', BASE.gitSecret!, '--plan', BASE.plan!, '--agent', BASE.agent!];

const tmp = mkdtempSync(join(tmpdir(), 'osv-runner-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const byKind = (ms: Manifest[], kind: string) => ms.filter((m) => m['kind'] === kind);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

describe('render-runner manifests', () => {
  it('renders a CronJob with concurrencyPolicy Forbid that runs advance on a fresh clone', () => {
    const ms = runnerManifests(runnerOptions(BASE));
    expect(ms.map((m) => `${String(m['kind'])} ${String((m['metadata'] as Any).namespace)}`)).toEqual([
      'ServiceAccount openstack',
      'ConfigMap openstack',
      'Role openstack',
      'Role flux-system',
      'Role openstack-operators',
      'RoleBinding openstack',
      'RoleBinding flux-system',
      'RoleBinding openstack-operators',
      'CronJob openstack',
    ]);
    const cron = byKind(ms, 'CronJob')[0] as Any;
    expect(cron.spec.schedule).toBe('*/5 * * * *');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect(pod.initContainers[0].command).toEqual(['git', 'clone', '--quiet', '--single-branch', '--branch', 'main', '--', BASE.repoUrl, RUNNER_PATHS.repo]);
    const c = pod.containers[0];
    expect(c.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    // values never reach the shell text: they come as "$@"
    expect(c.command[2]).not.toContain('openstack');
    expect(c.args).toEqual([
      'advance',
      '--repo',
      '/workspace/repo',
      '--branch',
      'main',
      '--remote',
      'origin',
      '--plan',
      'updates/plan.json',
      '--namespace',
      'openstack',
      '--engine',
      'flux',
      '--agent',
      'flux:flux-system/openstack',
      '--csv-namespace',
      'openstack-operators',
      '--json',
    ]);
  });

  it('the exit-3 wrapper turns waiting into success and keeps other codes', () => {
    const cron = byKind(runnerManifests(runnerOptions(BASE)), 'CronJob')[0] as Any;
    const script: string = cron.spec.jobTemplate.spec.template.spec.containers[0].command[2];
    const bin = join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'osv-gitops'), '#!/bin/sh\nexit "$2"\n', { mode: 0o755 });
    const rc = (code: number) => {
      try {
        execFileSync('/bin/sh', ['-c', script, 'osv-gitops', 'advance', String(code)], { env: { PATH: `${bin}:/usr/bin:/bin` } });
        return 0;
      } catch (e) {
        return (e as { status: number }).status;
      }
    };
    expect([rc(0), rc(1), rc(2), rc(3), rc(70)]).toEqual([0, 1, 2, 0, 70]);
  });

  it('grants exactly the reads advance makes, the agent object by name, and create on events', () => {
    const roles = byKind(runnerManifests(runnerOptions(BASE)), 'Role') as Any[];
    expect(roles.map((r) => [r.metadata.namespace, r.rules])).toEqual([
      [
        'openstack',
        [
          { apiGroups: ['core.openstack.org'], resources: ['openstackcontrolplanes', 'openstackversions'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['dataplane.openstack.org'], resources: ['openstackdataplanedeployments', 'openstackdataplanenodesets'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['events'], verbs: ['create'] },
        ],
      ],
      ['flux-system', [{ apiGroups: ['kustomize.toolkit.fluxcd.io'], resources: ['kustomizations'], verbs: ['get', 'list', 'watch'], resourceNames: ['openstack'] }]],
      ['openstack-operators', [{ apiGroups: ['operators.coreos.com'], resources: ['clusterserviceversions'], verbs: ['get', 'list', 'watch'] }]],
    ]);
    const argo = byKind(runnerManifests(runnerOptions({ ...BASE, agent: 'argocd:openstack/root', csvNamespace: 'none' })), 'Role') as Any[];
    // the agent in the OpenStack namespace: one Role holds both
    expect(argo).toHaveLength(1);
    expect(argo[0].rules.at(-1)).toEqual({ apiGroups: ['argoproj.io'], resources: ['applications'], verbs: ['get', 'list', 'watch'], resourceNames: ['root'] });
    expect(byKind(runnerManifests(runnerOptions({ ...BASE, agent: 'none', csvNamespace: 'none' })), 'Role')).toHaveLength(1);
  });

  it('phase 0: --subscription adds the InstallPlan reads in the operator namespace, --approve-installplan adds patch on InstallPlans and nothing else', () => {
    const operatorRules = (flags: RenderRunnerFlags) => (byKind(runnerManifests(runnerOptions({ ...BASE, ...flags })), 'Role') as Any[]).find((r) => r.metadata.namespace === 'openstack-operators').rules;
    const reads = { apiGroups: ['operators.coreos.com'], resources: ['clusterserviceversions', 'installplans'], verbs: ['get', 'list', 'watch'] };
    expect(operatorRules({ subscription: 'operators/subscription.yaml' })).toEqual([reads]);
    // an InstallPlan's name is generated by OLM: the patch cannot be pinned with resourceNames
    expect(operatorRules({ subscription: 'operators/subscription.yaml', approveInstallplan: true })).toEqual([reads, { apiGroups: ['operators.coreos.com'], resources: ['installplans'], verbs: ['patch'] }]);
    // the other namespaces' Roles do not change with phase 0
    const others = (flags: RenderRunnerFlags) => (byKind(runnerManifests(runnerOptions({ ...BASE, ...flags })), 'Role') as Any[]).filter((r) => r.metadata.namespace !== 'openstack-operators');
    expect(others({ subscription: 'operators/subscription.yaml', approveInstallplan: true })).toEqual(others({}));
    for (const kind of ['cronjob', 'deployment']) {
      const w = runnerManifests(runnerOptions({ ...BASE, kind, subscription: 'operators/subscription.yaml', approveInstallplan: true })).at(-1) as Any;
      const args = (kind === 'cronjob' ? w.spec.jobTemplate.spec.template.spec : w.spec.template.spec).containers[0].args as string[];
      expect(args.slice(args.indexOf('--plan'), args.indexOf('--plan') + 5)).toEqual(['--plan', 'updates/plan.json', '--subscription', 'operators/subscription.yaml', '--approve-installplan']);
    }
    const plain = (byKind(runnerManifests(runnerOptions(BASE)), 'CronJob')[0] as Any).spec.jobTemplate.spec.template.spec.containers[0].args as string[];
    expect(plain).not.toContain('--subscription');
    expect(plain).not.toContain('--approve-installplan');
  });

  it('runs under restricted-v2: no fixed user, non-root, read-only root, emptyDirs, nothing escalates', () => {
    for (const kind of ['cronjob', 'deployment']) {
      const w = runnerManifests(runnerOptions({ ...BASE, kind })).at(-1) as Any;
      const pod = kind === 'cronjob' ? w.spec.jobTemplate.spec.template.spec : w.spec.template.spec;
      const text = JSON.stringify(pod);
      expect(text).not.toMatch(/runAsUser|runAsGroup|fsGroup|hostPath|hostNetwork|privileged":true/);
      expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of [...pod.initContainers, ...pod.containers]) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          privileged: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(c.volumeMounts.map((m: Any) => m.mountPath)).toEqual(['/tmp', '/workspace', RUNNER_PATHS.credentials, RUNNER_PATHS.gitconfig]);
      }
      expect(pod.volumes.filter((v: Any) => v.emptyDir).map((v: Any) => v.name)).toEqual(['tmp', 'work']);
      // the Secret is referenced by name only
      expect(pod.volumes.find((v: Any) => v.secret)).toEqual({ name: 'git-credentials', secret: { secretName: 'osv-gitops-git', defaultMode: 0o444 } });
    }
  });

  it('--kind deployment runs watch, one replica, Recreate', () => {
    const d = runnerManifests(runnerOptions({ ...BASE, kind: 'deployment' })).at(-1) as Any;
    expect(d.kind).toBe('Deployment');
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    expect(d.spec.template.spec.containers[0].args[0]).toBe('watch');
    expect(d.spec.template.spec.containers[0].command).toBeUndefined();
    expect(d.spec.template.spec.restartPolicy).toBe('Always');
  });

  it('carries --version-file and --deployments-dir through to advance (one owner of the OpenStackVersion)', () => {
    const ms = runnerManifests(runnerOptions({ ...BASE, versionFile: 'clusters/prod/openstackversion.yaml', deploymentsDir: 'clusters/prod/updates' }));
    const args = (byKind(ms, 'CronJob')[0] as Any).spec.jobTemplate.spec.template.spec.containers[0].args as string[];
    expect(args.slice(args.indexOf('--version-file'), args.indexOf('--version-file') + 4)).toEqual(['--version-file', 'clusters/prod/openstackversion.yaml', '--deployments-dir', 'clusters/prod/updates']);
  });

  it('carries --app-path through to advance', () => {
    const ms = runnerManifests(runnerOptions({ ...BASE, appPath: 'clusters/prod' }));
    const args = (byKind(ms, 'CronJob')[0] as Any).spec.jobTemplate.spec.template.spec.containers[0].args as string[];
    expect(args.slice(args.indexOf('--app-path'), args.indexOf('--app-path') + 2)).toEqual(['--app-path', 'clusters/prod']);
    expect(args).not.toContain('--version-file');
  });

  it('validates every flag against its grammar (exit 2, nothing printed)', async () => {
    const cases: [string[], RegExp][] = [
      [['--image', 'Quay.io/UPPER/x:1'], /--image/],
      [['--image', 'x;rm -rf /'], /--image/],
      [['--repo-url', 'https://user:pw@git.example.com/x.git'], /password/],
      [['--repo-url', 'file:///etc'], /scheme/],
      [['--git-secret', 'Bad_Name'], /--git-secret/],
      [['--namespace', 'a'.repeat(64)], /--namespace/],
      [['--branch', 'a..b'], /--branch/],
      [['--schedule', '*/5 * * *'], /4 fields/],
      [['--schedule', '61 * * * *'], /outside 0-59/],
      [['--plan', '../plan.json'], /--plan/],
      [['--plan', '/etc/passwd'], /absolute/],
      [['--nodesets', '.git/x'], /\.git/],
      [['--version-file', '../osv.yaml'], /--version-file/],
      [['--app-path', '../elsewhere'], /--app-path/],
      [['--deployments-dir', 'clusters/prod/updates'], /goes with --version-file/],
      [['--agent', 'flux:Flux/x'], /--agent/],
      [['--kind', 'job'], /--kind/],
      [['--kind', 'deployment', '--schedule', '@hourly'], /--schedule is for/],
      [['--csv-namespace', 'UP'], /--csv-namespace/],
      [['--name', 'x'.repeat(53)], /52/],
      [['--subscription', '../subscription.yaml'], /--subscription/],
      [['--approve-installplan'], /goes with --subscription/],
      [['--subscription', 'operators/subscription.yaml', '--csv-namespace', 'none'], /needs --csv-namespace/],
    ];
    for (const [override, message] of cases) {
      const args = [...ARGS];
      for (let i = 0; i < override.length; i += 2) {
        const at = args.indexOf(override[i]!);
        if (at >= 0 && override[i + 1] !== undefined) args[at + 1] = override[i + 1]!;
        else args.push(...override.slice(i, i + 2));
      }
      const r = await runCli(['render-runner', ...args], tmp);
      expect(r.exitCode, `${override.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    for (const missing of ['--image', '--repo-url', '--git-secret', '--plan', '--agent']) {
      const args = [...ARGS];
      args.splice(args.indexOf(missing), 2);
      const r = await runCli(['render-runner', ...args], tmp);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`missing ${missing}`);
    }
  });

  it('schedules: the forms Kubernetes takes', () => {
    for (const ok of ['*/5 * * * *', '0 */2 * * MON-FRI', '15,45 1-5 1 JAN,jul ?', '@hourly', '0 0 31 12 6']) expect(cronScheduleProblems(ok), ok).toEqual([]);
    for (const bad of ['', ' */5 * * * *', '@every 5m', 'TZ=UTC 0 * * * *', '* * * * * *', '0 24 * * *', '0 0 0 * *', '0 0 * 13 *', '0 0 * * 7', '*/0 * * * *', '5-1 * * * *', '0 0 * * FOO']) {
      expect(cronScheduleProblems(bad).length, bad).toBeGreaterThan(0);
    }
  });
});

describe('render-runner output', () => {
  it('prints byte-identical YAML for the same flags, every object parseable', async () => {
    const a = await runCli(['render-runner', ...ARGS], tmp);
    const b = await runCli(['render-runner', ...ARGS], tmp);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const docs = parseAllDocuments(a.stdout).map((d) => d.toJS() as Manifest);
    expect(docs).toEqual(runnerManifests(runnerOptions(BASE)));
    // no credential value anywhere, only the Secret's name
    expect(a.stdout).not.toMatch(/kind: Secret|password:|token:/);
    const json = await runCli(['render-runner', ...ARGS, '--json'], tmp);
    expect(JSON.parse(json.stdout)).toEqual({ apiVersion: 'v1', kind: 'List', items: docs });
  });

  it('--out writes one file per object and a kustomization through the containment check', async () => {
    const out = join(tmp, 'out');
    const r = await runCli(['render-runner', ...ARGS, '--out', 'out', '--json'], tmp);
    expect(r.exitCode, r.stderr).toBe(0);
    const files = readdirSync(join(out, 'osv-gitops-runner')).sort();
    expect(files).toEqual([
      'configmap-openstack.yaml',
      'cronjob-openstack.yaml',
      'kustomization.yaml',
      'role-flux-system.yaml',
      'role-openstack-operators.yaml',
      'role-openstack.yaml',
      'rolebinding-flux-system.yaml',
      'rolebinding-openstack-operators.yaml',
      'rolebinding-openstack.yaml',
      'serviceaccount-openstack.yaml',
    ]);
    expect(JSON.parse(r.stdout).files).toHaveLength(10);
    expect(JSON.parse(r.stdout).unchanged).toBe(false);
    // the same run again finds the folder as it would write it, and says so
    const same = await runCli(['render-runner', ...ARGS, '--out', 'out'], tmp);
    expect(same.stdout).toMatch(/^out\/osv-gitops-runner\/ already holds these 10 files: nothing written\n/);
    // a second run replaces the folder whole: a stale file goes
    writeFileSync(join(out, 'osv-gitops-runner', 'stale.yaml'), 'x: 1\n');
    await runCli(['render-runner', ...ARGS, '--out', 'out', '--kind', 'deployment'], tmp);
    const again = readdirSync(join(out, 'osv-gitops-runner'));
    expect(again).not.toContain('stale.yaml');
    expect(again).toContain('deployment-openstack.yaml');
    expect(readFileSync(join(out, 'osv-gitops-runner', 'kustomization.yaml'), 'utf8')).toContain('deployment-openstack.yaml');
    // never through a symbolic link
    rmSync(join(out, 'osv-gitops-runner'), { recursive: true });
    symlinkSync(tmpdir(), join(out, 'osv-gitops-runner'));
    const linked = await runCli(['render-runner', ...ARGS, '--out', 'out'], tmp);
    expect(linked.exitCode).toBe(2);
    expect(linked.stderr).toContain('PATH_UNSAFE');
  });

  it('--help teaches: what is rendered, the Secret to create, restricted-v2, examples', async () => {
    const r = await runCli(['render-runner', '--help'], tmp);
    expect(r.exitCode).toBe(0);
    for (const s of ['CronJob', 'Deployment', 'Role/RoleBinding', 'oc create secret generic', 'restricted-v2', 'Examples:', '--kind <kind>']) expect(r.stdout).toContain(s);
  });
});

describe('the Git configuration in the ConfigMap', () => {
  const run = (cfg: string, input: string) => {
    const creds = join(tmp, 'creds');
    mkdirSync(creds, { recursive: true });
    writeFileSync(join(creds, 'username'), 'bot');
    writeFileSync(join(creds, 'password'), 's3cr3t $(touch /tmp/pwned) "quoted"');
    const file = join(tmp, 'gitconfig');
    writeFileSync(file, cfg.replaceAll(RUNNER_PATHS.credentials, creds));
    return execFileSync('git', ['credential', 'fill'], { input, env: { PATH: process.env['PATH'] ?? '', GIT_CONFIG_GLOBAL: file, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' } }).toString();
  };

  it('https: Git reads the username and password from the mounted Secret, verbatim', () => {
    const cfg = gitConfig(runnerOptions(BASE));
    expect(cfg).not.toContain('s3cr3t');
    const out = run(cfg, 'protocol=https\nhost=git.example.com\n\n');
    expect(out).toContain('username=bot\n');
    expect(out).toContain('password=s3cr3t $(touch /tmp/pwned) "quoted"\n');
  });

  it('ssh: the key and known_hosts from the Secret, strict host checking', () => {
    const cfg = gitConfig(runnerOptions({ ...BASE, repoUrl: 'git@git.example.com:ops/openstack.git' }));
    expect(cfg).toContain(`sshCommand = ssh -i ${RUNNER_PATHS.credentials}/identity -o UserKnownHostsFile=${RUNNER_PATHS.credentials}/known_hosts -o StrictHostKeyChecking=yes`);
    expect(cfg).not.toContain('[credential]');
  });
});
