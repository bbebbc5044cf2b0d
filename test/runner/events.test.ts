import { describe, expect, it } from 'vitest';
import type { AdvanceResult } from '../../src/advance/advance.js';
import { EVENT_REASONS, eventObject, stepEvents } from '../../src/advance/events.js';
import type { UpdatePlan } from '../../src/plan/types.js';
import type { UpdateStatus } from '../../src/status/update-status.js';

const plan = { versions: { target: '18.0.4' }, namespace: 'openstack', openStackVersion: 'openstack' } as unknown as UpdatePlan;
const status = (phase: string, reason: string, skippedGates: string[] = []) => ({ phase, reason, skippedGates }) as unknown as UpdateStatus;
const osv = { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', metadata: { name: 'openstack', namespace: 'openstack', uid: 'u-1' } };
const now = new Date('2026-11-30T10:00:00.123Z');

describe('progress Events', () => {
  it('advanced: the gate that passed, then the commit; waiting: nothing', () => {
    const r = { outcome: 'advanced', exitCode: 0, pushed: 1, branch: 'main', committed: { phase: 'ovn-dataplane', sha: 'a'.repeat(40) }, decidedBy: status('ovn-controlplane', 'passed'), status: status('ovn-dataplane', 'waiting for edpm-ovn') } as AdvanceResult;
    const specs = stepEvents(r, plan);
    expect(specs.map((s) => [s.reason, s.type])).toEqual([
      [EVENT_REASONS.gatePassed, 'Normal'],
      [EVENT_REASONS.phaseCommitted, 'Normal'],
    ]);
    expect(specs[1]!.message).toBe('update to 18.0.4: phase ovn-dataplane committed as aaaaaaaaaaaa and pushed to main; next: waiting for edpm-ovn');
    expect(stepEvents({ ...r, outcome: 'waiting', exitCode: 3 }, plan)).toEqual([]);
    const skipped = stepEvents({ ...r, decidedBy: status('ovn-controlplane', 'x', ['ovn-controlplane']) }, plan);
    expect(skipped[0]).toMatchObject({ reason: EVENT_REASONS.gateSkipped, type: 'Warning' });
  });

  it('failed is a Warning; done is reported once per target (same name every time)', () => {
    const failed = stepEvents({ outcome: 'failed', exitCode: 1, pushed: 0, branch: 'main', status: status('dataplane', 'edpm-update failed') }, plan);
    expect(failed).toMatchObject([{ reason: EVENT_REASONS.gateFailed, type: 'Warning' }]);
    const done = (reason: string) => eventObject(stepEvents({ outcome: 'done', exitCode: 0, pushed: 0, branch: 'main', status: status('complete', reason) }, plan)[0]!, osv, now);
    const a = done('deployedVersion 18.0.4');
    const b = done('deployedVersion 18.0.4, read later');
    expect((a['metadata'] as { name: string }).name).toBe((b['metadata'] as { name: string }).name);
    expect((a['metadata'] as { name: string }).name).toMatch(/^openstack\.[0-9a-f]{16}$/);
  });

  it('the Event names the OpenStackVersion by uid, as oc describe finds it', () => {
    const e = eventObject({ reason: 'OsvGitopsUpdateComplete', type: 'Normal', message: 'x'.repeat(2000), key: ['18.0.4'] }, osv, now, 'runner-pod');
    expect(e).toMatchObject({
      involvedObject: { apiVersion: 'core.openstack.org/v1beta1', kind: 'OpenStackVersion', name: 'openstack', namespace: 'openstack', uid: 'u-1' },
      source: { component: 'osv-gitops', host: 'runner-pod' },
      firstTimestamp: '2026-11-30T10:00:00Z',
      count: 1,
    });
    expect(String(e['message']).length).toBe(1024);
  });
});
