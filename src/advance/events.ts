/**
 * Progress as Kubernetes Events on the OpenStackVersion, so `oc describe openstackversion` shows
 * what osv-gitops did: a gate passed, a phase committed, a gate failed, the update complete.
 *
 * Best effort by design: an Event that cannot be written is logged, never fatal; the state lives
 * in Git and the cluster, not in Events. Each Event's name is derived from what it reports (target,
 * reason, phase, commit), so a step reported twice (a CronJob tick after the update is done, the
 * same failed gate seen again) is written once: the second create answers 409 and is skipped.
 * Waiting is not an Event: a tick every few minutes would bury the useful ones.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import * as k8s from '@kubernetes/client-node';
import { apiError, timeoutOptions, type KubeReader } from '../cluster/kube.js';
import { OPENSTACK_VERSION, apiVersionOf } from '../cluster/resources.js';
import type { UpdatePlan } from '../plan/types.js';
import type { RenderInputs } from '../render/render.js';
import type { ClusterSnapshot, KubeObject } from '../status/snapshot.js';
import { at, str } from '../status/snapshot.js';
import { advanceOnce, type AdvanceOptions, type AdvanceResult } from './advance.js';

export const EVENT_REASONS = {
  gatePassed: 'OsvGitopsGatePassed',
  gateSkipped: 'OsvGitopsGateSkipped',
  phaseCommitted: 'OsvGitopsPhaseCommitted',
  gateFailed: 'OsvGitopsGateFailed',
  complete: 'OsvGitopsUpdateComplete',
} as const;

const COMPONENT = 'osv-gitops';
const MESSAGE_MAX = 1024;

interface EventSpec {
  readonly reason: string;
  readonly type: 'Normal' | 'Warning';
  readonly message: string;
  /** What makes this Event the same as an earlier one. */
  readonly key: readonly string[];
}

/** The Events one step reports (none while waiting). */
export function stepEvents(r: AdvanceResult, plan: UpdatePlan): EventSpec[] {
  const target = plan.versions.target;
  switch (r.outcome) {
    case 'advanced': {
      const gate = r.decidedBy?.phase;
      const skipped = gate !== undefined && (r.decidedBy?.skippedGates ?? []).includes(gate);
      const sha = r.committed?.sha ?? '';
      const out: EventSpec[] = [];
      if (gate !== undefined) {
        out.push({
          reason: skipped ? EVENT_REASONS.gateSkipped : EVENT_REASONS.gatePassed,
          type: skipped ? 'Warning' : 'Normal',
          message: skipped ? `update to ${target}: the gate of ${gate} was skipped by hand (--skip-gate)` : `update to ${target}: the gate of ${gate} passed`,
          key: [target, gate],
        });
      }
      if (r.committed) {
        out.push({
          reason: EVENT_REASONS.phaseCommitted,
          type: 'Normal',
          message: `update to ${target}: phase ${r.committed.phase} committed as ${sha.slice(0, 12)}${r.pushed ? ` and pushed to ${r.branch}` : ' (not pushed)'}; next: ${r.status.reason}`,
          key: [target, r.committed.phase, sha],
        });
      }
      return out;
    }
    case 'failed':
      return [{ reason: EVENT_REASONS.gateFailed, type: 'Warning', message: `update to ${target}: the gate of ${r.status.phase} failed: ${r.status.reason}`, key: [target, r.status.phase] }];
    case 'done':
      return [{ reason: EVENT_REASONS.complete, type: 'Normal', message: `update to ${target} complete: ${r.status.reason}`, key: [target] }];
    case 'waiting':
      return [];
  }
}

/** A core/v1 Event about the OpenStackVersion `osv` (its uid makes `oc describe` find it). */
export function eventObject(spec: EventSpec, osv: KubeObject, now: Date, instance = hostname()): Record<string, unknown> {
  const name = str(at(osv, 'metadata.name')) ?? '';
  const namespace = str(at(osv, 'metadata.namespace')) ?? '';
  const hash = createHash('sha256').update([spec.reason, ...spec.key].join('\n')).digest('hex').slice(0, 16);
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const message = spec.message.length > MESSAGE_MAX ? `${spec.message.slice(0, MESSAGE_MAX - 1)}…` : spec.message;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    // 253 at most: the object name is at most 253 - 18 when it is a subdomain of that length
    metadata: { name: `${name.slice(0, 253 - 17)}.${hash}`, namespace },
    involvedObject: {
      apiVersion: apiVersionOf(OPENSTACK_VERSION),
      kind: OPENSTACK_VERSION.kind,
      name,
      namespace,
      ...(str(at(osv, 'metadata.uid')) ? { uid: str(at(osv, 'metadata.uid')) } : {}),
    },
    reason: spec.reason,
    message,
    type: spec.type,
    source: { component: COMPONENT, ...(instance ? { host: instance.slice(0, 128) } : {}) },
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}

/**
 * `advanceOnce`, then its Events on the OpenStackVersion the step read. Without a cluster client
 * (a dump, a test) it is `advanceOnce` alone.
 */
export async function advanceWithEvents(inputs: RenderInputs, opts: AdvanceOptions, reader: KubeReader | undefined, now: () => Date = () => new Date()): Promise<AdvanceResult> {
  if (!reader) return advanceOnce(inputs, opts);
  let last: ClusterSnapshot | undefined;
  const r = await advanceOnce(inputs, {
    ...opts,
    readSnapshot: async () => (last = await opts.readSnapshot()),
  });
  await recordStepEvents(r, inputs.plan, last, reader, opts.log ?? (() => {}), now());
  return r;
}

/** Write the step's Events; every failure is logged and swallowed. */
export async function recordStepEvents(r: AdvanceResult, plan: UpdatePlan, snapshot: ClusterSnapshot | undefined, reader: KubeReader, log: (l: string) => void, now: Date): Promise<void> {
  const specs = stepEvents(r, plan);
  if (!specs.length) return;
  const osv = snapshot?.openStackVersions.find((o) => str(at(o, 'metadata.name')) === plan.openStackVersion);
  if (!osv) return;
  const api = reader.kc.makeApiClient(k8s.CoreV1Api);
  for (const spec of specs) {
    const plain = eventObject(spec, osv, now);
    // client-node's model writes times from Date objects
    const body = { ...plain, firstTimestamp: now, lastTimestamp: now } as unknown as k8s.CoreV1Event;
    try {
      await api.createNamespacedEvent({ namespace: plan.namespace, body }, timeoutOptions(10_000));
    } catch (e) {
      const status = e instanceof k8s.ApiException ? e.code : undefined;
      if (status === 409) continue; // reported by an earlier run
      if (status === 404) return; // no Events served (not a real cluster): nothing to say
      log(`could not record the Event ${spec.reason} on OpenStackVersion ${plan.openStackVersion} (the step itself is done): ${apiError(e).message}`);
    }
  }
}
