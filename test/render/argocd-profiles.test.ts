/**
 * Argo CD output as real Argo CD needs it: no empty maps or lists anywhere (every fixture case,
 * every engine, both profiles), the OpenShift GitOps profile (ArgoCD resource patch validated
 * against the argocd-operator CRD, restricted-v2 gate Jobs, root Application), --repo-url required
 * and gate deadlines per phase.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadUpdate } from '../../src/cli/inputs.js';
import { OsvError } from '../../src/errors.js';
import { renderDirectories, type Engine, type RenderInputs, type RenderOptions } from '../../src/render/render.js';
import { knownKinds, validateObjects } from '../../src/validate/crd-schema.js';
import { assertNoEmptyFields, emptyFields } from '../../src/validate/empty-fields.js';
import { runCli } from '../helpers/cli.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures');
const REPO = 'https://git.example.com/ops/openstack.git';
const io = { stdout: () => {}, stderr: () => {}, color: false };

/** Every fixture case that renders, with its own flags. */
const cases = readdirSync(fixtures)
  .filter((d) => existsSync(join(fixtures, d, 'case.yaml')))
  .map((name) => ({ name, spec: parse(readFileSync(join(fixtures, name, 'case.yaml'), 'utf8')) as { args: string[]; expect: { exitCode: number; errorCode?: string } } }))
  .filter((c) => c.spec.expect.exitCode === 0 && c.spec.expect.errorCode === undefined)
  .sort((a, b) => a.name.localeCompare(b.name));

function flagsOf(args: readonly string[]): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const key = args[i]!.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const next = args[i + 1];
    if (next === undefined || next.startsWith('--')) flags[key] = true;
    else if (key === 'batch') flags[key] = [...((flags[key] as string[] | undefined) ?? []), args[++i]!];
    else flags[key] = args[++i];
  }
  return flags;
}

function load(name: string): RenderInputs {
  const c = cases.find((x) => x.name === name)!;
  return loadUpdate(flagsOf(c.spec.args), { cwd: join(fixtures, name), ...io });
}

function objects(files: readonly { path: string; content: string }[]): Record<string, unknown>[] {
  return files
    .flatMap((f) => parseAllDocuments(f.content).map((d) => d.toJS() as Record<string, unknown>))
    .filter((o) => !String(o['apiVersion']).startsWith('kustomize.config.k8s.io/'));
}

const VARIANTS: { engine: Engine; label: string; opts: Partial<RenderOptions> }[] = [
  { engine: 'flux', label: 'flux', opts: {} },
  { engine: 'plain', label: 'plain', opts: {} },
  { engine: 'argocd', label: 'argocd', opts: { argo: { repoURL: REPO } } },
  { engine: 'argocd', label: 'argocd openshift-gitops', opts: { argo: { repoURL: REPO, profile: 'openshift-gitops' } } },
];

describe('no empty maps or lists the API server fills in or drops', () => {
  it('finds them in built-in kinds anywhere, in custom resources only in metadata', () => {
    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'g', namespace: 'openstack' }, spec: { template: { metadata: { labels: {} }, spec: { containers: [{ name: 'c', env: [] }] } } } };
    expect(emptyFields(job)).toEqual([
      { object: 'Job/openstack/g', path: 'spec.template.metadata.labels' },
      { object: 'Job/openstack/g', path: 'spec.template.spec.containers[0].env' },
    ]);
    // a nodeset's `nodes: {}` is kept by the API server and means something
    const nodeset = { apiVersion: 'dataplane.openstack.org/v1beta1', kind: 'OpenStackDataPlaneNodeSet', metadata: { name: 'n', annotations: {} }, spec: { nodes: {} } };
    expect(emptyFields(nodeset)).toEqual([{ object: 'OpenStackDataPlaneNodeSet/n', path: 'metadata.annotations' }]);
    try {
      assertNoEmptyFields([job]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(OsvError);
      expect((e as OsvError).code).toBe('RENDER_INVALID');
      expect((e as OsvError).message).toContain('Job/openstack/g spec.template.metadata.labels');
    }
  });

  for (const { name } of cases) {
    it(`${name}: none in any engine or profile`, () => {
      const inputs = load(name);
      for (const v of VARIANTS) {
        const objs = objects(renderDirectories(inputs, { engine: v.engine, repoPath: '.', ...v.opts }));
        expect(objs.length, v.label).toBeGreaterThan(0);
        expect(objs.flatMap(emptyFields), v.label).toEqual([]);
      }
    });
  }

  it('leaves out the empty metadata maps of a carried object', () => {
    const inputs = load('example');
    const cp = { ...inputs.controlPlane!, metadata: { ...(inputs.controlPlane!['metadata'] as object), labels: {}, annotations: {} } };
    const objs = objects(renderDirectories({ ...inputs, controlPlane: cp }, { engine: 'plain' }));
    const rendered = objs.find((o) => o['kind'] === 'OpenStackControlPlane')!;
    expect(rendered['metadata']).not.toHaveProperty('labels');
    expect(objs.flatMap(emptyFields)).toEqual([]);
  });
});

describe('the OpenShift GitOps profile', () => {
  const inputs = load('example');
  const files = renderDirectories(inputs, { engine: 'argocd', repoPath: 'clusters/prod', argo: { repoURL: REPO, profile: 'openshift-gitops' } });
  const byPath = (re: RegExp) => objects(files.filter((f) => re.test(f.path)));
  const base = `updates/${inputs.plan.versions.target}`;

  it('puts the health checks in an ArgoCD resource patch that the argocd-operator CRD accepts, not in argocd-cm', () => {
    expect(files.some((f) => f.path.endsWith('argocd-cm-health-checks.yaml'))).toBe(false);
    const [patch] = byPath(/argocd-health-checks-patch\.yaml$/) as { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: { resourceHealthChecks: { group: string; kind: string; check: string }[] } }[];
    expect(patch).toMatchObject({ apiVersion: 'argoproj.io/v1beta1', kind: 'ArgoCD', metadata: { name: 'openshift-gitops', namespace: 'openshift-gitops' } });
    expect(patch!.spec.resourceHealthChecks.map((c) => `${c.group}/${c.kind}`)).toEqual([
      'core.openstack.org/OpenStackVersion',
      'core.openstack.org/OpenStackControlPlane',
      'dataplane.openstack.org/OpenStackDataPlaneNodeSet',
      'dataplane.openstack.org/OpenStackDataPlaneDeployment',
      'argoproj.io/Application',
    ]);
    for (const c of patch!.spec.resourceHealthChecks) expect(c.check).toContain('osv-gitops');
    const result = validateObjects([patch]);
    expect(result.errors).toEqual([]);
    expect(knownKinds().map((k) => `${k.apiVersion} ${k.kind} ${k.source}`)).toContain('argoproj.io/v1beta1 ArgoCD crd');
    // the validator does read that CRD: a wrong field type is refused
    const bad = { ...patch, spec: { resourceHealthChecks: [{ group: 'g', kind: 'K', check: 42 }] } };
    expect(validateObjects([bad]).errors.join('\n')).toMatch(/check/);
  });

  it('renders every Application in openshift-gitops, with a root Application that applies the phase Applications', () => {
    const apps = byPath(/\/argocd\//) as { metadata: { namespace: string }; spec: { source: { repoURL: string } } }[];
    expect(apps.length).toBe(5);
    for (const a of apps) expect(a.metadata.namespace).toBe('openshift-gitops');
    for (const a of apps) expect(a.spec.source.repoURL).toBe(REPO);
    const [root] = byPath(/argocd-root-application\.yaml$/) as { kind: string; metadata: { name: string; namespace: string }; spec: { source: { path: string; repoURL: string }; destination: { namespace: string } } }[];
    expect(root).toMatchObject({ kind: 'Application', metadata: { namespace: 'openshift-gitops' }, spec: { source: { path: `clusters/prod/${base}/argocd`, repoURL: REPO }, destination: { namespace: 'openshift-gitops' } } });
    expect(validateObjects([root]).errors).toEqual([]);
  });

  it('gives the gate Jobs a restricted-v2 security context without a fixed UID', () => {
    const jobs = byPath(/\/job-[^/]+\.yaml$/) as { spec: { template: { metadata?: unknown; spec: { securityContext: Record<string, unknown>; containers: { securityContext: Record<string, unknown> }[] } } } }[];
    expect(jobs.length).toBe(5);
    for (const j of jobs) {
      expect(j.spec.template.metadata).toBeUndefined();
      const pod = j.spec.template.spec;
      expect(pod.securityContext['runAsUser']).toBeUndefined();
      expect(pod.securityContext['runAsNonRoot']).toBe(true);
      expect(pod.containers[0]!.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
    // plain Argo CD keeps the fixed non-root UID (images may default to root) and gains the rest
    const plain = objects(renderDirectories(inputs, { engine: 'argocd', argo: { repoURL: REPO } }).filter((f) => /\/job-/.test(f.path))) as typeof jobs;
    expect(plain[0]!.spec.template.spec.containers[0]!.securityContext).toMatchObject({ runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' }, capabilities: { drop: ['ALL'] } });
  });
});

describe('render flags for Argo CD', () => {
  const render = (extra: string[]) => runCli(['render', '--example', '--out', mkdtempSync(join(tmpdir(), 'osv-argo-flags-')), '--json', ...extra], process.cwd());

  it('refuses Argo CD output without --repo-url, with a clear usage error', async () => {
    const res = await render(['--engine', 'argocd']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/USAGE.*--repo-url/);
    expect(() => renderDirectories(load('example'), { engine: 'argocd' })).toThrow(/repository/);
    // Flux and plain need no URL
    expect((await render(['--engine', 'flux'])).exitCode).toBe(0);
  });

  it('sets gate deadlines per phase, batches included, in the gate Jobs and the Flux timeouts', async () => {
    const inputs = load('batches-canary');
    const deadlines = { dataplane: 12 * 3600, 'ovn-controlplane': 3600 };
    const argo = objects(renderDirectories(inputs, { engine: 'argocd', argo: { repoURL: REPO }, gateDeadlines: deadlines }).filter((f) => /\/job-/.test(f.path))) as {
      metadata: { name: string };
      spec: { activeDeadlineSeconds: number; template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
    }[];
    const deadlineOf = (j: (typeof argo)[number]) => Number(j.spec.template.spec.containers[0]!.env.find((e) => e.name === 'DEADLINE')!.value);
    const byPhase = new Map(argo.map((j) => [Number(j.metadata.name.slice(-2)), j]));
    const phases = inputs.plan.phases;
    for (const p of phases) {
      const job = byPhase.get(p.index);
      if (!job) continue;
      const want = p.id === 'ovn-controlplane' ? 3600 : /^dataplane-b\d+$/.test(p.id) ? 12 * 3600 : p.gate.deadlineSeconds;
      expect(deadlineOf(job), p.id).toBe(want);
      expect(job.spec.activeDeadlineSeconds, p.id).toBe(want + 60);
    }
    const flux = objects(renderDirectories(inputs, { engine: 'flux', gateDeadlines: deadlines }).filter((f) => f.path.includes('/flux/'))) as { kind: string; metadata: { name: string }; spec: { timeout?: string } }[];
    const b1 = flux.find((k) => k.kind === 'Kustomization' && /-dataplane-b1$/.test(k.metadata.name))!;
    expect(b1.spec.timeout).toBe('12h');
  });

  it('refuses a malformed or unknown --gate-deadline and a profile without Argo CD', async () => {
    const repo = ['--engine', 'argocd', '--repo-url', REPO];
    for (const [extra, re] of [
      [['--gate-deadline', 'dataplane'], /phase=duration/],
      [['--gate-deadline', 'dataplane=soon'], /duration/],
      [['--gate-deadline', 'dataplane=10s'], /between 1m and 168h/],
      [['--gate-deadline', 'nope=1h'], /no such phase/],
      [['--gate-deadline', 'dataplane=1h', '--gate-deadline', 'dataplane=2h'], /twice/],
      [['--profile', 'okd'], /--profile must be/],
    ] as const) {
      const res = await render([...repo, ...extra]);
      expect(res.exitCode, extra.join(' ')).toBe(2);
      expect(res.stderr, extra.join(' ')).toMatch(re);
    }
    const flux = await render(['--engine', 'flux', '--profile', 'openshift-gitops']);
    expect(flux.exitCode).toBe(2);
    expect(flux.stderr).toMatch(/goes with --engine argocd/);
    const ok = await render([...repo, '--profile', 'openshift-gitops', '--gate-deadline', 'dataplane=12h']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { files: string[] }).files.some((f) => f.endsWith('argocd-health-checks-patch.yaml'))).toBe(true);
  });
});
