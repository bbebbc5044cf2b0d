/**
 * lib-common style conditions for the simulated controllers: build a list for this reconcile, then
 * carry `lastTransitionTime` over from the stored list wherever the status did not change.
 */
import type { Condition, ConditionStatus, JsonObject, KubeObject, Severity } from './types.js';

export const READY = 'Ready';
export const MSG_READY = 'Setup complete';

/** metav1.Time serialises to whole seconds; the simulator writes the same shape. */
export function kubeTime(now: number): string {
  return new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function isRecord(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Conditions stored in `status.conditions`, skipping entries that are not condition-shaped. */
export function readConditions(status: unknown): Condition[] {
  if (!isRecord(status) || !Array.isArray(status['conditions'])) return [];
  const out: Condition[] = [];
  for (const c of status['conditions'] as unknown[]) {
    if (!isRecord(c) || typeof c['type'] !== 'string') continue;
    const s = c['status'];
    const sev = c['severity'];
    out.push({
      type: c['type'],
      status: s === 'True' || s === 'False' ? s : 'Unknown',
      reason: typeof c['reason'] === 'string' ? c['reason'] : '',
      message: typeof c['message'] === 'string' ? c['message'] : '',
      ...(sev === 'Info' || sev === 'Warning' || sev === 'Error' ? { severity: sev } : {}),
      lastTransitionTime: typeof c['lastTransitionTime'] === 'string' ? c['lastTransitionTime'] : '',
    });
  }
  return out;
}

export function findCondition(list: readonly Condition[], type: string): Condition | undefined {
  return list.find((c) => c.type === type);
}

export function conditionOf(obj: KubeObject | undefined, type: string): Condition | undefined {
  return obj ? findCondition(readConditions(obj.status), type) : undefined;
}

export function isTrue(obj: KubeObject | undefined, type: string): boolean {
  return conditionOf(obj, type)?.status === 'True';
}

/**
 * A mutable condition list for one reconcile. Times are filled in by `finish`, which keeps the
 * stored `lastTransitionTime` when the status is unchanged.
 */
export class ConditionSet {
  private readonly items = new Map<string, Omit<Condition, 'lastTransitionTime'>>();

  constructor(initial: readonly Condition[] = []) {
    for (const c of initial) this.items.set(c.type, withoutTime(c));
  }

  get(type: string): Omit<Condition, 'lastTransitionTime'> | undefined {
    return this.items.get(type);
  }

  has(type: string): boolean {
    return this.items.has(type);
  }

  set(type: string, status: ConditionStatus, reason: string, message: string, severity?: Severity): void {
    this.items.set(type, { type, status, reason, message, ...(status === 'False' && severity ? { severity } : {}) });
  }

  markTrue(type: string, message: string): void {
    this.set(type, 'True', 'Ready', message);
  }

  markFalse(type: string, reason: string, severity: Severity, message: string): void {
    this.set(type, 'False', reason, message, severity);
  }

  markUnknown(type: string, message: string): void {
    this.set(type, 'Unknown', 'Init', message);
  }

  remove(type: string): void {
    this.items.delete(type);
  }

  /**
   * `Ready` mirrors the worst other condition (False/Error, then False/Warning, False/Info, then
   * Unknown); True with `readyMessage` when every other one is True (lib-common `Mirror`).
   */
  mirrorReady(readyMessage = MSG_READY): void {
    const others = [...this.items.values()].filter((c) => c.type !== READY).sort((a, b) => a.type.localeCompare(b.type));
    const rank = (c: Omit<Condition, 'lastTransitionTime'>): number =>
      c.status === 'True' ? 0 : c.status === 'Unknown' ? 1 : c.severity === 'Error' ? 4 : c.severity === 'Warning' ? 3 : 2;
    let worst: Omit<Condition, 'lastTransitionTime'> | undefined;
    for (const c of others) if (rank(c) > 0 && (worst === undefined || rank(c) > rank(worst))) worst = c;
    if (worst === undefined) this.markTrue(READY, readyMessage);
    else this.set(READY, worst.status, worst.reason, worst.message, worst.severity);
  }

  /** The list to store: Ready first, then by type; times kept where the status did not change. */
  finish(previous: readonly Condition[], now: number): Condition[] {
    const stamp = kubeTime(now);
    const sorted = [...this.items.values()].sort((a, b) =>
      a.type === READY ? -1 : b.type === READY ? 1 : a.type.localeCompare(b.type),
    );
    return sorted.map((c) => {
      const before = findCondition(previous, c.type);
      const time = before && before.status === c.status && before.lastTransitionTime !== '' ? before.lastTransitionTime : stamp;
      return { ...c, lastTransitionTime: time };
    });
  }
}

function withoutTime(c: Condition): Omit<Condition, 'lastTransitionTime'> {
  const { lastTransitionTime: _t, ...rest } = c;
  return rest;
}
