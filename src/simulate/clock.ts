/**
 * The rehearsal's compressed clock. Work (operator sub-steps, deployment services) is simulated
 * at `timeScale` times real speed, but an API server round trip is not: on the real
 * kube-apiserver tier one reconcile costs 50–200 ms whatever the scale. A deadline divided by a
 * large scale (31 min / 1000 = 1.9 s) would then measure that latency, not the work, and a gate
 * would fail on a healthy update. So no compressed deadline is shorter than MIN_DEADLINE_MS of
 * real time, unless the manifest's own deadline is shorter than that already.
 */
export const MIN_DEADLINE_MS = 20_000;

/** A manifest deadline (ms) on the rehearsal clock. */
export function scaledDeadlineMs(deadlineMs: number, timeScale: number): number {
  const scaled = deadlineMs / timeScale;
  return Math.max(scaled, Math.min(deadlineMs, MIN_DEADLINE_MS));
}
