import { describe, expect, it } from 'vitest';
import { CleanupStack } from './cleanup-stack.js';

describe('CleanupStack', () => {
  it('undoes the last started first, and each cleanup once', async () => {
    const stack = new CleanupStack();
    const undone: string[] = [];
    for (const name of ['cluster', 'operator', 'agent']) stack.defer(() => void undone.push(name));
    await Promise.all([stack.unwind(), stack.unwind()]);
    await stack.unwind();
    expect(undone).toEqual(['agent', 'operator', 'cluster']);
  });

  it('keeps unwinding past a failing cleanup and returns its error', async () => {
    const stack = new CleanupStack();
    const undone: string[] = [];
    stack.defer(() => void undone.push('cluster'));
    stack.defer(async () => {
      await Promise.resolve();
      throw new Error('operator would not stop');
    });
    stack.defer(() => void undone.push('agent'));
    const errors = await stack.unwind();
    expect(undone).toEqual(['agent', 'cluster']);
    expect(errors.map((e) => (e as Error).message)).toEqual(['operator would not stop']);
  });

  it('a start that fails halfway undoes what it started and rethrows its own error', async () => {
    const stack = new CleanupStack();
    const undone: string[] = [];
    const started = stack.guard(async () => {
      stack.defer(() => void undone.push('cluster'));
      stack.defer(() => {
        throw new Error('the folder is gone');
      });
      stack.defer(() => void undone.push('operator'));
      throw new Error('the agent did not start');
    });
    await expect(started).rejects.toThrow('the agent did not start');
    expect(undone).toEqual(['operator', 'cluster']);
    // nothing is left for a later stop()
    expect(await stack.unwind()).toEqual([]);
  });

  it('a start that succeeds leaves everything running', async () => {
    const stack = new CleanupStack();
    const undone: string[] = [];
    const value = await stack.guard(async () => {
      stack.defer(() => void undone.push('cluster'));
      return 42;
    });
    expect(value).toBe(42);
    expect(undone).toEqual([]);
    await stack.unwind();
    expect(undone).toEqual(['cluster']);
  });
});
