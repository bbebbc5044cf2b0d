/**
 * The reconcile loop of a simulated controller (the gate-Job runner, OLM): `tick` runs one at a
 * time, on a poll timer and on every watch event; a wake during a run asks for exactly one more
 * run after it, so no event is lost and no two runs overlap.
 */
import { errorText } from './agent/common.js';
import type { ResourceType } from '../cluster/resources.js';
import { watchCollection, type KubeClient } from './agent/kube.js';

export class ControllerLoop {
  private stoppedFlag = false;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private watches: { stop(): void }[] = [];

  constructor(private readonly log: (line: string) => void) {}

  /** For the controller's KubeClient: requests end quietly once the loop is stopped. */
  readonly stopped = (): boolean => this.stoppedFlag;

  /** Start polling every `pollMs` and watching `types` in `namespace`, and run `tick` once now. */
  start(tick: () => Promise<void>, opts: { readonly kube: KubeClient; readonly types: readonly ResourceType[]; readonly namespace: string; readonly pollMs: number }): void {
    const wake = (): void => {
      if (this.stoppedFlag) return;
      if (this.running) {
        this.again = true;
        return;
      }
      this.running = (async () => {
        do {
          this.again = false;
          try {
            await tick();
          } catch (e) {
            this.log(`tick failed: ${errorText(e)}`);
          }
        } while (this.again && !this.stoppedFlag);
      })().finally(() => {
        this.running = undefined;
      });
    };
    this.timer = setInterval(wake, opts.pollMs);
    this.watches = opts.types.map((t) => watchCollection(opts.kube, t, opts.namespace, wake, this.log));
    wake();
  }

  /** Stop the timer and the watches, and wait for a run in progress to end. */
  async stop(): Promise<void> {
    this.stoppedFlag = true;
    clearInterval(this.timer);
    for (const w of this.watches) w.stop();
    await this.running?.catch(() => undefined);
  }
}
