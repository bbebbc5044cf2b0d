/**
 * `osv-gitops cleanup`: a finished update is retired in one commit; an unfinished one is not
 * (unless --force), and a copies folder holding the only OpenStackVersion is never removed (with
 * prune on, that would delete the OpenStackVersion from the cluster) until the user's app owns it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OsvError } from '../../src/errors.js';
import { unreferenceFolder } from '../../src/git/parent-kustomization.js';
import { runCli } from '../helpers/cli.js';
import { sealGitEnv, sh, TEST_DATE } from '../helpers/git-repo.js';
import { build, inputs, LAYOUTS, NEXT, userRepo } from '../helpers/layouts.js';

const flat = LAYOUTS.find((l) => l.appPath === 'clusters/prod')!;
const example = (...extra: string[]) => ['--example', '--date', TEST_DATE, ...extra];
const commit = (work: string, ...extra: string[]) => runCli(['commit', '--repo', work, '--json', ...example(...extra)], work);
const cleanup = (work: string, ...extra: string[]) => runCli(['cleanup', '--repo', work, ...example(...extra)], work);
const head = (work: string) => sh(work, 'rev-parse', 'HEAD').trim();
const deploymentsIn = async (work: string, dir: string) => [...(await build(work, dir)).keys()].filter((k) => k.startsWith('OpenStackDataPlaneDeployment/'));

describe('cleanup', () => {
  beforeAll(sealGitEnv);

  it('refuses an update whose last phase is not committed, and --force retires it with a warning', async () => {
    const repo = userRepo(flat.files);
    const app = ['--app-path', 'clusters/prod'];
    expect((await commit(repo.work, ...app, '--phase', '2')).exitCode).toBe(0);
    const before = head(repo.work);
    const refused = await cleanup(repo.work, ...app);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('UPDATE_NOT_COMPLETE');
    expect(refused.stderr).toContain('dataplane not committed');
    expect(head(repo.work)).toBe(before);
    expect(sh(repo.work, 'status', '--porcelain')).toBe('');
    const forced = await cleanup(repo.work, ...app, '--force');
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(forced.stderr).toContain('warning: --force');
    expect(await deploymentsIn(repo.work, 'clusters/prod')).toEqual([]);
  }, 60_000);

  it('leaves an update alone once a later one has replaced its folder', async () => {
    const repo = userRepo(flat.files);
    const app = ['--app-path', 'clusters/prod'];
    expect((await commit(repo.work, ...app, '--all')).exitCode).toBe(0);
    // the next update (another target) starts before the first was retired
    const next = ['commit', '--repo', repo.work, '--json', '--date', TEST_DATE, ...inputs(NEXT), ...app];
    expect((await runCli(next, repo.work)).exitCode).toBe(0);
    const before = head(repo.work);
    const r = await runCli(['cleanup', '--repo', repo.work, ...example(...app)], repo.work);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('nothing to retire: the update to 0.6.0-1782000000 was committed after the update to 18.0.4-1764633600');
    expect(head(repo.work)).toBe(before);
  }, 60_000);

  it('--keep-deployments keeps their files in Git, no longer applied', async () => {
    const repo = userRepo(flat.files);
    const app = ['--app-path', 'clusters/prod'];
    expect((await commit(repo.work, ...app, '--all')).exitCode).toBe(0);
    const files = sh(repo.work, 'ls-tree', '-r', '--name-only', 'HEAD', '--', 'clusters/prod/openstack-updates');
    expect(await deploymentsIn(repo.work, 'clusters/prod')).toHaveLength(2);
    const r = await cleanup(repo.work, ...app, '--keep-deployments');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('kept 3 files (--keep-deployments)');
    expect(sh(repo.work, 'ls-tree', '-r', '--name-only', 'HEAD', '--', 'clusters/prod/openstack-updates')).toBe(files);
    expect(await deploymentsIn(repo.work, 'clusters/prod')).toEqual([]);
    expect(readFileSync(join(repo.work, 'clusters/prod/kustomization.yaml'), 'utf8')).toBe(flat.files['clusters/prod/kustomization.yaml']);
  }, 60_000);

  it('refuses to remove a copies folder that holds the only OpenStackVersion, and retires it once the user\'s app owns it', async () => {
    const k = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- netconfig.yaml   # ours\n- openstack-update\n';
    const repo = userRepo({ 'clusters/prod/kustomization.yaml': k, 'clusters/prod/netconfig.yaml': flat.files['clusters/prod/netconfig.yaml']! });
    const path = ['--path', 'clusters/prod/openstack-update'];
    expect((await commit(repo.work, ...path, '--all')).exitCode).toBe(0);
    const built = await build(repo.work, 'clusters/prod');
    const before = head(repo.work);
    const refused = await cleanup(repo.work, ...path);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('CLEANUP_WOULD_DELETE');
    expect(refused.stderr).toContain('would DELETE them from the cluster');
    expect(refused.stderr).toContain('git mv clusters/prod/openstack-update/openstackversion-openstack.yaml <your app folder>/openstackversion-openstack.yaml');
    expect(head(repo.work)).toBe(before);

    // the printed steps: move every listed file into the app, list them, one commit
    const moved = [...refused.stderr.matchAll(/git mv (\S+) /g)].map((m) => m[1]!);
    expect(moved.length).toBe(4); // the OpenStackVersion, the control plane, two nodesets
    for (const f of moved) sh(repo.work, 'mv', f, 'clusters/prod/');
    const names = moved.map((f) => f.replace(/.*\//, ''));
    writeFileSync(join(repo.work, 'clusters/prod/kustomization.yaml'), `${k}${names.map((n) => `- ${n}\n`).join('')}`);
    expect(refused.stderr).toContain('take them out of clusters/prod/openstack-update/kustomization.yaml');
    const ours = join(repo.work, 'clusters/prod/openstack-update/kustomization.yaml');
    writeFileSync(ours, readFileSync(ours, 'utf8').split('\n').filter((l) => !names.some((n) => l.endsWith(` ${n}`))).join('\n'));
    sh(repo.work, 'add', 'clusters/prod');
    sh(repo.work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', 'take the OpenStack objects over from osv-gitops');
    expect(Object.fromEntries(await build(repo.work, 'clusters/prod'))).toEqual(Object.fromEntries(built));

    const r = await cleanup(repo.work, ...path);
    expect(r.exitCode, r.stderr).toBe(0);
    const after = await build(repo.work, 'clusters/prod');
    // the OpenStack objects are still applied, by the user's app alone; the deployments are no longer
    expect(Object.fromEntries(after)).toEqual(Object.fromEntries([...built].filter(([key]) => !key.startsWith('OpenStackDataPlaneDeployment/'))));
    expect(sh(repo.work, 'show', 'HEAD:clusters/prod/kustomization.yaml')).not.toContain('openstack-update\n');
    expect(sh(repo.work, 'show', 'HEAD:clusters/prod/kustomization.yaml')).toContain('- netconfig.yaml   # ours\n');
    expect(sh(repo.work, 'ls-tree', 'HEAD', '--', 'clusters/prod/openstack-update').trim()).toBe('');
  }, 60_000);
});

describe('unreferenceFolder', () => {
  const K = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n';
  it('takes the entry out of a block or flow list and keeps every other byte', () => {
    expect(unreferenceFolder(`${K}# mine\nresources:\n- a.yaml  # a\n- ./updates/   # ours\n- b.yaml\n`, 'updates', 'k')).toBe(`${K}# mine\nresources:\n- a.yaml  # a\n- b.yaml\n`);
    expect(unreferenceFolder(`${K}resources: [a.yaml, updates, b.yaml]  # all\n`, 'updates', 'k')).toBe(`${K}resources: [a.yaml, b.yaml]  # all\n`);
    expect(unreferenceFolder(`${K}resources: [a.yaml, updates]\n`, 'updates', 'k')).toBe(`${K}resources: [a.yaml]\n`);
    expect(unreferenceFolder(`${K}resources:\n  - updates\nnamespace: x\n`, 'updates', 'k')).toBe(`${K}resources: []\nnamespace: x\n`);
    expect(unreferenceFolder(`${K}bases:\n- updates\n- base\n`, 'updates', 'k')).toBe(`${K}bases:\n- base\n`);
    const untouched = `${K}resources:\n- updates-old\n`;
    expect(unreferenceFolder(untouched, 'updates', 'k')).toBe(untouched);
  });
  it('refuses what it cannot edit safely', () => {
    expect(() => unreferenceFolder(`${K}resources: [\n`, 'updates', 'k')).toThrow(OsvError);
  });
});
