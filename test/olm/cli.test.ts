/** `osv-gitops operator-upgrade`: modes, help, and the commit mode end to end in a real repository. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { newRepo, sealGitEnv, sh, TEST_DATE } from '../helpers/git-repo.js';
import { runOperatorUpgrade } from './run-operator-upgrade.js';

const SUB = `apiVersion: operators.coreos.com/v1alpha1
kind: Subscription
metadata:
  name: openstack-operator
  namespace: openstack-operators
spec:
  name: openstack-operator
  source: redhat-operators
  sourceNamespace: openshift-marketplace
`;

describe('osv-gitops operator-upgrade', () => {
  beforeAll(sealGitEnv);

  it('--help teaches the three steps', async () => {
    const r = await runOperatorUpgrade(['--help'], '/');
    expect(r.exitCode).toBe(0);
    for (const s of ['--subscription', '--check', '--approve', '--also-csv', 'installPlanApproval: Manual', 'availableVersion']) expect(r.stdout).toContain(s);
  });

  it('wants exactly one mode and a valid --csv', async () => {
    expect((await runOperatorUpgrade(['--csv', 'openstack-operator.v1.0.6'], '/')).error).toBe('USAGE');
    expect((await runOperatorUpgrade(['--csv', 'openstack-operator.v1.0.6', '--check', '--approve'], '/')).error).toBe('USAGE');
    const bad = await runOperatorUpgrade(['--csv', 'Not A Name', '--check'], '/');
    expect(bad).toMatchObject({ exitCode: 2, error: 'NAME_INVALID' });
  });

  it('commits the pinned Subscription (--channel for a Subscription without one), --json for scripts', async () => {
    const { work } = newRepo({ push: false });
    mkdirSync(join(work, 'operators'));
    writeFileSync(join(work, 'operators', 'sub.yaml'), SUB);
    sh(work, 'add', 'operators/sub.yaml');
    sh(work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', 'sub');
    const noChannel = await runOperatorUpgrade(['--subscription', 'operators/sub.yaml', '--csv', 'openstack-operator.v1.0.6', '--repo', '.'], work);
    expect(noChannel).toMatchObject({ exitCode: 2, error: 'USAGE' });
    const r = await runOperatorUpgrade(['--subscription', 'operators/sub.yaml', '--csv', 'openstack-operator.v1.0.6', '--channel', 'stable-v1.0', '--repo', '.', '--date', TEST_DATE, '--json'], work);
    expect(r.exitCode, r.stderr).toBe(0);
    // it was Automatic (unset): OLM may still act on its own until the agent applies the commit
    expect(r.stderr).toContain('installPlanApproval unset (Automatic)');
    const out = JSON.parse(r.stdout) as { committed: string; inPlace: boolean; path: string };
    expect(out).toMatchObject({ inPlace: true, path: 'operators/sub.yaml' });
    expect(sh(work, 'rev-parse', 'HEAD').trim()).toBe(out.committed);
    expect(sh(work, 'show', 'HEAD:operators/sub.yaml')).toBe(SUB + '  channel: stable-v1.0\n  startingCSV: openstack-operator.v1.0.6\n  installPlanApproval: Manual\n');
  });
});
