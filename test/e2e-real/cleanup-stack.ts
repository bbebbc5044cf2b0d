/**
 * What a real-cluster run started, to be undone last first: the agent before the Git server it
 * clones from, the operator before the API server it writes to, the temp folder at the very end.
 */
export type Cleanup = () => Promise<void> | void;

export class CleanupStack {
  private readonly cleanups: Cleanup[] = [];

  /** Undo `cleanup` when the stack unwinds, before everything deferred earlier. */
  defer(cleanup: Cleanup): void {
    this.cleanups.push(cleanup);
  }

  /**
   * Runs every cleanup, the last deferred first. A failing cleanup does not stop the rest (a
   * process left running is worse than a message lost); their errors are returned in run order.
   * Each cleanup runs once: a second unwind, also while the first is running, finds none.
   */
  async unwind(): Promise<unknown[]> {
    const errors: unknown[] = [];
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (e) {
        errors.push(e);
      }
    }
    return errors;
  }

  /** Runs `start`; when it throws, unwinds what was deferred so far and rethrows its error. */
  async guard<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (e) {
      await this.unwind();
      throw e;
    }
  }
}
