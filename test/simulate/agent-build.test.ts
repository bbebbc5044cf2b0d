/**
 * The agent's kustomize-lite builder on our own rendered folders (checked against the real
 * kustomize the project installs), and its refusals.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadUpdate } from '../../src/cli/inputs.js';
import { OsvError } from '../../src/errors.js';
import { phaseFiles } from '../../src/git/commit-phases.js';
import { writeFiles } from '../../src/git/write-tree.js';
import { renderDirectories, renderedPhases } from '../../src/render/render.js';
import { buildKustomization } from '../../src/simulate/agent/build.js';
import type { KubeObject } from '../../src/simulate/agent/kube.js';
import { findKustomize, kustomizeBuild } from '../helpers/kustomize.js';

const io = { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false };
const inputs = loadUpdate({ example: true }, io);

const key = (o: KubeObject) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const sorted = (objs: KubeObject[]) => [...objs].sort((a, b) => key(a).localeCompare(key(b)));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'osv-build-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof OsvError ? `${e.code}: ${e.message}` : String(e);
  }
  return undefined;
}

const cm = (name: string, ns?: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${ns ? `  namespace: ${ns}\n` : ''}data:\n  a: "1"\n`;

describe('kustomize-lite on rendered folders', () => {
  for (const engine of ['flux', 'argocd'] as const) {
    it(`builds every ${engine} directories-mode folder exactly as kustomize does`, async () => {
      const root = mkdtempSync(join(tmpdir(), `osv-build-${engine}-`));
      writeFiles(root, renderDirectories(inputs, { engine, argo: { repoURL: 'https://git.example.com/ops/openstack.git' } }));
      const base = `updates/${inputs.plan.versions.target}`;
      const folders = [...renderedPhases(inputs.plan).map((p) => `${base}/${String(p.index).padStart(2, '0')}-${p.id}`), `${base}/${engine}`];
      for (const folder of folders) {
        const ours = buildKustomization(folder, { root, plainDirectory: engine });
        expect(ours.length, folder).toBeGreaterThan(0);
        if (findKustomize() === null) continue; // the render tests already fail loudly without it
        const theirs = parseAllDocuments(await kustomizeBuild(join(root, folder))).map((d) => d.toJS() as KubeObject);
        expect(sorted(ours), folder).toEqual(sorted(theirs));
      }
    });
  }

  it('builds the commits-mode folder of every phase', async () => {
    for (const phase of renderedPhases(inputs.plan)) {
      const root = mkdtempSync(join(tmpdir(), 'osv-build-commits-'));
      writeFiles(root, await phaseFiles(inputs, phase, 'flux', 'openstack-update'));
      const objs = buildKustomization('./openstack-update/', { root, plainDirectory: 'flux' });
      const osv = objs.find((o) => o.kind === 'OpenStackVersion');
      expect((osv?.['spec'] as { targetVersion?: string }).targetVersion).toBe(inputs.plan.versions.target);
    }
  });
});

describe('kustomize-lite rules', () => {
  it('follows folders recursively, keeps file order and applies namespace:', () => {
    const root = tree({
      'app/kustomization.yaml': 'resources:\n- b.yaml\n- sub\n- a.yaml\nnamespace: target\n',
      'app/a.yaml': cm('a', 'elsewhere'),
      'app/b.yaml': `${cm('b')}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: target\n`,
      'app/sub/kustomization.yml': 'resources:\n- c.yaml\n',
      'app/sub/c.yaml': `apiVersion: v1\nkind: List\nitems:\n- ${cm('c').trim().replace(/\n/g, '\n  ')}\n`,
    });
    const objs = buildKustomization('app', { root, plainDirectory: 'flux' });
    expect(objs.map((o) => `${o.kind}/${o.metadata.namespace ?? '-'}/${o.metadata.name}`)).toEqual([
      'ConfigMap/target/b',
      'Namespace/-/target',
      'ConfigMap/target/c',
      'ConfigMap/target/a',
    ]);
  });

  it('refuses what it does not support, naming the field', () => {
    for (const [field, text] of [
      ['patches', 'resources: []\npatches:\n- path: p.yaml\n'],
      ['images', 'images:\n- name: x\n  newTag: y\n'],
      ['components', 'components:\n- ../c\n'],
      ['configMapGenerator', 'configMapGenerator:\n- name: x\n'],
    ] as const) {
      const root = tree({ 'k/kustomization.yaml': text });
      const msg = codeOf(() => buildKustomization('k', { root, plainDirectory: 'flux' }));
      expect(msg).toMatch(/^AGENT_BUILD_UNSUPPORTED: /);
      expect(msg).toContain(`"${field}"`);
    }
    const remote = tree({ 'k/kustomization.yaml': 'resources:\n- https://github.com/x/y//config?ref=v1\n' });
    expect(codeOf(() => buildKustomization('k', { root: remote, plainDirectory: 'flux' }))).toMatch(/^AGENT_BUILD_UNSUPPORTED: .*remote resource/);
    const rb = tree({
      'k/kustomization.yaml': 'namespace: x\nresources:\n- rb.yaml\n',
      'k/rb.yaml': 'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: r\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects:\n- {kind: ServiceAccount, name: s}\n',
    });
    expect(codeOf(() => buildKustomization('k', { root: rb, plainDirectory: 'flux' }))).toMatch(/^AGENT_BUILD_UNSUPPORTED: .*ServiceAccount/);
  });

  it('refuses broken input with AGENT_BUILD_INVALID', () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ 'k/kustomization.yaml': 'resources:\n- missing.yaml\n' }, 'k', /does not exist/],
      [{ 'k/kustomization.yaml': 'resources:\n- a.yaml\n- b.yaml\n', 'k/a.yaml': cm('x', 'n'), 'k/b.yaml': cm('x', 'n') }, 'k', /listed twice/],
      [{ 'k/kustomization.yaml': 'resources:\n- ../outside.yaml\n', 'outside.yaml': cm('o') }, 'k', /outside the kustomization's folder/],
      [{ 'k/kustomization.yaml': 'resources:\n- ../j\n', 'j/kustomization.yaml': 'resources:\n- ../k\n' }, 'k', /include each other/],
      [{ 'k/kustomization.yaml': 'resources:\n- a.yaml\n', 'k/a.yaml': 'kind: ConfigMap\n' }, 'k', /apiVersion, kind and metadata.name/],
      [{ 'k/x.yaml': cm('x') }, '../k', /leaves the repository/],
      [{ 'k/x.yaml': cm('x') }, 'nope', /not a folder/],
    ];
    for (const [files, path, re] of cases) {
      const msg = codeOf(() => buildKustomization(path, { root: tree(files), plainDirectory: 'flux' }));
      expect(msg, JSON.stringify(files)).toMatch(/^AGENT_BUILD_INVALID: /);
      expect(msg).toMatch(re);
    }
  });

  it('reads a folder without a kustomization as each agent does', () => {
    const root = tree({ 'd/a.yaml': cm('a', 'n'), 'd/sub/b.yaml': cm('b', 'n'), 'd/notes.txt': 'not yaml' });
    expect(buildKustomization('d', { root, plainDirectory: 'flux' }).map((o) => o.metadata.name)).toEqual(['a', 'b']);
    expect(buildKustomization('d', { root, plainDirectory: 'argocd' }).map((o) => o.metadata.name)).toEqual(['a']);
  });
});
