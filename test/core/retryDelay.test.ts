import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../core/retryDelay.ts';

describe('retryDelayMs', () => {
  const policy = { retryDelayMs: 10_000, retryExponentialBackoff: false, maxRetryDelayMs: null };
  it('is the fixed retryDelay without backoff', () => {
    expect([1, 2, 5].map((t) => retryDelayMs(policy, t, 'k'))).toEqual([10_000, 10_000, 10_000]);
  });

  it('with exponential backoff lies in [d*2^(try-1), 2*d*2^(try-1)), is stable per try, and respects maxRetryDelay', () => {
    const backoff = { ...policy, retryExponentialBackoff: true };
    for (const tryNumber of [1, 2, 3, 4]) {
      const delay = retryDelayMs(backoff, tryNumber, 'dag#task#run');
      const base = 10_000 * 2 ** (tryNumber - 1);
      expect(delay).toBeGreaterThanOrEqual(base);
      expect(delay).toBeLessThan(2 * base);
      expect(retryDelayMs(backoff, tryNumber, 'dag#task#run')).toBe(delay);
    }
    expect(retryDelayMs({ ...backoff, maxRetryDelayMs: 15_000 }, 4, 'k')).toBe(15_000);
  });
});
