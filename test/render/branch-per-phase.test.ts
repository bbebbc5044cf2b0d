/** `commit --branch-per-phase` against real temporary repositories and a bare remote over file://. */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { newRepo as newTestRepo, sh } from '../helpers/git-repo.js';

const DATE = '2026-11-25T08:00:00Z';
const V = '18.0.4-1764633600';
const B = (phase: string) => `osv-update/${V}/${phase}`;

const newRepo = () => newTestRepo({ push: false });

interface BppJson {
  base: string;
  committed: { phase: string; branch: string; sha: string }[];
  alreadyCommitted: string[];
  branches: { phase: string; branch: string; prBase: string; sha: string; title: string; body: string; file?: string }[];
  pushed: string[];
  warnings: string[];
}

async function bpp(work: string, ...extra: string[]): Promise<BppJson> {
  const res = await runCli(['commit', '--example', '--repo', work, '--branch-per-phase', '--date', DATE, '--json', ...extra], work);
  expect(res.exitCode, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as BppJson;
}

describe('commit --branch-per-phase', () => {
  beforeAll(() => {
    process.env['GIT_CONFIG_GLOBAL'] = '/dev/null';
    process.env['GIT_CONFIG_NOSYSTEM'] = '1';
    process.env['GIT_AUTHOR_NAME'] = process.env['GIT_COMMITTER_NAME'] = 'osv-gitops test';
    process.env['GIT_AUTHOR_EMAIL'] = process.env['GIT_COMMITTER_EMAIL'] = 'test@osv-gitops.invalid';
    process.env['GIT_COMMITTER_DATE'] = DATE;
  });

  it('stacks one branch per phase, leaves the checkout alone, and makes the very commits of commits mode', async () => {
    const { work, base } = newRepo();
    const mainTip = sh(work, 'rev-parse', 'main').trim();
    const prDir = join(base, 'prs');
    const out = await bpp(work, '--all', '--pr-dir', prDir);
    expect(out.committed.map((c) => c.branch)).toEqual([B('ovn-controlplane'), B('ovn-dataplane'), B('dataplane')]);
    // each branch is one commit on the previous one
    expect(sh(work, 'rev-parse', `${B('ovn-controlplane')}^`).trim()).toBe(mainTip);
    expect(sh(work, 'rev-parse', `${B('ovn-dataplane')}^`).trim()).toBe(out.committed[0]!.sha);
    expect(sh(work, 'rev-parse', `${B('dataplane')}^`).trim()).toBe(out.committed[1]!.sha);
    expect(sh(work, 'log', '-1', '--format=%(trailers:key=Osv-Update-Phase,valueonly)', B('ovn-dataplane')).trim()).toBe('2 ovn-dataplane');
    // the user's checkout is untouched
    expect(sh(work, 'symbolic-ref', '--short', 'HEAD').trim()).toBe('main');
    expect(sh(work, 'rev-parse', 'HEAD').trim()).toBe(mainTip);
    expect(sh(work, 'status', '--porcelain')).toBe('');
    // commits mode on a twin repository gives the same commits, byte for byte
    const twin = newRepo();
    const res = await runCli(['commit', '--example', '--repo', twin.work, '--all', '--date', DATE], twin.work);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(sh(twin.work, 'log', '--format=%H', '-3').trim().split('\n').reverse()).toEqual(out.committed.map((c) => c.sha));

    // pull requests: stacked, each description says what merges when
    expect(out.branches.map((b) => [b.branch, b.prBase])).toEqual([
      [B('ovn-controlplane'), 'main'],
      [B('ovn-dataplane'), B('ovn-controlplane')],
      [B('dataplane'), B('ovn-dataplane')],
    ]);
    expect(readdirSync(join(prDir, V)).sort()).toEqual(['01-ovn-controlplane.md', '02-ovn-dataplane.md', '04-dataplane.md']);
    const pr2 = readFileSync(join(prDir, V, '02-ovn-dataplane.md'), 'utf8');
    expect(pr2.split('\n')[0]).toBe(`osv-gitops: phase 2 of 5 ovn-dataplane (18.0.3-1761036417 -> ${V})`);
    expect(pr2).toBe(`${out.branches[1]!.title}\n\n${out.branches[1]!.body}`);
    expect(pr2).toContain(`Branch \`${B('ovn-dataplane')}\`, opened against \`${B('ovn-controlplane')}\``);
    expect(pr2).toMatch(/## Images rolling out in this phase \(\d+\)\n- /);
    expect(pr2).toContain('osv-gitops waits for: ');
    expect(pr2).toMatch(/in phases that change nothing in Git \(their gates hold the next pull request too\):\n- phase 3 of 5 controlplane: MinorUpdateControlplane=True \(75 images roll out\)\n/);
    expect(pr2).toContain(`2. \`${B('ovn-dataplane')}\`, phase 2 of 5 (this pull request)`);
    expect(pr2).toContain(`\`${B('dataplane')}\` is built on this branch: merge this pull request first`);
    const pr3 = readFileSync(join(prDir, V, '04-dataplane.md'), 'utf8');
    expect(pr3).toContain('This is the last phase that changes Git');
    expect(pr3).not.toContain('{{');
    // the descriptions went where asked, nowhere into the repository
    expect(existsSync(join(work, '.osv-gitops'))).toBe(false);
  });

  it('is idempotent, goes one phase at a time by default, and builds on the base once a phase is merged', async () => {
    const { work } = newRepo();
    const first = await bpp(work);
    expect(first.committed.map((c) => c.phase)).toEqual(['ovn-controlplane']);
    const again = await bpp(work, '--phase', '1');
    expect(again.committed).toEqual([]);
    expect(again.alreadyCommitted).toEqual(['ovn-controlplane']);
    expect(again.branches.map((b) => b.branch)).toEqual([B('ovn-controlplane')]);
    const refs = sh(work, 'for-each-ref', '--format=%(refname) %(objectname)');

    // the team merges the first pull request (fast-forward) and deletes its branch
    sh(work, 'merge', '--quiet', '--ff-only', B('ovn-controlplane'));
    sh(work, 'branch', '-D', B('ovn-controlplane'));
    const second = await bpp(work);
    expect(second.committed.map((c) => c.phase)).toEqual(['ovn-dataplane']);
    expect(second.alreadyCommitted).toEqual(['ovn-controlplane']);
    expect(sh(work, 'rev-parse', `${B('ovn-dataplane')}^`).trim()).toBe(sh(work, 'rev-parse', 'main').trim());
    expect(second.branches.map((b) => [b.branch, b.prBase])).toEqual([[B('ovn-dataplane'), 'main']]);
    expect(second.branches[0]!.body).toContain(`1. \`${B('ovn-controlplane')}\`, phase 1 of 5 (merged into \`main\`)`);
    expect(refs).toContain(B('ovn-controlplane'));

    const rest = await bpp(work, '--all');
    expect(rest.committed.map((c) => c.phase)).toEqual(['dataplane']);
    const none = await bpp(work, '--all');
    expect(none.committed).toEqual([]);
    expect(sh(work, 'for-each-ref', '--format=%(refname)', 'refs/heads/osv-update').trim().split('\n')).toEqual([
      `refs/heads/${B('dataplane')}`,
      `refs/heads/${B('ovn-dataplane')}`,
    ]);
  });

  it('pushes every branch to a bare remote, and gives the same commits on every run', async () => {
    const a = newRepo();
    const b = newRepo();
    const outA = await bpp(a.work, '--all', '--push');
    const outB = await bpp(b.work, '--all');
    expect(outA.pushed).toEqual(outA.branches.map((x) => x.branch));
    expect(outA.committed.map((c) => c.sha)).toEqual(outB.committed.map((c) => c.sha));
    for (const c of outA.committed) expect(sh(a.bare, 'rev-parse', `refs/heads/${c.branch}`).trim()).toBe(c.sha);
  });

  it('edits a --version-file on the phase branches too', async () => {
    const { work } = newRepo();
    mkdirSync(join(work, 'prod'));
    const osv = 'apiVersion: core.openstack.org/v1beta1\nkind: OpenStackVersion\nmetadata:\n  name: openstack # ours\nspec:\n  targetVersion: 18.0.3-1761036417\n';
    writeFileSync(join(work, 'prod', 'osv.yaml'), osv);
    sh(work, 'add', '.');
    sh(work, 'commit', '--quiet', '-m', 'osv', '--date', DATE);
    const out = await bpp(work, '--all', '--version-file', 'prod/osv.yaml', '--deployments-dir', 'prod/deployments');
    expect(out.committed).toHaveLength(3);
    expect(sh(work, 'show', `${B('ovn-controlplane')}:prod/osv.yaml`)).toBe(osv.replace('18.0.3-1761036417', `"${V}"`));
    expect(sh(work, 'ls-tree', '-r', '--name-only', B('dataplane')).trim().split('\n')).toEqual([
      'README.md',
      'prod/deployments/kustomization.yaml',
      'prod/deployments/openstackdataplanedeployment-edpm-ovn-18-0-4-1764633600.yaml',
      'prod/deployments/openstackdataplanedeployment-edpm-update-18-0-4-1764633600.yaml',
      'prod/osv.yaml',
    ]);
    expect(readFileSync(join(work, 'prod', 'osv.yaml'), 'utf8')).toBe(osv);
    // prod/ has no kustomization to list prod/deployments in: said, not guessed at
    expect(out.warnings).toEqual([expect.stringContaining('prod has no kustomization.yaml, so nothing references prod/deployments')]);
  });

  it('prints where the descriptions are, and refuses --pr-dir without --branch-per-phase', async () => {
    const { work } = newRepo();
    const text = await runCli(['commit', '--example', '--repo', work, '--branch-per-phase', '--date', DATE], work);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain(`committed ovn-controlplane on ${B('ovn-controlplane')} `);
    expect(text.stdout).toContain(`  ${B('ovn-controlplane')} -> main\n`);
    expect(text.stdout).toContain('--pr-dir DIR');
    const bad = await runCli(['commit', '--example', '--repo', work, '--pr-dir', 'x'], work);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('USAGE');
  });
});
