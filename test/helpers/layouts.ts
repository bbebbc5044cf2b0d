/**
 * Three repository layouts users really have, written as a person would (comments, patches, other
 * clusters next to the one updated), and the checks the adoption tests make on each: the real
 * `kustomize build` of the agent's path against the phase's desired state, one owner per object.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadUpdate } from '../../src/cli/inputs.js';
import type { UpdatePlan } from '../../src/plan/types.js';
import { projectRoot } from '../../src/validate/project-root.js';
import { newRepo, sh, TEST_DATE } from './git-repo.js';
import { kustomizeBuild } from './kustomize.js';

const fixture = (name: string) => join(projectRoot(), 'fixtures', name);
const read = (name: string, file: string) => readFileSync(join(fixture(name), file), 'utf8');

/** The plan inputs of a fixture case, as CLI flags. */
export function inputs(name: string): string[] {
  const args = ['--csv', 'csv.yaml', '--openstack-version', 'openstackversion.yaml', '--controlplane', 'controlplane.yaml', '--nodesets', 'nodesets'];
  if (name === 'fr5-to-fr6-backends-hotfix') args.push('--custom-images', 'custom-images.yaml');
  return args.map((a, i) => (i % 2 ? join(fixture(name), a) : a));
}

export const FIRST = 'fr3-to-fr4-controller-operator';
export const NEXT = 'fr5-to-fr6-backends-hotfix';
const quiet = { cwd: projectRoot(), stdout: () => {}, stderr: () => {}, color: false };
export const planOf = (name: string): UpdatePlan => loadUpdate({ csv: join(fixture(name), 'csv.yaml'), openstackVersion: join(fixture(name), 'openstackversion.yaml'), controlplane: join(fixture(name), 'controlplane.yaml'), nodesets: join(fixture(name), 'nodesets'), ...(name === NEXT ? { customImages: join(fixture(name), 'custom-images.yaml') } : {}) }, quiet).plan;

const kustomization = (lines: string) => `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${lines}`;

/** The user's OpenStackVersion as a person writes it: no status, a comment, the old target. */
const userVersion = (target: string, namespace = true) =>
  `# bumped by osv-gitops; reviewed in pull requests\napiVersion: core.openstack.org/v1beta1\nkind: OpenStackVersion\nmetadata:\n  name: openstack\n${namespace ? '  namespace: openstack\n' : ''}spec:\n  targetVersion: ${target}   # the version running now\n`;

const netConfig = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: edpm-network\n  namespace: openstack\ndata:\n  dns: 192.168.122.1\n`;
const nodeSet = (n: string) => read(FIRST, `nodesets/${n}.yaml`);
const controlPlane = () => read(FIRST, 'controlplane.yaml');

export interface Layout {
  readonly name: string;
  readonly files: Record<string, string>;
  /** The folder the agent of the updated cluster builds (where the OpenStackVersion is adopted). */
  readonly appPath: string;
  /** What the user passes as --app-path, when not appPath itself (a Flux cluster folder). */
  readonly appFlag?: string;
  /** Every folder an agent builds, by cluster: no object may be in two builds of one cluster. */
  readonly clusters: Record<string, readonly string[]>;
  readonly versionFile: string;
}

const OLD = '0.3.0-1760000000';

export const LAYOUTS: readonly Layout[] = [
  {
    name: 'kustomize base + overlays per environment',
    appPath: 'overlays/prod',
    versionFile: 'overlays/prod/openstackversion.yaml',
    clusters: { prod: ['overlays/prod'], staging: ['overlays/staging'] },
    files: {
      'base/openstack/kustomization.yaml': kustomization('namespace: openstack\nresources:\n  - controlplane.yaml\n  - nodesets/compute-a.yaml\n  - nodesets/compute-b.yaml\n  - netconfig.yaml\n'),
      'base/openstack/controlplane.yaml': controlPlane(),
      'base/openstack/nodesets/compute-a.yaml': nodeSet('compute-a'),
      'base/openstack/nodesets/compute-b.yaml': nodeSet('compute-b'),
      'base/openstack/netconfig.yaml': netConfig,
      'overlays/prod/kustomization.yaml': kustomization(
        '# prod: three controllers, the shared base\nnamespace: openstack\nresources:\n  - ../../base/openstack   # every cluster\n  - openstackversion.yaml\npatches:\n  - path: controlplane-storage.yaml\n    target:\n      kind: OpenStackControlPlane\n',
      ),
      'overlays/prod/openstackversion.yaml': userVersion(OLD, false),
      'overlays/prod/controlplane-storage.yaml': 'apiVersion: core.openstack.org/v1beta1\nkind: OpenStackControlPlane\nmetadata:\n  name: openstack\nspec:\n  storageClass: ceph-rbd\n',
      'overlays/staging/kustomization.yaml': kustomization('namespace: openstack\nresources:\n- ../../base/openstack\n- openstackversion.yaml\n'),
      'overlays/staging/openstackversion.yaml': userVersion(OLD, false),
    },
  },
  {
    name: 'a flat folder per cluster',
    appPath: 'clusters/prod',
    versionFile: 'clusters/prod/openstack-version.yaml',
    clusters: { prod: ['clusters/prod'], edge: ['clusters/edge'] },
    files: {
      'clusters/prod/kustomization.yaml': kustomization('namespace: openstack\nresources: [controlplane.yaml, nodesets.yaml, netconfig.yaml, openstack-version.yaml]  # all of prod\n'),
      'clusters/prod/controlplane.yaml': controlPlane(),
      'clusters/prod/nodesets.yaml': `${nodeSet('compute-a')}---\n${nodeSet('compute-b')}`,
      'clusters/prod/netconfig.yaml': netConfig,
      'clusters/prod/openstack-version.yaml': userVersion(OLD),
      'clusters/edge/kustomization.yaml': kustomization('resources:\n- controlplane.yaml\n- openstack-version.yaml\n'),
      'clusters/edge/controlplane.yaml': controlPlane(),
      'clusters/edge/openstack-version.yaml': userVersion(OLD),
    },
  },
  {
    name: 'a Flux clusters/<name>/ tree',
    appPath: 'apps/openstack/prod',
    appFlag: 'clusters/prod',
    versionFile: 'apps/openstack/prod/version.yaml',
    clusters: { prod: ['clusters/prod', 'apps/openstack/prod'], lab: ['clusters/lab', 'apps/openstack/lab'] },
    files: {
      'clusters/prod/flux-system/kustomization.yaml': kustomization('resources:\n- gotk-sync.yaml\n'),
      'clusters/prod/flux-system/gotk-sync.yaml': fluxSync('flux-system', './clusters/prod', true),
      'clusters/prod/kustomization.yaml': kustomization('resources:\n- flux-system\n- openstack.yaml\n'),
      'clusters/prod/openstack.yaml': fluxSync('openstack', './apps/openstack/prod', false),
      'clusters/lab/kustomization.yaml': kustomization('resources:\n- openstack.yaml\n'),
      'clusters/lab/openstack.yaml': fluxSync('openstack', './apps/openstack/lab', false),
      'apps/openstack/base/kustomization.yaml': kustomization('resources:\n- controlplane.yaml\n- compute-a.yaml\n- compute-b.yaml\n'),
      'apps/openstack/base/controlplane.yaml': controlPlane(),
      'apps/openstack/base/compute-a.yaml': nodeSet('compute-a'),
      'apps/openstack/base/compute-b.yaml': nodeSet('compute-b'),
      'apps/openstack/prod/kustomization.yaml': kustomization('namespace: openstack\nresources:\n- ../base\n- version.yaml\n- netconfig.yaml\n'),
      'apps/openstack/prod/version.yaml': userVersion(OLD),
      'apps/openstack/prod/netconfig.yaml': netConfig,
      'apps/openstack/lab/kustomization.yaml': kustomization('resources:\n- ../base\n- version.yaml\n'),
      'apps/openstack/lab/version.yaml': userVersion(OLD),
    },
  },
];

function fluxSync(name: string, path: string, withSource: boolean): string {
  const source = withSource ? `apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  ref:\n    branch: main\n  url: https://git.example.com/ops/openstack.git\n---\n` : '';
  return `${source}apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ${name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ${path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n`;
}

/** A repository holding `files`, committed by the user. */
export function userRepo(files: Record<string, string>) {
  const repo = newRepo({ push: false });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(repo.work, path, '..'), { recursive: true });
    writeFileSync(join(repo.work, path), text);
  }
  sh(repo.work, 'add', '.');
  sh(repo.work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', "the user's cloud");
  return repo;
}

export type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };
const keyOf = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export async function build(work: string, dir: string): Promise<Map<string, Obj>> {
  const docs = parseAllDocuments(await kustomizeBuild(join(work, dir))).map((d) => d.toJS() as Obj);
  return new Map(docs.map((o) => [keyOf(o), o]));
}

/** The user's objects as the update wants them: the OpenStackVersion at the target, with the plan's custom images. */
export function desired(before: Map<string, Obj>, plan: UpdatePlan): Map<string, Obj> {
  const want = new Map([...before].map(([k, o]) => [k, structuredClone(o)]));
  const osv = want.get(`OpenStackVersion/${plan.namespace}/${plan.openStackVersion}`)!;
  const spec = osv['spec'] as Record<string, unknown>;
  spec['targetVersion'] = plan.versions.target;
  if (Object.keys(plan.customContainerImages).length) spec['customContainerImages'] = plan.customContainerImages;
  else delete spec['customContainerImages'];
  return want;
}

/** Deployments of the phases up to `phaseIndex`, as the plan names them. */
const plannedDeployments = (plan: UpdatePlan, phaseIndex: number) => plan.phases.filter((p) => p.index <= phaseIndex).flatMap((p) => p.git.deployments);

export function expectPhaseState(built: Map<string, Obj>, before: Map<string, Obj>, plan: UpdatePlan, phaseIndex: number | 'retired'): void {
  const deployments = [...built.values()].filter((o) => o.kind === 'OpenStackDataPlaneDeployment');
  const others = new Map([...built].filter(([, o]) => o.kind !== 'OpenStackDataPlaneDeployment'));
  const want = desired(before, plan);
  if (plan.skipCustomImagesValidation) {
    // the annotation's value is the user's business once it is there
    const got = others.get(`OpenStackVersion/${plan.namespace}/${plan.openStackVersion}`)!;
    expect(Object.keys(((got.metadata as Record<string, unknown>)['annotations'] ?? {}) as object)).toContain('core.openstack.org/skip-custom-images-validation');
    (want.get(`OpenStackVersion/${plan.namespace}/${plan.openStackVersion}`)!.metadata as Record<string, unknown>)['annotations'] = (got.metadata as Record<string, unknown>)['annotations'];
  }
  expect(Object.fromEntries(others)).toEqual(Object.fromEntries(want));
  const planned = phaseIndex === 'retired' ? [] : plannedDeployments(plan, phaseIndex);
  expect(deployments.map((d) => d.metadata.name).sort()).toEqual(planned.map((d) => d.name).sort());
  for (const d of deployments) {
    const p = planned.find((x) => x.name === d.metadata.name)!;
    expect(d.metadata.namespace).toBe(plan.namespace);
    expect(d['spec']).toMatchObject({ nodeSets: p.nodeSets, servicesOverride: p.servicesOverride });
  }
}

/** No object in two builds of one cluster (two agents fighting over it). */
export async function expectOneOwnerPerCluster(work: string, layout: Layout): Promise<void> {
  for (const [cluster, paths] of Object.entries(layout.clusters)) {
    const seen = new Map<string, string>();
    for (const p of paths) {
      for (const key of (await build(work, p)).keys()) {
        expect(seen.get(key), `${cluster}: ${key} is applied by both ${seen.get(key)} and ${p}`).toBeUndefined();
        seen.set(key, p);
      }
    }
  }
}

/** The files osv-gitops changed between two commits. */
export const changedFiles = (work: string, from: string, to = 'HEAD') => sh(work, 'diff', '--name-only', from, to).trim().split('\n').filter(Boolean);

export const cleanupArgs = (name: string, work: string, ...extra: string[]) => ['cleanup', ...inputs(name), '--repo', work, '--date', TEST_DATE, '--json', ...extra];
export const commitArgs = (name: string, work: string, ...extra: string[]) => ['commit', ...inputs(name), '--repo', work, '--date', TEST_DATE, '--json', ...extra];

