/**
 * Simulated durations: a step starts the first time a reconcile needs it and is done once its
 * duration has elapsed. Pure: the running step goes in and comes out.
 */
import type { RunningStep } from './types.js';

export interface StepOutcome {
  readonly done: boolean;
  /** The step still running after this reconcile (undefined once done). */
  readonly running: RunningStep | undefined;
  /** When a still-running step will be done (for the controller's timer). */
  readonly wakeAt: number | undefined;
}

export function advanceStep(key: string, duration: number, running: RunningStep | undefined, now: number): StepOutcome {
  const startedAt = running?.key === key ? running.startedAt : now;
  const endsAt = startedAt + Math.max(0, duration);
  if (now >= endsAt) return { done: true, running: undefined, wakeAt: undefined };
  return { done: false, running: { key, startedAt }, wakeAt: endsAt };
}
