/**
 * `--app-path`: the user's OpenStackVersion is found through the kustomization graph of the folder
 * the agent builds, and the walk refuses what would make the edit wrong or unsafe: a base shared by
 * other clusters, a patch that overrides the edit, links, entries outside the repository.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OsvError } from '../../src/errors.js';
import { adoptAppPath } from '../../src/git/app-path.js';
import { runCli } from '../helpers/cli.js';
import { sealGitEnv, sh, TEST_DATE } from '../helpers/git-repo.js';
import { LAYOUTS, userRepo } from '../helpers/layouts.js';

const k = (lines: string) => `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${lines}`;
const osv = (name = 'openstack') => `apiVersion: core.openstack.org/v1beta1\nkind: OpenStackVersion\nmetadata:\n  name: ${name}\nspec:\n  targetVersion: 18.0.3-1761036417\n`;
const plan = { openStackVersion: 'openstack' };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof OsvError ? `${e.code}: ${e.message}` : `not an OsvError: ${String(e)}`;
  }
  return 'no error';
}

describe('--app-path finds the OpenStackVersion through the kustomization graph', () => {
  beforeAll(sealGitEnv);

  it('follows resources, bases and components, and defaults the deployments folder into the app', async () => {
    const repo = userRepo({
      'apps/prod/kustomization.yaml': k('resources:\n- ../base\ncomponents:\n- ../components/version\n'),
      'apps/base/kustomization.yaml': k('bases:\n- https://github.com/example/remote//base?ref=v1\nresources:\n- cm.yaml\n'),
      'apps/base/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n',
      'apps/components/version/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- osv.yaml\n- other.yaml\n',
      'apps/components/version/osv.yaml': osv(),
      'apps/components/version/other.yaml': osv('another-cloud'),
    });
    expect(await adoptAppPath(repo.work, 'HEAD', 'apps/prod', plan)).toEqual({ appPath: 'apps/prod', versionFile: 'apps/components/version/osv.yaml', deploymentsDir: 'apps/prod/openstack-updates' });
    expect(await adoptAppPath(repo.work, 'HEAD', './apps/prod/', plan, 'apps/prod/updates')).toMatchObject({ deploymentsDir: 'apps/prod/updates' });
    // the repository root as the app
    const top = userRepo({ 'kustomization.yaml': k('resources:\n- osv.yaml\n'), 'osv.yaml': osv() });
    expect(await adoptAppPath(top.work, 'HEAD', '.', plan)).toEqual({ appPath: '.', versionFile: 'osv.yaml', deploymentsDir: 'openstack-updates' });
  });

  it('refuses an OpenStackVersion in a base other overlays build, and takes it when --version-file says so', async () => {
    const repo = userRepo({
      'base/kustomization.yaml': k('resources:\n- openstackversion.yaml\n'),
      'base/openstackversion.yaml': osv(),
      'overlays/prod/kustomization.yaml': k('resources:\n- ../../base\n'),
      'overlays/staging/kustomization.yaml': k('resources:\n- ../../base\n'),
    });
    const refused = await codeOf(adoptAppPath(repo.work, 'HEAD', 'overlays/prod', plan));
    expect(refused).toMatch(/^OSV_SHARED_BASE: base\/openstackversion.yaml is in a base that another kustomization also builds \(overlays\/staging\)/);
    const before = sh(repo.work, 'rev-parse', 'HEAD');
    const cli = await runCli(['commit', '--example', '--repo', repo.work, '--date', TEST_DATE, '--app-path', 'overlays/prod'], repo.work);
    expect(cli.exitCode).toBe(1);
    expect(cli.stderr).toContain('OSV_SHARED_BASE');
    expect(cli.stderr).toContain('--version-file base/openstackversion.yaml --deployments-dir overlays/prod/openstack-updates');
    expect(sh(repo.work, 'rev-parse', 'HEAD')).toBe(before);
    // the explicit hand-over: every cluster of the base moves, which the user asked for
    const explicit = await runCli(['commit', '--example', '--repo', repo.work, '--date', TEST_DATE, '--app-path', 'overlays/prod', '--version-file', 'base/openstackversion.yaml'], repo.work);
    expect(explicit.exitCode, explicit.stderr).toBe(0);
    expect(sh(repo.work, 'show', 'HEAD:base/openstackversion.yaml')).toContain('targetVersion: "18.0.4-1764633600"');
    expect(sh(repo.work, 'show', 'HEAD:overlays/prod/kustomization.yaml')).toContain('- openstack-updates');
    // a base only this overlay builds is the overlay's own
    const single = userRepo({ 'base/kustomization.yaml': k('resources:\n- osv.yaml\n'), 'base/osv.yaml': osv(), 'prod/kustomization.yaml': k('resources:\n- ../base\n') });
    expect((await adoptAppPath(single.work, 'HEAD', 'prod', plan)).versionFile).toBe('base/osv.yaml');
  }, 90_000);

  it('refuses an OpenStackVersion whose target a patch on the way overrides', async () => {
    const patch = 'apiVersion: core.openstack.org/v1beta1\nkind: OpenStackVersion\nmetadata:\n  name: openstack\nspec:\n  targetVersion: 18.0.3-1761036417\n';
    const inFile = userRepo({ 'prod/kustomization.yaml': k('resources:\n- osv.yaml\npatches:\n- path: pin.yaml\n'), 'prod/osv.yaml': osv(), 'prod/pin.yaml': patch });
    expect(await codeOf(adoptAppPath(inFile.work, 'HEAD', 'prod', plan))).toMatch(/^OSV_PATCHED: .*prod\/osv.yaml/);
    const inline = userRepo({ 'prod/kustomization.yaml': k(`resources:\n- osv.yaml\npatches:\n- patch: |-\n    ${patch.split('\n').join('\n    ')}\n`), 'prod/osv.yaml': osv() });
    expect(await codeOf(adoptAppPath(inline.work, 'HEAD', 'prod', plan))).toMatch(/^OSV_PATCHED/);
  });

  it('finds none, or two, and says so', async () => {
    const none = userRepo({ 'prod/kustomization.yaml': k('resources:\n- osv.yaml\n'), 'prod/osv.yaml': osv('another-cloud') });
    expect(await codeOf(adoptAppPath(none.work, 'HEAD', 'prod', plan))).toMatch(/^APP_PATH_OSV_NOT_FOUND/);
    const two = userRepo({ 'prod/kustomization.yaml': k('resources:\n- a.yaml\n- b.yaml\n'), 'prod/a.yaml': osv(), 'prod/b.yaml': osv() });
    expect(await codeOf(adoptAppPath(two.work, 'HEAD', 'prod', plan))).toMatch(/^APP_PATH_OSV_AMBIGUOUS/);
    const noKustomization = userRepo({ 'prod/osv.yaml': osv() });
    expect(await codeOf(adoptAppPath(noKustomization.work, 'HEAD', 'prod', plan))).toMatch(/^APP_PATH_INVALID: prod has no kustomization.yaml/);
    expect(await codeOf(adoptAppPath(noKustomization.work, 'HEAD', 'nowhere', plan))).toMatch(/^APP_PATH_INVALID/);
  });

  it('never leaves the repository and never follows a link', async () => {
    const out = userRepo({ 'prod/kustomization.yaml': k('resources:\n- ../../elsewhere\n') });
    expect(await codeOf(adoptAppPath(out.work, 'HEAD', 'prod', plan))).toMatch(/^PATH_UNSAFE: prod\/kustomization.yaml lists "..\/..\/elsewhere", which is outside the repository/);
    const linked = userRepo({ 'prod/kustomization.yaml': k('resources:\n- shared\n'), 'real/kustomization.yaml': k('resources:\n- osv.yaml\n'), 'real/osv.yaml': osv() });
    symlinkSync('/etc', join(linked.work, 'prod', 'shared'));
    sh(linked.work, 'add', 'prod/shared');
    sh(linked.work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', 'a link');
    expect(await codeOf(adoptAppPath(linked.work, 'HEAD', 'prod', plan))).toMatch(/^PATH_UNSAFE: .*symbolic link prod\/shared/);
    expect(await codeOf(adoptAppPath(linked.work, 'HEAD', '../x', plan))).toMatch(/^PATH_UNSAFE/);
  });

  it('follows the Flux Kustomization (or Argo CD Application) of a cluster folder to the app that declares it', async () => {
    const flux = LAYOUTS.find((l) => l.appPath === 'apps/openstack/prod')!;
    const repo = userRepo(flux.files);
    const found = await adoptAppPath(repo.work, 'HEAD', 'clusters/prod', plan);
    expect(found).toEqual({
      appPath: 'apps/openstack/prod',
      versionFile: 'apps/openstack/prod/version.yaml',
      deploymentsDir: 'apps/openstack/prod/openstack-updates',
      via: ['Flux Kustomization flux-system/openstack in clusters/prod/openstack.yaml'],
    });
    const cli = await runCli(['commit', '--example', '--repo', repo.work, '--date', TEST_DATE, '--app-path', 'clusters/prod'], repo.work);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(cli.stderr).toContain('adopting clusters/prod (followed Flux Kustomization flux-system/openstack in clusters/prod/openstack.yaml to apps/openstack/prod)');
    expect(sh(repo.work, 'show', 'HEAD:apps/openstack/prod/version.yaml')).toContain('18.0.4-1764633600');

    const app = (name: string, path: string) => `apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: ${name}\n  namespace: openshift-gitops\nspec:\n  source:\n    repoURL: https://git.example.com/ops.git\n    path: ${path}\n`;
    const argo = userRepo({
      'argocd/kustomization.yaml': k('resources:\n- apps.yaml\n'),
      'argocd/apps.yaml': `${app('openstack', 'openstack/prod')}---\n${app('monitoring', 'monitoring')}`,
      'monitoring/kustomization.yaml': k('resources: []\n'),
      'openstack/prod/kustomization.yaml': k('resources:\n- osv.yaml\n'),
      'openstack/prod/osv.yaml': osv(),
    });
    expect(await adoptAppPath(argo.work, 'HEAD', 'argocd', plan)).toMatchObject({ appPath: 'openstack/prod', via: ['Argo CD Application openshift-gitops/openstack in argocd/apps.yaml'] });
    // two apps of one cluster folder that both declare it: which one is meant is the user's call
    const two = userRepo({
      'argocd/kustomization.yaml': k('resources:\n- apps.yaml\n'),
      'argocd/apps.yaml': `${app('a', 'a')}---\n${app('b', 'b')}`,
      'a/kustomization.yaml': k('resources:\n- osv.yaml\n'),
      'a/osv.yaml': osv(),
      'b/kustomization.yaml': k('resources:\n- osv.yaml\n'),
      'b/osv.yaml': osv(),
    });
    expect(await codeOf(adoptAppPath(two.work, 'HEAD', 'argocd', plan))).toMatch(/^APP_PATH_OSV_AMBIGUOUS: 2 apps reached from argocd/);
  }, 90_000);

  it('advance takes --app-path too (resolved before the cluster is read)', async () => {
    const repo = userRepo({ 'prod/kustomization.yaml': k('resources:\n- osv.yaml\n'), 'prod/osv.yaml': osv('another-cloud') });
    const r = await runCli(['advance', '--example', '--repo', repo.work, '--app-path', 'prod', '--kubeconfig', '/nonexistent'], repo.work);
    expect(r.stderr).toContain('APP_PATH_OSV_NOT_FOUND');
    expect(r.exitCode).toBe(2); // an input error: the flag points at the wrong folder
  }, 90_000);

  it('stops a graph deeper than its bound', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`l${i}/kustomization.yaml`] = k(`resources:\n- ../l${i + 1}\n`);
    files['l20/kustomization.yaml'] = k('resources:\n- osv.yaml\n');
    files['l20/osv.yaml'] = osv();
    const deep = userRepo(files);
    expect(await codeOf(adoptAppPath(deep.work, 'HEAD', 'l0', plan))).toMatch(/^APP_PATH_INVALID: the kustomization graph is deeper than 16/);
    expect((await adoptAppPath(deep.work, 'HEAD', 'l10', plan)).versionFile).toBe('l20/osv.yaml');
  });
});
