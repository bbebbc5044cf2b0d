/** The pinned Subscription committed into a real temporary repository through the landing path. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { commitPinnedSubscription } from '../../src/olm/commit.js';
import { newRepo, sealGitEnv, sh, TEST_DATE } from '../helpers/git-repo.js';

const SUB = `apiVersion: operators.coreos.com/v1alpha1
kind: Subscription
metadata:
  name: openstack-operator
  namespace: openstack-operators
spec:
  # follow the 1.0 line
  channel: stable-v1.0
  name: openstack-operator
  source: redhat-operators
  sourceNamespace: openshift-marketplace
`;
const CSV = 'openstack-operator.v1.0.6';

describe('committing the pinned Subscription', () => {
  beforeAll(sealGitEnv);

  it('edits the user’s file in place, in one commit of that file only, and pushes it', async () => {
    const { work, bare } = newRepo();
    mkdirSync(join(work, 'clusters', 'prod'), { recursive: true });
    writeFileSync(join(work, 'clusters', 'prod', 'operator-sub.yaml'), SUB);
    sh(work, 'add', 'clusters/prod/operator-sub.yaml');
    sh(work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', 'add the subscription');
    // something the user staged must stay out of our commit
    writeFileSync(join(work, 'README.md'), 'edited\n');
    sh(work, 'add', 'README.md');

    const r = await commitPinnedSubscription({ repo: work, cwd: work, subscription: 'clusters/prod/operator-sub.yaml', csv: CSV, date: TEST_DATE, push: { remote: 'origin' } });
    expect(r).toMatchObject({ path: 'clusters/prod/operator-sub.yaml', inPlace: true, branch: 'main', pushed: true });
    expect(r.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(sh(work, 'show', '--name-only', '--format=', 'HEAD').trim()).toBe('clusters/prod/operator-sub.yaml');
    const committed = sh(work, 'show', 'HEAD:clusters/prod/operator-sub.yaml');
    expect(committed).toBe(SUB + `  startingCSV: ${CSV}\n  installPlanApproval: Manual\n`);
    expect(committed).toContain('# follow the 1.0 line');
    expect(readFileSync(join(work, 'clusters', 'prod', 'operator-sub.yaml'), 'utf8')).toBe(committed);
    expect(sh(work, 'log', '-1', '--format=%(trailers:key=Osv-Update-Operator-Csv,valueonly)').trim()).toBe(CSV);
    expect(sh(bare, 'rev-parse', 'main').trim()).toBe(r.sha);
    expect(sh(work, 'status', '--porcelain').trim()).toBe('M  README.md');

    // a second run makes no second commit
    const again = await commitPinnedSubscription({ repo: work, cwd: work, subscription: 'clusters/prod/operator-sub.yaml', csv: CSV, date: TEST_DATE });
    expect(again.sha).toBeUndefined();
    expect(sh(work, 'rev-parse', 'HEAD').trim()).toBe(r.sha);
  });

  it('writes a Subscription from outside the repository to --into, and refuses to overwrite another file there', async () => {
    const { work, base } = newRepo({ push: false });
    const dump = join(base, 'dump.yaml');
    writeFileSync(dump, SUB.replace('metadata:\n', 'metadata:\n  uid: 1234\n') + 'status:\n  state: AtLatestKnown\n');
    const r = await commitPinnedSubscription({ repo: work, cwd: base, subscription: dump, csv: CSV, date: TEST_DATE });
    expect(r).toMatchObject({ path: 'openstack-operator/subscription.yaml', inPlace: false });
    const text = sh(work, 'show', 'HEAD:openstack-operator/subscription.yaml');
    expect(text).toContain(`startingCSV: ${CSV}`);
    expect(text).not.toContain('uid');
    expect(text).not.toContain('status');
    await expect(commitPinnedSubscription({ repo: work, cwd: base, subscription: dump, csv: 'openstack-operator.v1.0.7', into: 'README.md' })).rejects.toThrow(/already exists/);
  });

  it('refuses a file of the work tree that is not committed, and uncommitted edits of the file', async () => {
    const { work } = newRepo({ push: false });
    writeFileSync(join(work, 'sub.yaml'), SUB);
    await expect(commitPinnedSubscription({ repo: work, cwd: work, subscription: 'sub.yaml', csv: CSV })).rejects.toThrow(/not committed/);
    sh(work, 'add', 'sub.yaml');
    sh(work, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '-m', 'sub');
    writeFileSync(join(work, 'sub.yaml'), SUB + '# local edit\n');
    const head = sh(work, 'rev-parse', 'HEAD').trim();
    await expect(commitPinnedSubscription({ repo: work, cwd: work, subscription: 'sub.yaml', csv: CSV })).rejects.toThrow(/uncommitted/);
    expect(sh(work, 'rev-parse', 'HEAD').trim()).toBe(head);
  });
});
