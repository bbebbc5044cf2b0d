import { describe, expect, it } from 'vitest';
import { MIN_DEADLINE_MS, scaledDeadlineMs } from '../../src/simulate/clock.js';

describe('the rehearsal clock', () => {
  it('compresses a long deadline, but not below the floor of real time', () => {
    // 31 min at scale 1000 would be 1.86 s: less than a few real-server reconciles
    expect(scaledDeadlineMs(1_860_000, 1000)).toBe(MIN_DEADLINE_MS);
    expect(scaledDeadlineMs(7_200_000, 100)).toBe(72_000);
  });
  it('keeps a deadline already shorter than the floor as written', () => {
    expect(scaledDeadlineMs(1_000, 1000)).toBe(1_000);
    expect(scaledDeadlineMs(0, 1000)).toBe(0);
  });
  it('is the identity at scale 1', () => {
    expect(scaledDeadlineMs(90_000, 1)).toBe(90_000);
  });
});
