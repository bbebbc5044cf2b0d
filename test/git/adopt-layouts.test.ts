/**
 * Adoption end to end, on three repository layouts users really have: a kustomize base with
 * overlays per environment, a flat folder per cluster, and a Flux `clusters/<name>/` tree whose
 * Kustomization builds `apps/openstack/<name>` (given as `--app-path clusters/<name>`, followed through
 * that Kustomization). For each: `commit --app-path` phase by phase, and
 * after every phase the real `kustomize build` of the agent's path must be the phase's desired
 * state (the user's objects unchanged but the OpenStackVersion's target and custom images, plus
 * the deployments of the phases so far), with no object owned twice in any cluster.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findSecondOwners } from '../../src/git/owners.js';
import { runCli } from '../helpers/cli.js';
import { sealGitEnv, sh } from '../helpers/git-repo.js';
import { build, changedFiles, cleanupArgs, commitArgs, expectOneOwnerPerCluster, expectPhaseState, FIRST, LAYOUTS, NEXT, planOf, userRepo } from '../helpers/layouts.js';

describe.each(LAYOUTS)('adopting $name', (layout) => {
  beforeAll(sealGitEnv);

  it('commits every phase into the user\'s own files (kustomize build of the app = each phase\'s desired state), retires the update, and runs the next one', async () => {
    const repo = userRepo(layout.files);
    const appFlag = layout.appFlag ?? layout.appPath;
    const plan = planOf(FIRST);
    const start = sh(repo.work, 'rev-parse', 'HEAD').trim();
    const before = await build(repo.work, layout.appPath);
    const otherApps = Object.values(layout.clusters).flat().filter((p) => p !== layout.appPath);
    const othersBefore = await Promise.all(otherApps.map((p) => build(repo.work, p)));
    const gitPhases = plan.phases.filter((p) => p.git.changes);
    expect(gitPhases.length).toBeGreaterThanOrEqual(2);

    for (const phase of gitPhases) {
      const r = await runCli(commitArgs(FIRST, repo.work, '--app-path', appFlag), repo.work);
      expect(r.stderr).not.toMatch(/warning/);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).committed.map((c: { phase: string }) => c.phase)).toEqual([phase.id]);
      expectPhaseState(await build(repo.work, layout.appPath), before, plan, phase.index);
      // the other clusters build exactly what they built before
      for (const [i, p] of otherApps.entries()) expect(Object.fromEntries(await build(repo.work, p))).toEqual(Object.fromEntries(othersBefore[i]!));
      await expectOneOwnerPerCluster(repo.work, layout);
      const deploymentsDir = `${layout.appPath}/openstack-updates`;
      const files = sh(repo.work, 'ls-tree', '-r', '--name-only', 'HEAD', '--', deploymentsDir).trim().split('\n').filter(Boolean).map((path) => ({ path, content: sh(repo.work, 'show', `HEAD:${path}`) }));
      expect(await findSecondOwners(repo.work, 'HEAD', { paths: [layout.versionFile, deploymentsDir], ownedDirs: [deploymentsDir] }, files)).toEqual([]);
    }
    // only the version file, the app's kustomization and our folder changed; the user's comments stayed
    expect(changedFiles(repo.work, start).filter((f) => !f.startsWith(`${layout.appPath}/openstack-updates/`))).toEqual([`${layout.appPath}/kustomization.yaml`, layout.versionFile].sort());
    const version = readFileSync(join(repo.work, layout.versionFile), 'utf8');
    expect(version).toContain('# bumped by osv-gitops; reviewed in pull requests');
    expect(version).toContain(`targetVersion: "${plan.versions.target}"   # the version running now`);
    const k = readFileSync(join(repo.work, layout.appPath, 'kustomization.yaml'), 'utf8');
    for (const comment of layout.files[`${layout.appPath}/kustomization.yaml`]!.match(/#.*$/gm) ?? []) expect(k).toContain(comment);
    expect(k.match(/openstack-updates/g)).toHaveLength(1);
    // running again commits nothing
    const again = await runCli(commitArgs(FIRST, repo.work, '--app-path', appFlag, '--all'), repo.work);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).committed).toEqual([]);

    // retire it: the app builds the user's objects at the new version, nothing of the update is left
    const finished = sh(repo.work, 'rev-parse', 'HEAD').trim();
    const retired = await runCli(cleanupArgs(FIRST, repo.work, '--app-path', appFlag), repo.work);
    expect(retired.exitCode, retired.stderr).toBe(0);
    expect(sh(repo.work, 'log', '-1', '--format=%(trailers:key=Osv-Update-Retired,valueonly)').trim()).toBe(plan.versions.target);
    expectPhaseState(await build(repo.work, layout.appPath), before, plan, 'retired');
    expect(sh(repo.work, 'show', `HEAD:${layout.appPath}/kustomization.yaml`)).toBe(layout.files[`${layout.appPath}/kustomization.yaml`]);
    expect(sh(repo.work, 'ls-tree', 'HEAD', '--', `${layout.appPath}/openstack-updates`).trim()).toBe('');
    expect(changedFiles(repo.work, finished).every((f) => f === `${layout.appPath}/kustomization.yaml` || f.startsWith(`${layout.appPath}/openstack-updates/`))).toBe(true);
    expect(sh(repo.work, 'status', '--porcelain').trim()).toBe('');
    await expectOneOwnerPerCluster(repo.work, layout);
    const retiredAt = sh(repo.work, 'rev-parse', 'HEAD').trim();
    const twice = await runCli(cleanupArgs(FIRST, repo.work, '--app-path', appFlag), repo.work);
    expect(twice.exitCode, twice.stderr).toBe(0);
    expect(JSON.parse(twice.stdout).sha).toBeUndefined();
    expect(sh(repo.work, 'rev-parse', 'HEAD').trim()).toBe(retiredAt);

    // the next update, to another version with custom images, plans and commits cleanly in the same layout
    const next = planOf(NEXT);
    expect(next.versions.target).not.toBe(plan.versions.target);
    const between = await build(repo.work, layout.appPath);
    const nextPhases = next.phases.filter((p) => p.git.changes);
    expect(nextPhases.length).toBe(3);
    for (const phase of nextPhases) {
      const r = await runCli(commitArgs(NEXT, repo.work, '--app-path', appFlag), repo.work);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).committed.map((c: { phase: string }) => c.phase)).toEqual([phase.id]);
      expectPhaseState(await build(repo.work, layout.appPath), between, next, phase.index);
      await expectOneOwnerPerCluster(repo.work, layout);
    }
    expect((await runCli(cleanupArgs(NEXT, repo.work, '--app-path', appFlag), repo.work)).exitCode).toBe(0);
    expectPhaseState(await build(repo.work, layout.appPath), between, next, 'retired');
  }, 240_000);
});
