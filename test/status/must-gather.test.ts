/**
 * `status --from-files` on must-gathers of updates osv-gitops did not drive (issue 10, items 7–10)
 * and on malformed dumps (issue 9): the right phase and verdict, a typed error or an unknown
 * reading, never a stack trace and never a pass on something unread.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { exampleDir } from '../../src/cli/inputs.js';
import { runCli } from '../helpers/cli.js';
import { newRepo, sealGitEnv, TEST_DATE } from '../helpers/git-repo.js';
import { mustGather, OLD, OSV_FILE, osvObject, ovnUpTo, plan, readDump, T } from './must-gather.js';

interface Check {
  readonly check: { readonly kind: string };
  readonly state: string;
  readonly detail: string;
}
interface Status {
  readonly target: string | null;
  readonly plan?: string;
  readonly phase: string;
  readonly verdict: string;
  readonly reason: string;
  readonly next?: { action: string };
  readonly progressFrom?: string;
  readonly readAt?: string;
  readonly source?: string;
  readonly gates: { id: string; verdict: string; reason: string; elapsedSeconds?: number | null; checks?: Check[] }[];
  readonly deployments?: { name: string; phase: string; state: string; plannedName?: string }[];
  readonly warnings?: string[];
}

async function status(dir: string, ...more: string[]): Promise<{ exitCode: number; s: Status; stderr: string }> {
  const res = await runCli(['status', '--from-files', dir, '--json', ...more], dir);
  expect(res.stderr, res.stderr).not.toContain('internal error');
  return { exitCode: res.exitCode, s: (res.stdout ? JSON.parse(res.stdout) : {}) as Status, stderr: res.stderr };
}

const gate = (s: Status, id: string) => s.gates.find((g) => g.id === id);

describe('item 7: deployments found by what they do, not by our names', () => {
  it('a failed hand-named OVN deployment stops the chain with a failure naming it', async () => {
    const dir = mustGather({ conditions: ovnUpTo('ovn-dataplane'), deployments: [{ name: 'osv-18-0-4-ovn', services: ['ovn'], state: 'failed' }] });
    const { exitCode, s } = await status(dir, '--exit-code');
    expect(exitCode).toBe(1);
    expect(s.phase).toBe('ovn-dataplane');
    expect(s.verdict).toBe('failed');
    expect(s.next?.action).toBe('stop');
    expect(s.reason).toContain('osv-18-0-4-ovn');
    expect(s.reason).toContain('BackoffLimitExceeded');
    expect(s.deployments).toContainEqual(expect.objectContaining({ name: 'osv-18-0-4-ovn', phase: 'ovn-dataplane', state: 'failed', plannedName: plan.phases[2]!.git.deployments[0]!.name }));
  });

  it('follows a hand-driven update into the data plane: OVN done by hand, update deployment running', async () => {
    const dir = mustGather({
      conditions: ovnUpTo('dataplane'),
      deployments: [
        { name: 'osv-18-0-4-ovn', services: ['ovn'], state: 'deployed' },
        { name: 'osv-18-0-4-update', services: ['update'], state: 'running', created: '2026-11-25T11:00:00Z' },
      ],
    });
    const { s } = await status(dir);
    expect(s.phase).toBe('dataplane');
    expect(s.verdict).toBe('waiting');
    expect(s.reason).toContain('osv-18-0-4-update');
    expect(gate(s, 'ovn-dataplane')?.verdict).toBe('passed');
    expect(gate(s, 'ovn-dataplane')?.reason).not.toContain('later phase');
    expect(gate(s, 'controlplane')?.verdict).toBe('passed');
  });

  it('counts a retry after a failure, per nodeset, and hand-made batches', async () => {
    const dir = mustGather({
      conditions: ovnUpTo('dataplane'),
      deployments: [
        { name: 'ovn-try1', services: ['ovn'], state: 'failed' },
        { name: 'ovn-try2', services: ['ovn'], state: 'deployed', created: '2026-11-25T10:50:00Z' },
        { name: 'update-compute-a', services: ['update-services'], nodeSets: ['compute-a'], state: 'deployed', created: '2026-11-25T11:00:00Z' },
        { name: 'update-compute-b', services: ['update-services'], nodeSets: ['compute-b'], state: 'running', created: '2026-11-25T11:30:00Z' },
      ],
    });
    const { s } = await status(dir);
    expect(gate(s, 'ovn-dataplane')?.verdict).toBe('passed');
    expect(s.phase).toBe('dataplane');
    expect(s.verdict).toBe('waiting');
    expect(s.reason).toContain('update-compute-b');
    expect(s.reason).not.toContain('update-compute-a:');
    expect(s.deployments?.filter((d) => d.phase === 'dataplane').map((d) => d.name)).toEqual(['update-compute-a', 'update-compute-b']);
  });

  it('ignores a failed OVN deployment left over from an earlier update', async () => {
    const dir = mustGather({ conditions: ovnUpTo('ovn-dataplane'), deployments: [{ name: 'osv-18-0-3-ovn', services: ['ovn'], state: 'failed', created: '2026-09-01T10:00:00Z' }] });
    const { s } = await status(dir);
    expect(s.phase).toBe('ovn-dataplane');
    expect(s.verdict).toBe('waiting');
    expect(s.reason).toContain('ready to start');
  });

  it('does not take an update deployment for the OVN step', async () => {
    const dir = mustGather({ conditions: ovnUpTo('ovn-dataplane'), deployments: [{ name: 'osv-18-0-4-update', services: ['update'], state: 'failed' }] });
    const { s } = await status(dir);
    expect(s.phase).toBe('ovn-dataplane');
    expect(s.verdict).toBe('waiting');
  });
});

describe('item 8: without a repository and an agent the cluster is the applied state', () => {
  it('reports the farthest phase the operator shows, with the agent check not applicable', async () => {
    const dir = mustGather({ conditions: { ...ovnUpTo('controlplane'), MinorUpdateRabbitMQ: 'True', MinorUpdateMariaDB: 'False' }, deployments: [{ name: 'osv-18-0-4-ovn', services: ['ovn'], state: 'deployed' }] });
    const { exitCode, s } = await status(dir, '--exit-code');
    expect(exitCode).toBe(3);
    expect(s.progressFrom).toBe('cluster');
    expect(s.phase).toBe('controlplane');
    expect(s.verdict).toBe('waiting');
    expect(s.reason).toContain('MinorUpdateControlplane');
    const agent = gate(s, 'ovn-controlplane')?.checks?.find((c) => c.check.kind === 'agent-applied');
    expect(agent?.state).toBe('not-applicable');
    expect(gate(s, 'ovn-controlplane')?.verdict).toBe('passed');
    expect(s.gates.flatMap((g) => g.checks ?? []).filter((c) => c.check.kind === 'agent-applied' && c.state !== 'not-applicable')).toEqual([]);
  });

  it('never passes a gate on an object the dump does not hold', async () => {
    const dir = mustGather({ withoutOsv: true, deployments: [{ name: plan.phases[2]!.git.deployments[0]!.name, services: ['ovn'], state: 'deployed' }] });
    const { s } = await status(dir, '--example');
    expect(s.verdict).not.toBe('passed');
    expect(s.gates.filter((g) => g.verdict === 'passed').map((g) => g.id)).toEqual([]);
    expect(s.phase).toBe('preflight');
  });

  it('an --agent that the dump does not hold is still not checked', async () => {
    const dir = mustGather({ conditions: ovnUpTo('ovn-dataplane') });
    const { s } = await status(dir, '--agent', 'flux:flux-system/openstack');
    expect(s.phase).toBe('ovn-controlplane');
    expect(s.reason).toMatch(/^not checked: .*Kustomization flux-system\/openstack not found/);
  });
});

describe('item 9: the target recorded in Git wins', () => {
  it('shows the update the phase commits name while the dump still holds the old version', async () => {
    sealGitEnv();
    const repo = newRepo();
    const committed = await runCli(['commit', '--example', '--repo', repo.work, '--phase', '4', '--date', TEST_DATE], repo.work);
    expect(committed.exitCode, committed.stderr).toBe(0);
    // the dump: nothing applied yet, the old version deployed and targeted
    const dir = mustGather({ target: OLD, conditions: {} });
    const { exitCode, s } = await status(dir, '--example', '--repo', repo.work, '--exit-code');
    expect(s.target).toBe(T);
    expect(s.phase).not.toBe('complete');
    expect(s.verdict).toBe('waiting');
    expect(exitCode).toBe(3);
    expect(s.plan).toBe(plan.id);
    expect(s.warnings ?? []).toEqual([]);
    expect(JSON.stringify(s.gates)).toContain(`live spec.targetVersion is ${OLD}`);

    // no plan inputs at all: the plan is rebuilt from the dump, for the target Git names
    const fromDump = await status(dir, '--repo', repo.work, '--exit-code');
    expect(fromDump.s.target).toBe(T);
    expect(fromDump.s.phase).not.toBe('complete');
    expect(fromDump.exitCode).toBe(3);
    expect(JSON.stringify(fromDump.s.gates)).toContain(`live spec.targetVersion is ${OLD}`);

    // inputs changed since the commits were made: the plan id differs from the trailers'
    const other = await status(dir, '--example', '--repo', repo.work, '--dataplane-service', 'update-services');
    expect(other.s.plan).not.toBe(plan.id);
    expect(other.s.warnings?.join('\n')).toContain(`name plan ${plan.id}`);
  });
});

describe('item 10: the same object twice counts once; real conflicts are named', () => {
  it('reads two copies of the dump and the rendered expected/ folder as one cluster', async () => {
    const one = mustGather({ conditions: ovnUpTo('ovn-dataplane'), deployments: [{ name: 'osv-18-0-4-ovn', services: ['ovn'], state: 'running' }] });
    const dir = mkdtempSync(join(tmpdir(), 'osv-mg-twice-'));
    cpSync(one, join(dir, 'must-gather-a'), { recursive: true });
    cpSync(one, join(dir, 'must-gather-b'), { recursive: true });
    cpSync(join(exampleDir(), 'expected'), join(dir, 'expected'), { recursive: true });
    // the same object again, reformatted by another tool (key order differs, same uid and resourceVersion)
    const osv = readDump(one, OSV_FILE)[0]!;
    writeFileSync(join(dir, 'oc-get-osv.json'), JSON.stringify(Object.fromEntries(Object.entries(osv).reverse())));
    const single = await status(one);
    const { exitCode, s, stderr } = await status(dir);
    expect(exitCode, stderr).toBe(0);
    expect(s.phase).toBe('ovn-dataplane');
    expect(s.verdict).toBe('waiting');
    expect({ ...s, warnings: [] }).toEqual({ ...single.s, source: s.source, warnings: [] } as unknown);
    expect(s.warnings?.join('\n')).toMatch(/counted once: OpenStackVersion openstack\/openstack: \d+ copies, \d+ without status ignored/);
  });

  it('refuses two different reads of one object and names both files', async () => {
    const dir = mustGather({ conditions: ovnUpTo('ovn-dataplane') });
    const later = osvObject({ conditions: ovnUpTo('controlplane') }) as { metadata: Record<string, unknown> };
    later.metadata['resourceVersion'] = '4810999';
    writeFileSync(join(dir, 'later-osv.yaml'), stringify(later));
    const { exitCode, stderr } = await status(dir);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('error [INPUT_INVALID]');
    expect(stderr).toContain('OpenStackVersion openstack/openstack');
    expect(stderr).toContain('later-osv.yaml');
    expect(stderr).toContain(OSV_FILE);
    expect(stderr).toContain('resourceVersion 4810999');
  });
});

describe('issue 9: a malformed must-gather gives a typed error or an unknown reading', () => {
  it('a lastTransitionTime that is not a date is unknown, not a crash', async () => {
    const dir = mustGather({
      conditions: ovnUpTo('ovn-dataplane'),
      patchOsv: (o) => (((o['status'] as Record<string, unknown>)['conditions'] as Record<string, unknown>[])[1]!['lastTransitionTime'] = 'not-a-date'),
      deployments: [{ name: 'osv-18-0-4-ovn', services: ['ovn'], state: 'running' }],
    });
    const { exitCode, s } = await status(dir, '--exit-code');
    expect(exitCode).toBe(3);
    expect(s.phase).toBe('ovn-dataplane');
    // the dump's time is its newest valid timestamp (the deployment's Ready condition), not the bad one
    expect(s.readAt).toBe('2026-11-25T10:20:00.000Z');
    expect(gate(s, 'ovn-dataplane')?.elapsedSeconds).toBe(15 * 60);
  });

  it('a creationTimestamp that is not a date gives no elapsed time rather than NaN', async () => {
    const dir = mustGather({ conditions: ovnUpTo('ovn-dataplane'), deployments: [{ name: 'osv-18-0-4-ovn', services: ['ovn'], state: 'running', created: 'yesterday' }] });
    const { exitCode, s } = await status(dir);
    expect(exitCode).toBe(0);
    expect(s.phase).toBe('ovn-dataplane');
    expect(s.gates.filter((g) => g.elapsedSeconds !== undefined && !Number.isFinite(g.elapsedSeconds))).toEqual([]);
  });

  const mutations: [string, (o: Record<string, unknown>) => void, string][] = [
    ['conditions is a string', (o) => ((o['status'] as Record<string, unknown>)['conditions'] = 'oops'), 'ovn-controlplane'],
    ['a condition status is a number', (o) => (((o['status'] as Record<string, unknown>)['conditions'] as Record<string, unknown>[]).forEach((c) => (c['status'] = 1))), 'ovn-controlplane'],
    ['generation is text', (o) => ((o['metadata'] as Record<string, unknown>)['generation'] = 'five'), 'ovn-controlplane'],
    ['status is a list', (o) => (o['status'] = ['x']), 'ovn-controlplane'],
  ];
  for (const [what, patch, stuckAt] of mutations) {
    it(`OpenStackVersion: ${what}`, async () => {
      const dir = mustGather({ conditions: ovnUpTo('controlplane'), patchOsv: patch, deployments: [{ name: 'osv-18-0-4-ovn', services: ['ovn'], state: 'deployed' }] });
      const { exitCode, s, stderr } = await status(dir);
      expect([0, 1, 2]).toContain(exitCode);
      if (exitCode === 0) {
        expect(s.phase, JSON.stringify(s.gates)).toBe(stuckAt);
        expect(s.verdict).not.toBe('passed');
      } else expect(stderr).toMatch(/^error \[[A-Z_]+\]/);
    });
  }

  const deploymentMutations: [string, (o: Record<string, unknown>) => void][] = [
    ['deployed is the text "true"', (o) => ((o['status'] as Record<string, unknown>)['deployed'] = 'true')],
    ['nodeSets is a string', (o) => ((o['spec'] as Record<string, unknown>)['nodeSets'] = 'compute-a')],
    ['servicesOverride is a string', (o) => ((o['spec'] as Record<string, unknown>)['servicesOverride'] = 'ovn')],
    ['spec is missing', (o) => delete o['spec']],
    ['the Ready condition has no type', (o) => ((o['status'] as Record<string, unknown>)['conditions'] = [{ status: 'True' }])],
  ];
  for (const [what, patch] of deploymentMutations) {
    it(`hand-named OVN deployment: ${what} never reads as deployed`, async () => {
      // the operator's side is done: only the deployment decides this gate
      const dir = mustGather({ conditions: ovnUpTo('controlplane'), deployments: [{ name: 'osv-18-0-4-ovn', services: ['ovn'], state: 'deployed', patch }] });
      const { exitCode, s } = await status(dir);
      expect(exitCode).toBe(0);
      expect(s.phase).toBe('ovn-dataplane');
      expect(gate(s, 'ovn-dataplane')?.verdict).not.toBe('passed');
    });
  }

  it('a dump file that is not YAML next to the objects is skipped, a truncated object file too', async () => {
    const dir = mustGather({ conditions: ovnUpTo('ovn-dataplane') });
    writeFileSync(join(dir, 'broken.yaml'), `${readFileSync(join(dir, OSV_FILE), 'utf8').slice(0, 200)}\n  - [unclosed`);
    const { exitCode, s } = await status(dir);
    expect(exitCode).toBe(0);
    expect(s.phase).toBe('ovn-dataplane');
  });
});

describe('the operator holding the update (upstream Gated reason)', () => {
  it('says where the operator holds it, and waits instead of failing', async () => {
    const conditions = { ...ovnUpTo('controlplane'), MinorUpdateRabbitMQ: ['False', 'Gated', 'held by update-target-stage'] as const };
    const dir = mustGather({ conditions, annotations: { 'core.openstack.org/update-target-stage': 'ovn-dataplane' }, deployments: [{ name: 'osv-18-0-4-ovn', services: ['ovn'], state: 'deployed' }] });
    const { s } = await status(dir);
    expect(s.phase).toBe('controlplane');
    expect(s.verdict).toBe('waiting');
    expect(s.reason).toContain('held by the operator: MinorUpdateRabbitMQ=False (Gated): held by update-target-stage');
    expect(s.reason).toContain('core.openstack.org/update-target-stage');
  });
});
