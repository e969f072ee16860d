import { createHash } from 'node:crypto';

export interface RetryPolicy {
  retryDelayMs: number;
  retryExponentialBackoff: boolean;
  maxRetryDelayMs: number | null;
}

/**
 * How long to wait before the next try, as Airflow's next_retry_datetime:
 * the fixed retryDelay, or with exponential backoff a delay between
 * d * 2^(try-1) and twice that, chosen by a hash of the task instance so it is
 * stable for the same try yet spreads retries of many tasks apart; capped by
 * maxRetryDelay.
 */
export function retryDelayMs(policy: RetryPolicy, tryNumber: number, key: string): number {
  let delay = policy.retryDelayMs;
  if (policy.retryExponentialBackoff) {
    const minBackoff = Math.ceil((policy.retryDelayMs / 1000) * 2 ** Math.max(tryNumber - 1, 0));
    if (minBackoff > 0) {
      const hash = BigInt(`0x${createHash('sha1').update(`${key}#${tryNumber}`).digest('hex')}`);
      const seconds = minBackoff + Number(hash % BigInt(minBackoff));
      delay = seconds * 1000;
    }
  }
  if (policy.maxRetryDelayMs !== null) delay = Math.min(delay, policy.maxRetryDelayMs);
  return delay;
}
