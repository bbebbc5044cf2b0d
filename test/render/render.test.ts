/**
 * Rendering checks with real parts: every object against its real CRD schema (ajv), every folder
 * through a real kustomize, byte-identical output, and goldens for the example in all engines.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { run } from '../../src/cli/main.js';
import { writeFiles } from '../../src/git/write-tree.js';
import { evaluateFluxHealth } from '../../src/health/evaluate.js';
import { phaseObjects, renderDirectories, renderedPhases, type Engine, type RenderInputs } from '../../src/render/render.js';
import { HEALTH_GATE_ANNOTATION } from '../../src/health/annotations.js';
import { validateObjects } from '../../src/validate/crd-schema.js';
import { kustomizeBuild } from '../helpers/kustomize.js';
import { loadUpdate } from '../../src/cli/inputs.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures');
const ENGINES: Engine[] = ['flux', 'argocd', 'plain'];
const REPO = 'https://git.example.com/ops/openstack.git';
const CASES = ['example', 'custom-backends', 'glance-hotfix', 'ovn-disabled', 'ovn-image-unchanged', 'batches-canary', 'custom-images-skip', 'unquoted-version'];

function load(name: string): RenderInputs {
  const dir = join(fixtures, name);
  const spec = readFileSync(join(dir, 'case.yaml'), 'utf8');
  const args = (parseAllDocuments(spec)[0]!.toJS() as { args: string[] }).args;
  const flags: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const key = a.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const next = args[i + 1];
    if (next === undefined || next.startsWith('--')) flags[key] = true;
    else if (key === 'batch') {
      flags[key] = [...((flags[key] as string[]) ?? []), next];
      i++;
    } else {
      flags[key] = next;
      i++;
    }
  }
  return loadUpdate(flags, { cwd: dir, stdout: () => {}, stderr: () => {}, color: false });
}

function objectsOf(files: { path: string; content: string }[]): Record<string, unknown>[] {
  return files
    .filter((f) => !f.path.endsWith('kustomization.yaml') || !f.content.includes('kustomize.config.k8s.io'))
    .flatMap((f) => parseAllDocuments(f.content).map((d) => d.toJS() as Record<string, unknown>));
}

// Each case renders three engines, validates every object and runs kustomize on every folder:
// seconds on an idle machine, a minute when two Go builds share its two cores. Room, not a race.
describe('render directories', { timeout: 180_000 }, () => {
  // compile the CRD validators once, outside the first case's clock
  beforeAll(() => {
    validateObjects(objectsOf(renderDirectories(load('example'), { engine: 'argocd', repoPath: '.', argo: { repoURL: REPO } })));
  }, 240_000);

  for (const name of CASES) {
    for (const engine of ENGINES) {
      it(`${name} / ${engine}: valid against the CRDs, builds with kustomize, deterministic`, async () => {
        const inputs = load(name);
        const files = renderDirectories(inputs, { engine, repoPath: 'clusters/prod', argo: { repoURL: REPO } });
        expect(renderDirectories(inputs, { engine, repoPath: 'clusters/prod', argo: { repoURL: REPO } })).toEqual(files);
        // each folder is one desired state: validate folder by folder
        const folders = new Map<string, { path: string; content: string }[]>();
        for (const f of files) folders.set(f.path.replace(/\/[^/]+$/, ''), [...(folders.get(f.path.replace(/\/[^/]+$/, '')) ?? []), f]);
        for (const [folder, group] of folders) {
          expect(validateObjects(objectsOf(group)).errors, folder).toEqual([]);
        }
        const out = mkdtempSync(join(tmpdir(), `osv-render-${engine}-`));
        writeFiles(out, files);
        const base = join(out, 'updates', inputs.plan.versions.target);
        const dirs = readdirSync(base).filter((d) => existsSync(join(base, d, 'kustomization.yaml')));
        expect(dirs.length).toBeGreaterThan(2);
        for (const d of dirs) {
          const built = await kustomizeBuild(join(base, d));
          expect(built).toContain('kind:');
        }
        // every phase folder holds the OpenStackVersion with the target, quoted
        const osv = files.find((f) => /\/0[1-9]-[^/]+\/openstackversion-/.test(f.path));
        expect(osv?.content).toContain(`targetVersion: "${inputs.plan.versions.target}"`);
        expect(files.some((f) => f.content.includes('cdk8s.io/metadata.addr'))).toBe(false);
      });
    }
  }

  it('chains the Flux phases and their CEL gates hold only on the right status', () => {
    const inputs = load('example');
    const files = renderDirectories(inputs, { engine: 'flux' });
    const ks = objectsOf(files.filter((f) => f.path.includes('/flux/'))).filter((o) => o['kind'] === 'Kustomization') as {
      metadata: { name: string };
      spec: { dependsOn?: { name: string }[]; healthCheckExprs: { apiVersion: string; kind: string; current: string; failed?: string }[] };
    }[];
    expect(ks.map((k) => k.spec.dependsOn?.[0]?.name ?? null)).toEqual([null, ...ks.slice(0, -1).map((k) => k.metadata.name)]);
    const target = inputs.plan.versions.target;
    const controlplane = ks.find((k) => k.metadata.name.endsWith('controlplane') && !k.metadata.name.includes('ovn'))!;
    const expr = controlplane.spec.healthCheckExprs.find((e) => e.kind === 'OpenStackVersion')!;
    const osv = (conds: { type: string; status: string; reason?: string }[], extra: { gen?: number; obs?: number; tv?: string } = {}) => ({
      apiVersion: 'core.openstack.org/v1beta1',
      kind: 'OpenStackVersion',
      metadata: { name: 'openstack', generation: extra.gen ?? 5 },
      spec: { targetVersion: extra.tv ?? target },
      status: { observedGeneration: extra.obs ?? 5, conditions: conds },
    });
    expect(evaluateFluxHealth(expr, osv([{ type: 'MinorUpdateControlplane', status: 'True' }]))).toBe('Current');
    expect(evaluateFluxHealth(expr, osv([{ type: 'MinorUpdateControlplane', status: 'False', reason: 'Requested' }]))).toBe('InProgress');
    expect(evaluateFluxHealth(expr, osv([{ type: 'MinorUpdateControlplane', status: 'False', reason: 'Error' }]))).toBe('Failed');
    expect(evaluateFluxHealth(expr, osv([]))).toBe('InProgress');
    // stale: True left over from the last update, generation not observed yet
    expect(evaluateFluxHealth(expr, osv([{ type: 'MinorUpdateControlplane', status: 'True' }], { gen: 6, obs: 5 }))).toBe('InProgress');
    // old target
    expect(evaluateFluxHealth(expr, osv([{ type: 'MinorUpdateControlplane', status: 'True' }], { tv: inputs.plan.versions.deployed }))).toBe('InProgress');
  });

  it('refuses to write a Secret', () => {
    const inputs = load('example');
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'osp-secret' }, stringData: { AdminPassword: 'hunter2' } };
    expect(() => renderDirectories({ ...inputs, nodeSets: [...(inputs.nodeSets ?? []), secret] }, { engine: 'plain' })).toThrow(/secret/i);
  });

  // render goldens of every case, the example included, live in commit-golden.test.ts

  it('gives each object to one Argo CD Application, while every Flux folder holds the whole phase', () => {
    const inputs = load('batches-canary');
    const key = (o: Record<string, unknown>) => `${String(o['kind'])}/${String((o['metadata'] as { name: string }).name)}`;
    const folders = (engine: Engine) => {
      const byFolder = new Map<string, string[]>();
      for (const f of renderDirectories(inputs, { engine, repoPath: '.', argo: { repoURL: REPO } })) {
        const m = /\/(\d\d-[^/]+)\/(?!kustomization\.yaml)/.exec(f.path);
        if (!m) continue;
        byFolder.set(m[1]!, [...(byFolder.get(m[1]!) ?? []), ...objectsOf([f]).map(key)]);
      }
      return byFolder;
    };
    const argo = [...folders('argocd').values()].flat();
    expect(new Set(argo).size).toBe(argo.length);
    expect(argo.filter((k) => k.startsWith('OpenStackVersion/'))).toHaveLength(1);
    const flux = folders('flux');
    for (const objs of flux.values()) expect(objs.filter((k) => k.startsWith('OpenStackVersion/'))).toHaveLength(1);
    const last = [...flux.values()].at(-1)!;
    const deployments = inputs.plan.phases.flatMap((p) => p.git.deployments.map((d) => `OpenStackDataPlaneDeployment/${d.name}`));
    expect(last).toEqual(expect.arrayContaining(deployments));
  });

  it('synthesizes the OpenStackVersion and each deployment once per plan; later phases carry the same frozen objects', () => {
    const inputs = load('batches-canary');
    const phases = renderedPhases(inputs.plan);
    const objectsAt = phases.map((p) => phaseObjects(inputs, p, { engine: 'argocd', healthGate: 'MinorUpdateOVNControlplane' }));
    const byName = (objs: Record<string, unknown>[], kind: string) => new Map(objs.filter((o) => o['kind'] === kind).map((o) => [(o['metadata'] as { name: string }).name, o]));
    const version = (objs: Record<string, unknown>[]) => [...byName(objs, 'OpenStackVersion').values()][0]!;
    for (const objs of objectsAt) expect(version(objs)).toBe(version(objectsAt[0]!));
    expect(Object.isFrozen(version(objectsAt[0]!))).toBe(true);
    let carried = 0;
    for (let i = 1; i < objectsAt.length; i++) {
      const before = byName(objectsAt[i - 1]!, 'OpenStackDataPlaneDeployment');
      for (const [name, d] of byName(objectsAt[i]!, 'OpenStackDataPlaneDeployment')) {
        if (!before.has(name)) continue;
        expect(d, name).toBe(before.get(name));
        carried++;
      }
    }
    expect(carried).toBeGreaterThan(2);
    // another health gate is another OpenStackVersion, with its own annotation
    const other = version(phaseObjects(inputs, phases[0]!, { engine: 'argocd', healthGate: 'MinorUpdateControlplane' }));
    expect(other).not.toBe(version(objectsAt[0]!));
    expect((other['metadata'] as { annotations: Record<string, string> }).annotations[HEALTH_GATE_ANNOTATION]).toBe('MinorUpdateControlplane');
    expect((version(objectsAt[0]!)['metadata'] as { annotations: Record<string, string> }).annotations[HEALTH_GATE_ANNOTATION]).toBe('MinorUpdateOVNControlplane');
  });

  it('the render command writes nothing on bad input', async () => {
    const out = mkdtempSync(join(tmpdir(), 'osv-render-bad-'));
    const code = await run(['render', '--example', '--engine', 'nope', '--out', out], { cwd: out, stdout: () => {}, stderr: () => {}, color: false });
    expect(code).toBe(2);
    expect(readdirSync(out)).toEqual([]);
  });
});
