/**
 * One owner per object: `commit` refuses to write a copy of an object the user's repository
 * already declares elsewhere (two Applications or Kustomizations would fight over it), and
 * `--version-file` hands the OpenStackVersion over instead.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findSecondOwners } from '../../src/git/owners.js';
import { projectRoot } from '../../src/validate/project-root.js';
import { runCli } from '../helpers/cli.js';
import { newRepo, sealGitEnv, sh, TEST_DATE } from '../helpers/git-repo.js';

const example = (file: string) => readFileSync(join(projectRoot(), 'fixtures', 'example', file), 'utf8');

/** A repository whose `clusters/prod` already holds `files`, committed. */
function userRepo(files: Record<string, string>) {
  const repo = newRepo({ push: false });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(repo.work, path, '..'), { recursive: true });
    writeFileSync(join(repo.work, path), text);
  }
  sh(repo.work, 'add', '.');
  sh(repo.work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', 'the user\'s cloud');
  return repo;
}

const commit = (work: string, ...extra: string[]) => runCli(['commit', '--example', '--repo', work, '--date', TEST_DATE, '--json', ...extra], work);

describe('one owner per object', () => {
  beforeAll(sealGitEnv);

  it('refuses a copy of an OpenStackVersion the repository already declares, and changes nothing', async () => {
    const repo = userRepo({ 'clusters/prod/openstackversion.yaml': example('openstackversion.yaml') });
    const before = sh(repo.work, 'rev-parse', 'HEAD');
    const r = await commit(repo.work);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('SECOND_OWNER');
    expect(r.stderr).toContain('clusters/prod/openstackversion.yaml');
    expect(r.stderr).toContain('--version-file clusters/prod/openstackversion.yaml');
    expect(sh(repo.work, 'rev-parse', 'HEAD')).toBe(before);
    expect(sh(repo.work, 'status', '--porcelain')).toBe('');
  });

  it('takes the OpenStackVersion over with --version-file (edited in place, one owner)', async () => {
    const repo = userRepo({ 'clusters/prod/openstackversion.yaml': example('openstackversion.yaml') });
    const r = await commit(repo.work, '--version-file', 'clusters/prod/openstackversion.yaml', '--deployments-dir', 'clusters/prod/updates');
    expect(r.stderr).not.toContain('SECOND_OWNER');
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).committed.length).toBe(1);
  });

  it('names the control plane and every nodeset kept elsewhere', async () => {
    const repo = userRepo({ 'base/controlplane.yaml': example('controlplane.yaml'), 'base/README.txt': 'not yaml\n' });
    const files = [{ path: 'openstack-update/cp.yaml', content: example('controlplane.yaml') }];
    const owners = await findSecondOwners(repo.work, 'HEAD', { paths: ['openstack-update'], ownedDirs: ['openstack-update'] }, files);
    expect(owners.map((o) => `${o.kind} ${o.file} ${o.ours}`)).toEqual(['OpenStackControlPlane base/controlplane.yaml openstack-update/cp.yaml']);
    // our own folder (an earlier update's copy) is ours, not a second owner
    expect(await findSecondOwners(repo.work, 'HEAD', { paths: ['base'], ownedDirs: ['base'] }, files)).toEqual([]);
  });

  it('tells apart the same name in another namespace, and leaves undeclared namespaces to kustomize', async () => {
    const other = example('openstackversion.yaml').replace(/namespace: openstack\b/, 'namespace: staging');
    expect(other).not.toBe(example('openstackversion.yaml'));
    const noNamespace = example('openstackversion.yaml').replace(/\n\s+namespace: openstack\b/, '');
    const repo = userRepo({ 'staging/osv.yaml': other, 'bare/osv.yml': noNamespace });
    const owners = await findSecondOwners(repo.work, 'HEAD', { paths: ['openstack-update'], ownedDirs: ['openstack-update'] }, [{ path: 'openstack-update/osv.yaml', content: example('openstackversion.yaml') }]);
    expect(owners.map((o) => o.file)).toEqual(['bare/osv.yml']);
  });

  it('commits again after its own earlier commit (its folder is not a second owner)', async () => {
    const repo = newRepo({ push: false });
    expect((await commit(repo.work)).exitCode).toBe(0);
    const again = await commit(repo.work);
    expect(again.stderr).not.toContain('SECOND_OWNER');
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout).committed.length).toBe(1);
  });
  it('looks only at the folder of its cluster and the bases that folder pulls in', async () => {
    const kustomization = (resources: string[]) => `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `- ${r}\n`).join('')}`;
    const repo = userRepo({
      'clusters/staging/openstackversion.yaml': example('openstackversion.yaml'),
      'clusters/prod/kustomization.yaml': kustomization(['../../base/', 'https://github.com/example/remote//base']),
      'base/controlplane.yaml': example('controlplane.yaml'),
    });
    const layout = { paths: ['clusters/prod/openstack-update'], ownedDirs: ['clusters/prod/openstack-update'] };
    const files = [
      { path: 'clusters/prod/openstack-update/osv.yaml', content: example('openstackversion.yaml') },
      { path: 'clusters/prod/openstack-update/cp.yaml', content: example('controlplane.yaml') },
    ];
    // staging is another cluster; the shared base reaches prod through its kustomization
    expect((await findSecondOwners(repo.work, 'HEAD', layout, files)).map((o) => `${o.kind} ${o.file}`)).toEqual(['OpenStackControlPlane base/controlplane.yaml']);
    // at the top of the repository, every folder may reach the cluster
    const top = { paths: ['openstack-update'], ownedDirs: ['openstack-update'] };
    expect((await findSecondOwners(repo.work, 'HEAD', top, files)).map((o) => o.file)).toEqual(['base/controlplane.yaml', 'clusters/staging/openstackversion.yaml']);
  });
});

describe('one owner per object in directories mode (render into a repository)', () => {
  beforeAll(sealGitEnv);

  const render = (cwd: string, ...extra: string[]) => runCli(['render', '--example', '--engine', 'flux', '--json', ...extra], cwd);

  it('refuses phase folders next to the OpenStackVersion the repository already applies, and writes nothing', async () => {
    const repo = userRepo({ 'clusters/prod/openstackversion.yaml': example('openstackversion.yaml') });
    const r = await render(repo.work, '--out', 'clusters/prod');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('SECOND_OWNER');
    expect(r.stderr).toContain('OpenStackVersion openstack in clusters/prod/openstackversion.yaml');
    expect(r.stderr).toContain('clusters/prod/updates/');
    expect(r.stderr).toContain('commit --version-file clusters/prod/openstackversion.yaml');
    expect(existsSync(join(repo.work, 'clusters', 'prod', 'updates'))).toBe(false);
    expect(sh(repo.work, 'status', '--porcelain')).toBe('');
  });

  it('takes an earlier update of its own, another cluster\'s folder and a repository without commits as no second owner', async () => {
    const repo = userRepo({ 'clusters/staging/openstackversion.yaml': example('openstackversion.yaml') });
    const first = await render(repo.work, '--out', 'clusters/prod');
    expect(first.stderr).not.toContain('SECOND_OWNER');
    expect(first.exitCode).toBe(0);
    sh(repo.work, 'add', '.');
    sh(repo.work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', 'the first update');
    // the committed phase folders of the same (or an earlier) update are ours
    const again = await render(repo.work, '--out', 'clusters/prod');
    expect(again.stderr).not.toContain('SECOND_OWNER');
    expect(again.exitCode).toBe(0);
    // at the top of the repository every folder may reach the cluster: staging's copy counts
    const top = await render(repo.work, '--out', '.');
    expect(top.exitCode).toBe(1);
    expect(top.stderr).toContain('clusters/staging/openstackversion.yaml');
    const empty = join(newRepo({ push: false }).base, 'fresh');
    sh(join(empty, '..'), 'init', '--quiet', 'fresh');
    expect((await render(empty, '--out', '.')).exitCode).toBe(0);
  });

  it('reads past a hostile file of the repository (an alias bomb that names a watched kind) instead of failing', async () => {
    const levels = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...levels.slice(1).map((l, i) => `${l}: &${l} [${Array(10).fill(`*${levels[i]!}`).join(', ')}]`), 'kind: OpenStackVersion', 'metadata: {name: openstack}'].join('\n');
    const repo = userRepo({ 'clusters/prod/bomb.yaml': `${bomb}\n` });
    const r = await render(repo.work, '--out', 'clusters/prod');
    expect(r.stderr).not.toContain('INTERNAL');
    expect(r.exitCode).toBe(0);
  });

  it("refuses phase 0's Subscription when the repository applies the operator's Subscription elsewhere", async () => {
    const subscription = example('subscription.yaml');
    const repo = userRepo({ 'operators/openstack-operator/subscription.yaml': subscription });
    const args = ['render', '--example', '--engine', 'argocd', '--repo-url', 'https://git.example.com/ops/openstack.git', '--subscription', join(projectRoot(), 'fixtures', 'example', 'subscription.yaml'), '--out', '.', '--json'];
    const r = await runCli(args, repo.work);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('SECOND_OWNER');
    expect(r.stderr).toMatch(/Subscription [a-z-]+ in operators\/openstack-operator\/subscription\.yaml/);
    // --version-file hands over an OpenStackVersion, not a Subscription: not offered here
    expect(r.stderr).not.toContain('--version-file');
    expect(existsSync(join(repo.work, 'updates'))).toBe(false);
  });
});
