/** Phase 0 on the rehearsal server: the shared scenarios, and `simulate --bundle-csv` through the CLI. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exampleDir } from '../../src/cli/inputs.js';
import { rehearsalStart, withExampleSubscription } from '../../src/cli/simulate.js';
import { runCli } from '../helpers/cli.js';
import { sealGitEnv } from '../helpers/git-repo.js';
import { SUBSCRIPTION } from '../olm/phase0-fixtures.js';
import { definePhase0Scenarios } from './phase0-scenarios.js';

definePhase0Scenarios('rehearsal server');

describe('simulate from phase 0', () => {
  beforeAll(sealGitEnv);

  it('simulate --subscription --bundle-csv: the InstallPlan bundling another CSV is not approved; exit 3 in phase 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'osv-phase0-cli-'));
    writeFileSync(join(dir, 'subscription.yaml'), SUBSCRIPTION);
    const r = await runCli(['simulate', '--example', '--subscription', join(dir, 'subscription.yaml'), '--bundle-csv', 'metallb-operator.v4.18.0', '--timeout', '60s', '--json'], process.cwd());
    expect(r.exitCode, r.stderr).toBe(3);
    const out = JSON.parse(r.stdout) as { end: string; commits: { phase: string }[]; status: { phase: string; reason: string } };
    expect(out.end).toBe('timeout');
    expect(out.commits.map((c) => c.phase)).toEqual(['operator']);
    expect(out.status.phase).toBe('operator');
    expect(out.status.reason).toMatch(/would also install metallb-operator\.v4\.18\.0/);
  }, 240_000);

  it('simulate --example starts from phase 0 in commits mode, with the example\'s Subscription; in directories mode only where the agent gates phase 0, and never over --subscription', () => {
    const example = withExampleSubscription({ example: true }, 'commits');
    expect(example.subscription).toBe(join(exampleDir(), 'subscription.yaml'));
    const { update } = rehearsalStart(example, { cwd: process.cwd(), stdout: () => {}, stderr: () => {}, color: false });
    expect(update.plan.operatorUpgrade).toMatchObject({ csv: 'openstack-operator.v18.0.4', operatorNamespace: 'openstack-operators' });
    expect(update.plan.phases[0]!.id).toBe('operator');
    expect(withExampleSubscription({ example: true }, 'directories').subscription).toBeUndefined();
    // directories mode only for an agent whose wiring gates phase 0 (Argo CD)
    expect(withExampleSubscription({ example: true }, 'directories', true).subscription).toBe(join(exampleDir(), 'subscription.yaml'));
    expect(withExampleSubscription({ example: true, subscription: 'mine.yaml' }, 'commits').subscription).toBe('mine.yaml');
    expect(withExampleSubscription({ csv: 'csv.yaml' }, 'commits').subscription).toBeUndefined();
  });
});
