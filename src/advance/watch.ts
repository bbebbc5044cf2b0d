/**
 * `watch`: run `advance` until the update is done, a gate fails, or the time is up. It wakes on
 * watch events from the cluster (and a periodic resync), never on a polling loop, and it stops
 * between steps when asked, so an interrupt never leaves a half-written commit.
 */
import type { RenderInputs } from '../render/render.js';
import type { UpdateStatus } from '../status/update-status.js';
import { advanceOnce, type AdvanceOptions, type AdvanceResult } from './advance.js';

export interface WatchEvents {
  /** After every step: what happened and where the update is. */
  readonly onStep?: (result: AdvanceResult) => void;
}

export interface WatchOptions extends Omit<AdvanceOptions, 'readSnapshot'> {
  readonly readSnapshot: AdvanceOptions['readSnapshot'];
  /** Resolves on the next cluster change or after `ms` (a watcher's `changed`). */
  readonly nextChange: (ms: number) => Promise<void>;
  /** Give up after this long (exit 3, the update is still waiting). */
  readonly timeoutMs?: number;
  /** Longest sleep between checks without any event (deadlines are judged at least this often). */
  readonly idleMs?: number;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  /** One step of the loop: `advanceOnce`, or the pull-request step of `--pull-request`. */
  readonly step?: (inputs: RenderInputs, opts: AdvanceOptions) => Promise<AdvanceResult>;
}

export type WatchEnd = 'done' | 'failed' | 'timeout' | 'interrupted';

export interface WatchResult {
  readonly end: WatchEnd;
  readonly exitCode: number;
  readonly last: UpdateStatus | undefined;
  readonly commits: readonly { readonly phase: string; readonly sha: string }[];
  readonly steps: number;
}

export async function watchUpdate(inputs: RenderInputs, opts: WatchOptions, events: WatchEvents = {}): Promise<WatchResult> {
  const now = opts.now ?? Date.now;
  const started = now();
  const commits: { phase: string; sha: string }[] = [];
  let last: UpdateStatus | undefined;
  let steps = 0;
  let lastKey = '';
  const stop = aborted(opts.signal);
  for (;;) {
    if (opts.signal?.aborted) return { end: 'interrupted', exitCode: 130, last, commits, steps };
    const result = await (opts.step ?? advanceOnce)(inputs, opts);
    steps++;
    last = result.status;
    if (result.committed) commits.push(result.committed);
    // report a step when something moved, not on every identical wake-up
    const key = `${result.outcome}|${result.status.phase}|${result.status.reason}`;
    if (key !== lastKey || result.outcome === 'advanced') events.onStep?.(result);
    lastKey = key;
    if (result.outcome === 'done') return { end: 'done', exitCode: 0, last, commits, steps };
    if (result.outcome === 'failed') return { end: 'failed', exitCode: 1, last, commits, steps };
    if (result.outcome === 'advanced') continue;
    const left = opts.timeoutMs !== undefined ? opts.timeoutMs - (now() - started) : Infinity;
    if (left <= 0) return { end: 'timeout', exitCode: 3, last, commits, steps };
    await Promise.race([opts.nextChange(Math.min(left, opts.idleMs ?? 30_000)), stop]);
  }
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return; // never resolves: no way to interrupt
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
