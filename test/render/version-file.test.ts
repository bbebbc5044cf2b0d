/**
 * `commit --version-file`: the user's own OpenStackVersion is edited in place, byte for byte except
 * the scalars that change, and the data-plane deployments go to a folder of their own.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadUpdate } from '../../src/cli/inputs.js';
import { OsvError } from '../../src/errors.js';
import { editVersionFile } from '../../src/git/version-file.js';
import type { UpdatePlan } from '../../src/plan/types.js';
import { runCli } from '../helpers/cli.js';
import { kustomizeBuild } from '../helpers/kustomize.js';

const DATE = '2026-11-25T08:00:00Z';
const TARGET = '18.0.4-1764633600';

const examplePlan = (): UpdatePlan => loadUpdate({ example: true }, { cwd: tmpdir(), stdout: () => {}, stderr: () => {}, color: false }).plan;

function planWith(over: Partial<UpdatePlan>): UpdatePlan {
  return { ...examplePlan(), ...over };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof OsvError ? e.code : `not an OsvError: ${String(e)}`;
  }
  return undefined;
}

// comments, a three-space indent, quoted strings, flow maps, a second document with the same key names
const TRICKY = `# The prod cloud's OpenStackVersion; reviewed by the platform team.
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated, namespace: openstack}
data:
  targetVersion: "keep-me"   # same key, other object: must not change
---
apiVersion: core.openstack.org/v1beta1
kind: OpenStackVersion
metadata:
   name: openstack     # managed by us
   namespace: "openstack"
   labels: {team: cloud,  tier: "prod"}
spec:
   # bump this on every minor update
   targetVersion: '18.0.3-1761036417'    # pinned
   customContainerImages:
      glanceAPIImage:    "quay.io/x/glance@sha256:aaa"   # hotfix
      cinderVolumeImages: {pure: 'quay.io/pure/cinder@sha256:bbb',  ceph: quay.io/x/ceph@sha256:ccc}
      novaComputeImage: quay.io/x/nova@sha256:ddd
# end of file
`;

describe('editVersionFile', () => {
  it('changes only the scalars that change, keeping comments, indentation, quoting and flow maps', () => {
    const plan = planWith({
      customContainerImages: {
        glanceAPIImage: 'quay.io/x/glance@sha256:eee',
        cinderVolumeImages: { pure: 'quay.io/pure/cinder@sha256:fff', ceph: 'quay.io/x/ceph@sha256:ccc' },
        novaComputeImage: 'quay.io/x/nova@sha256:ddd',
      },
    });
    const out = editVersionFile(TRICKY, plan, 'osv.yaml');
    const expected = TRICKY.replace(`'18.0.3-1761036417'`, `'${TARGET}'`)
      .replace('"quay.io/x/glance@sha256:aaa"', '"quay.io/x/glance@sha256:eee"')
      .replace(`'quay.io/pure/cinder@sha256:bbb'`, `'quay.io/pure/cinder@sha256:fff'`);
    expect(expected).not.toBe(TRICKY);
    expect(out).toBe(expected);
    // and once more changes nothing
    expect(editVersionFile(out, plan, 'osv.yaml')).toBe(out);
  });

  it('adds and removes entries in the file’s own indentation, and takes out the custom images the plan drops', () => {
    const src = `apiVersion: core.openstack.org/v1beta1
kind: OpenStackVersion
metadata:
    name: openstack
spec:
    targetVersion: 18.0.3-1761036417
    customContainerImages:
        glanceAPIImage: quay.io/x/glance@sha256:aaa   # hotfix, drop after the update
        novaComputeImage: quay.io/x/nova@sha256:ddd
        cinderVolumeImages:
            pure: quay.io/pure/cinder@sha256:bbb
`;
    const plan = planWith({
      customContainerImages: { novaComputeImage: 'quay.io/x/nova@sha256:ddd', cinderVolumeImages: { pure: 'quay.io/pure/cinder@sha256:fff' }, manilaShareImages: { netapp: 'quay.io/n/manila@sha256:123' } },
      skipCustomImagesValidation: true,
    });
    expect(editVersionFile(src, plan)).toBe(`apiVersion: core.openstack.org/v1beta1
kind: OpenStackVersion
metadata:
    name: openstack
    annotations:
        core.openstack.org/skip-custom-images-validation: ""
spec:
    targetVersion: "${TARGET}"
    customContainerImages:
        novaComputeImage: quay.io/x/nova@sha256:ddd
        cinderVolumeImages:
            pure: quay.io/pure/cinder@sha256:fff
        manilaShareImages:
            netapp: quay.io/n/manila@sha256:123
`);
    const dropped = editVersionFile(src, planWith({ customContainerImages: {} }));
    expect(dropped).toBe(`apiVersion: core.openstack.org/v1beta1
kind: OpenStackVersion
metadata:
    name: openstack
spec:
    targetVersion: "${TARGET}"
`);
  });

  it('adds custom images and a missing targetVersion where the file has none, and keeps an existing skip annotation', () => {
    const src = `kind: OpenStackVersion
apiVersion: core.openstack.org/v1beta1
metadata:
  name: openstack
  annotations: {core.openstack.org/skip-custom-images-validation: "true", note: x}
spec:
  operatorOverrides: {}
`;
    const out = editVersionFile(src, planWith({ customContainerImages: { glanceAPIImage: 'quay.io/g@sha256:1' }, skipCustomImagesValidation: true }));
    expect(out).toBe(`${src}  targetVersion: "${TARGET}"\n  customContainerImages:\n    glanceAPIImage: quay.io/g@sha256:1\n`);
    expect((parse(out) as { spec: Record<string, unknown> }).spec).toEqual({ operatorOverrides: {}, targetVersion: TARGET, customContainerImages: { glanceAPIImage: 'quay.io/g@sha256:1' } });
  });

  it('edits a flow-style spec in place', () => {
    const src = `{apiVersion: core.openstack.org/v1beta1, kind: OpenStackVersion, metadata: {name: openstack}, spec: {targetVersion: "18.0.3-1761036417", customContainerImages: {a: x, b: y}}}\n`;
    const out = editVersionFile(src, planWith({ customContainerImages: { b: 'z', c: 'w' } }));
    expect(out).toBe(`{apiVersion: core.openstack.org/v1beta1, kind: OpenStackVersion, metadata: {name: openstack}, spec: {targetVersion: "${TARGET}", customContainerImages: {b: z, c: w}}}\n`);
  });

  it('refuses files it cannot edit with stable codes', () => {
    const plan = examplePlan();
    const osv = (meta: string, extra = '') => `apiVersion: core.openstack.org/v1beta1\nkind: OpenStackVersion\nmetadata: ${meta}\nspec:\n  targetVersion: 18.0.3-1761036417\n${extra}`;
    expect(codeOf(() => editVersionFile('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: openstack}\n', plan))).toBe('VERSION_FILE_INVALID');
    expect(codeOf(() => editVersionFile('apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: Secret\n', plan))).toBe('VERSION_FILE_INVALID');
    expect(codeOf(() => editVersionFile(`${osv('{name: openstack}')}---\n${osv('{name: openstack}')}`, plan))).toBe('VERSION_FILE_INVALID');
    expect(codeOf(() => editVersionFile(osv('{name: other}'), plan))).toBe('VERSION_FILE_MISMATCH');
    expect(codeOf(() => editVersionFile(osv('{name: openstack, namespace: elsewhere}'), plan))).toBe('VERSION_FILE_MISMATCH');
    expect(codeOf(() => editVersionFile('kind: OpenStackVersion\n  bad: [indent\n', plan))).toBe('VERSION_FILE_INVALID');
    const aliased = osv('{name: openstack, labels: {img: &img quay.io/a}}', '  customContainerImages: {glanceAPIImage: *img}\n');
    expect(codeOf(() => editVersionFile(`x: *nowhere\n---\n${osv('{name: openstack}')}`, plan))).toBe('VERSION_FILE_INVALID');
    expect(codeOf(() => editVersionFile(aliased, { ...plan, customContainerImages: { glanceAPIImage: 'q' } }))).toBe('VERSION_FILE_INVALID');
    // a multi-document file with exactly one OpenStackVersion, no namespace (the kustomization sets it): fine
    const multi = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n${osv('{name: openstack}')}`;
    const out = editVersionFile(multi, plan);
    expect(parseAllDocuments(out).map((d) => (d.toJS() as { spec?: { targetVersion?: string } }).spec?.targetVersion)).toEqual([undefined, TARGET]);
    expect(out.split('\n').filter((l, i) => l !== multi.split('\n')[i])).toEqual([`  targetVersion: "${TARGET}"`]);
  });
});

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures');

describe('editVersionFile on the fixture cases', () => {
  // every case that plans: its own OpenStackVersion dump (status and all) edited with its own plan
  const cases = readdirSync(fixtures).filter((d) => existsSync(join(fixtures, d, 'expected', 'plan.json')) && existsSync(join(fixtures, d, 'openstackversion.yaml')));
  it.each(cases)('%s: only the spec and annotation lines change, and the result reads back as the plan', (name) => {
    const plan = JSON.parse(readFileSync(join(fixtures, name, 'expected', 'plan.json'), 'utf8')) as UpdatePlan;
    const src = readFileSync(join(fixtures, name, 'openstackversion.yaml'), 'utf8');
    const out = editVersionFile(src, plan, name);
    const doc = parse(out) as { spec: Record<string, unknown>; metadata: { annotations?: Record<string, string> }; status?: unknown };
    expect(doc.spec['targetVersion']).toBe(plan.versions.target);
    expect(doc.spec['customContainerImages'] ?? {}).toEqual(plan.customContainerImages);
    if (plan.skipCustomImagesValidation) expect(doc.metadata.annotations).toHaveProperty(['core.openstack.org/skip-custom-images-validation']);
    expect(doc.status).toEqual((parse(src) as { status?: unknown }).status);
    // outside spec (and the annotations we may add) the text is the same, line for line
    const outside = (text: string) => text.split(/^spec:\n(?:[ #].*\n|\n)*/m).join('spec:\n').split('\n').filter((l) => !l.includes('skip-custom-images-validation') && l !== '  annotations:');
    expect(outside(out)).toEqual(outside(src));
  });
});

function sh(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
}

const USER_OSV = `# Our OpenStackVersion. Owned by the platform team; osv-gitops edits the version only.
apiVersion: core.openstack.org/v1beta1
kind: OpenStackVersion
metadata:
  name: openstack   # one per namespace
spec:
  targetVersion: 18.0.3-1761036417   # the running version
`;

function userRepo(): { work: string; bare: string } {
  const base = mkdtempSync(join(tmpdir(), 'osv-vf-'));
  const bare = join(base, 'remote.git');
  const work = join(base, 'work');
  sh(base, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  sh(base, 'init', '--quiet', '--initial-branch=main', work);
  mkdirSync(join(work, 'clusters', 'prod'), { recursive: true });
  writeFileSync(join(work, 'clusters', 'prod', 'openstackversion.yaml'), USER_OSV);
  writeFileSync(join(work, 'clusters', 'prod', 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: openstack\nresources:\n- openstackversion.yaml\n- update-deployments\n');
  sh(work, 'add', '.');
  sh(work, 'commit', '--quiet', '-m', 'init', '--date', DATE);
  sh(work, 'remote', 'add', 'origin', `file://${bare}`);
  return { work, bare };
}

// issue 12: the kustomization the agent applies, with the user's own comments
const PROD_KUSTOMIZATION = `# prod cluster: reviewed by the platform team
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: openstack
resources:
  - ../../base                # control plane and nodesets
  - openstackversion.yaml   # osv-gitops edits this one
# keep the labels last
labels:
  - pairs: {env: prod}
`;

const VF = ['--version-file', 'clusters/prod/openstackversion.yaml', '--deployments-dir', 'clusters/prod/update-deployments'];

describe('commit --version-file', () => {
  beforeAll(() => {
    process.env['GIT_CONFIG_GLOBAL'] = '/dev/null';
    process.env['GIT_CONFIG_NOSYSTEM'] = '1';
    process.env['GIT_AUTHOR_NAME'] = process.env['GIT_COMMITTER_NAME'] = 'osv-gitops test';
    process.env['GIT_AUTHOR_EMAIL'] = process.env['GIT_COMMITTER_EMAIL'] = 'test@osv-gitops.invalid';
    process.env['GIT_COMMITTER_DATE'] = DATE;
  });

  it('edits the user’s file in place and writes only the deployments folder, once', async () => {
    const { work } = userRepo();
    const res = await runCli(['commit', '--example', '--repo', work, ...VF, '--all', '--date', DATE, '--json'], work);
    expect(res.exitCode, res.stderr).toBe(0);
    expect((JSON.parse(res.stdout) as { committed: { phase: string }[] }).committed.map((c) => c.phase)).toEqual(['ovn-controlplane', 'ovn-dataplane', 'dataplane']);
    const osv = readFileSync(join(work, 'clusters', 'prod', 'openstackversion.yaml'), 'utf8');
    expect(osv).toBe(USER_OSV.replace('targetVersion: 18.0.3-1761036417', `targetVersion: "${TARGET}"`));
    // no second copy of the OpenStackVersion, no carried control plane or nodesets
    const files = sh(work, 'ls-tree', '-r', '--name-only', 'HEAD').trim().split('\n');
    expect(files.filter((f) => f.startsWith('clusters/prod/update-deployments/')).map((f) => f.replace(/.*\//, ''))).toEqual([
      'kustomization.yaml',
      'openstackdataplanedeployment-edpm-ovn-18-0-4-1764633600.yaml',
      'openstackdataplanedeployment-edpm-update-18-0-4-1764633600.yaml',
    ]);
    expect(files.filter((f) => !f.startsWith('clusters/prod/update-deployments/'))).toEqual(['clusters/prod/kustomization.yaml', 'clusters/prod/openstackversion.yaml']);
    // the first phase changes only the version file; its deployments folder is an empty kustomization
    const first = sh(work, 'log', '--reverse', '--format=%H', 'HEAD~3..HEAD').trim().split('\n')[0]!;
    expect(sh(work, 'show', `${first}:clusters/prod/update-deployments/kustomization.yaml`)).toContain('resources: []');
    // and the user's own kustomization builds with a real kustomize
    const built = await kustomizeBuild(join(work, 'clusters', 'prod'));
    expect((built.match(/^kind: \w+/gm) ?? []).sort()).toEqual(['kind: OpenStackDataPlaneDeployment', 'kind: OpenStackDataPlaneDeployment', 'kind: OpenStackVersion']);
    const again = await runCli(['commit', '--example', '--repo', work, ...VF, '--all', '--date', DATE, '--json'], work);
    expect(again.exitCode, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { committed: unknown[] }).committed).toEqual([]);
    expect(sh(work, 'rev-list', '--count', 'HEAD').trim()).toBe('4');
  });

  it('adds the deployments folder to the parent kustomization (issue 12), so every phase builds with its deployments', async () => {
    // the layout of issue 12: a base, and clusters/prod listing it and the OpenStackVersion
    const { work } = userRepo();
    mkdirSync(join(work, 'base'));
    writeFileSync(join(work, 'base', 'kustomization.yaml'), 'resources:\n- controlplane.yaml\n');
    writeFileSync(join(work, 'base', 'controlplane.yaml'), 'apiVersion: core.openstack.org/v1beta1\nkind: OpenStackControlPlane\nmetadata:\n  name: controlplane\nspec: {}\n');
    writeFileSync(join(work, 'clusters', 'prod', 'kustomization.yaml'), PROD_KUSTOMIZATION);
    sh(work, 'add', '.');
    sh(work, 'commit', '--quiet', '-m', 'issue 12 layout', '--date', DATE);
    const args = ['commit', '--example', '--repo', work, '--version-file', 'clusters/prod/openstackversion.yaml', '--deployments-dir', 'clusters/prod/updates', '--all', '--date', DATE, '--json'];
    const res = await runCli(args, work);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    const out = JSON.parse(res.stdout) as { committed: { phase: string; sha: string }[]; warnings: string[] };
    expect(out.warnings).toEqual([]);
    expect(out.committed.map((c) => c.phase)).toEqual(['ovn-controlplane', 'ovn-dataplane', 'dataplane']);
    // one line added, every comment of the user's kept; the first phase already carries it
    const wired = PROD_KUSTOMIZATION.replace('  - openstackversion.yaml   # osv-gitops edits this one\n', '  - openstackversion.yaml   # osv-gitops edits this one\n  - updates\n');
    expect(readFileSync(join(work, 'clusters', 'prod', 'kustomization.yaml'), 'utf8')).toBe(wired);
    expect(sh(work, 'show', `${out.committed[0]!.sha}:clusters/prod/kustomization.yaml`)).toBe(wired);
    expect(sh(work, 'status', '--porcelain')).toBe('');
    // each phase's commit, built with the real kustomize, holds that phase's deployments and nothing owned twice
    const deployments: Record<string, string[]> = { 'ovn-controlplane': [], 'ovn-dataplane': ['edpm-ovn-18-0-4-1764633600'], dataplane: ['edpm-ovn-18-0-4-1764633600', 'edpm-update-18-0-4-1764633600'] };
    for (const c of out.committed) {
      const tree = mkdtempSync(join(tmpdir(), 'osv-vf-tree-'));
      execFileSync('sh', ['-c', `git -C "$1" archive "$2" | tar -x -C "$3"`, 'sh', work, c.sha, tree]);
      const docs = parseAllDocuments(await kustomizeBuild(join(tree, 'clusters', 'prod'))).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
      expect(docs.filter((d) => d.kind === 'OpenStackDataPlaneDeployment').map((d) => d.metadata.name).sort(), c.phase).toEqual(deployments[c.phase]);
      expect(docs.filter((d) => d.kind !== 'OpenStackDataPlaneDeployment').map((d) => d.kind).sort()).toEqual(['OpenStackControlPlane', 'OpenStackVersion']);
    }
    // a second run adds nothing, not even a second entry
    const again = await runCli(args, work);
    expect(again.exitCode, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { committed: unknown[] }).committed).toEqual([]);
    expect(readFileSync(join(work, 'clusters', 'prod', 'kustomization.yaml'), 'utf8')).toBe(wired);
  });

  it('warns on stderr and in --json when the deployments folder’s parent has no kustomization', async () => {
    const { work } = userRepo();
    const args = ['commit', '--example', '--repo', work, '--version-file', 'clusters/prod/openstackversion.yaml', '--deployments-dir', 'clusters/prod/updates/osv', '--date', DATE];
    const res = await runCli([...args, '--json'], work);
    expect(res.exitCode, res.stderr).toBe(0);
    const warnings = (JSON.parse(res.stdout) as { warnings: string[] }).warnings;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('clusters/prod/updates has no kustomization.yaml, so nothing references clusters/prod/updates/osv');
    expect(warnings[0]).toMatch(/: - osv$/);
    expect(res.stderr).toBe(`warning: ${warnings[0]}\n`);
    // the user's kustomization one level further up is not touched
    expect(sh(work, 'diff', '--name-only', 'HEAD~1', 'HEAD').trim().split('\n')).toEqual(['clusters/prod/openstackversion.yaml', 'clusters/prod/updates/osv/kustomization.yaml']);
    const text = await runCli(args, work);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stderr).toMatch(/^warning: clusters\/prod\/updates has no kustomization\.yaml/);
  });

  it('refuses a missing, foreign or mismatched version file and writes nothing, not even a branch', async () => {
    const { work } = userRepo();
    const cases: [string, string | undefined, string][] = [
      ['clusters/prod/missing.yaml', undefined, 'VERSION_FILE_NOT_FOUND'],
      ['clusters/prod/kustomization.yaml', undefined, 'VERSION_FILE_INVALID'],
      ['clusters/prod/other.yaml', USER_OSV.replace('name: openstack', 'name: other'), 'VERSION_FILE_MISMATCH'],
    ];
    for (const [file, content, code] of cases) {
      if (content !== undefined) {
        writeFileSync(join(work, file), content);
        sh(work, 'add', file);
        sh(work, 'commit', '--quiet', '-m', `add ${file}`, '--date', DATE);
      }
      const before = sh(work, 'rev-parse', 'HEAD');
      const res = await runCli(['commit', '--example', '--repo', work, '--version-file', file, '--branch', 'update', '--all', '--date', DATE], work);
      expect(res.exitCode, file).toBe(2);
      expect(res.stderr).toContain(code);
      expect(sh(work, 'rev-parse', 'HEAD')).toBe(before);
      expect(sh(work, 'branch', '--list', 'update').trim()).toBe('');
      expect(sh(work, 'status', '--porcelain')).toBe('');
    }
    expect(sh(work, 'rev-list', '--count', 'HEAD').trim()).toBe('2');
  });

  it('refuses a version file inside the folder it rewrites', async () => {
    const { work } = userRepo();
    const res = await runCli(['commit', '--example', '--repo', work, '--version-file', 'clusters/prod/openstackversion.yaml', '--deployments-dir', 'clusters', '--date', DATE], work);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('USAGE');
  });
});
