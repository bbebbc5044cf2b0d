/**
 * Reading an Argo CD Application back, on the statuses real Argo CD v3.2.11 wrote in
 * test/e2e-real/argocd-scenarios.test.ts (field for field, times shortened).
 */
import { describe, expect, it } from 'vitest';
import { agentRevision, agentWarnings } from '../../src/status/agent.js';
import type { AgentView } from '../../src/status/snapshot.js';

const OLD = 'a'.repeat(40);
const NEW = 'b'.repeat(40);
const view = (status: Record<string, unknown>, extra: Record<string, unknown> = {}): AgentView => ({
  engine: 'argocd',
  namespace: 'argocd',
  name: 'openstack',
  object: { metadata: { name: 'openstack', namespace: 'argocd' }, ...extra, status },
});
const synced = (rev: string) => ({ phase: 'Succeeded', message: 'successfully synced (all tasks run)', startedAt: '2026-11-30T10:00:00Z', finishedAt: '2026-11-30T10:00:05Z', operation: { sync: { revision: rev } }, syncResult: { revision: rev } });

describe('Argo CD Application: which revision is applied', () => {
  it('automated sync off: compared with our commit (OutOfSync) is not applied; the last sync is', () => {
    const r = agentRevision(view({ sync: { status: 'OutOfSync', revision: NEW }, reconciledAt: '2026-11-30T10:01:00Z', operationState: synced(OLD) }))!;
    expect(r.sha).toBe(OLD);
    expect(r.notYet).toBeUndefined();
  });

  it('Synced at the compared revision: applied', () => {
    expect(agentRevision(view({ sync: { status: 'Synced', revision: NEW }, reconciledAt: '2026-11-30T10:01:00Z', operationState: synced(NEW) }))!.sha).toBe(NEW);
  });

  it('OutOfSync and never synced: not yet, saying so', () => {
    const r = agentRevision(view({ sync: { status: 'OutOfSync', revision: NEW }, reconciledAt: '2026-11-30T10:01:00Z', operationState: { ...synced(NEW), phase: 'Failed', syncResult: undefined } }))!;
    expect(r.sha).toBeUndefined();
    expect(r.notYet).toMatch(/^OutOfSync at bbbbbbbbbbbb, nothing synced yet$/);
  });

  it('a failed sync Argo CD will retry: waiting, with the cause', () => {
    const cause = 'one or more objects failed to apply, reason: denied request: frozen';
    const retrying = { ...synced(NEW), phase: 'Running', retryCount: 1, message: `${cause}. Retrying attempt #1 at 10:00AM.` };
    const r = agentRevision(view({ sync: { status: 'OutOfSync', revision: NEW }, operationState: retrying }, { operation: { sync: { revision: NEW }, retry: { limit: 2 } } }))!;
    expect(r.sha).toBeUndefined();
    expect(r.failure).toBeUndefined();
    expect(r.notYet).toBe(`sync of bbbbbbbbbbbb failed, Argo CD retries: ${cause}. Retrying attempt #1 at 10:00AM.`);
  });

  it('retries spent: failed, with the cause', () => {
    const r = agentRevision(view({ sync: { status: 'OutOfSync', revision: NEW }, operationState: { ...synced(NEW), phase: 'Failed', message: 'denied (retried 2 times).' } }))!;
    expect(r.failure).toBe('sync Failed: denied (retried 2 times).');
  });

  it('SharedResourceWarning is a warning, not a verdict', () => {
    const msg = 'OpenStackVersion/openstack is part of applications argocd/openstack and user-openstack';
    const agent = view({ sync: { status: 'Synced', revision: NEW }, reconciledAt: '2026-11-30T10:01:00Z', operationState: synced(NEW), conditions: [{ type: 'SharedResourceWarning', message: msg }] });
    expect(agentRevision(agent)!.sha).toBe(NEW);
    expect(agentWarnings(agent)).toEqual([expect.stringContaining(`Application argocd/openstack SharedResourceWarning: ${msg}`)]);
    expect(agentWarnings(view({}))).toEqual([]);
  });
});
