import { createHash } from 'node:crypto';

/**
 * How long a sensor waits before its next poke (Airflow's BaseSensorOperator._get_next_poke_interval).
 * Without exponentialBackoff, always pokeIntervalMs. With it, poke n waits a time between
 * pokeIntervalMs × 2^(n-2) (at least 1 s) and twice that, picked by a hash of the task, the sensor's
 * start and n, so sensors that started together spread out instead of poking in step; never beyond
 * what is left of the timeout, nor beyond maxWaitMs. Pure: the caller passes every input.
 */
export function nextPokeIntervalMs(args: {
  pokeIntervalMs: number;
  exponentialBackoff: boolean;
  maxWaitMs: number | null;
  timeoutMs: number;
  /** Time since the sensor started (its first poke, in reschedule mode). */
  elapsedMs: number;
  /** The poke that just returned false: 1 for the first. */
  pokeNumber: number;
  /** Identifies the sensor's wait, e.g. `${dagId}#${taskId}#${startedAt}`. */
  key: string;
}): number {
  if (!args.exponentialBackoff) return args.pokeIntervalMs;
  const minimum = Math.max(Math.floor(args.pokeIntervalMs * 2 ** (args.pokeNumber - 2)), 1000);
  const hash = createHash('sha1').update(`${args.key}#${args.pokeNumber}`).digest();
  const jitter = Number(hash.readBigUInt64BE(0) % BigInt(minimum));
  let interval = Math.min(minimum + jitter, Math.max(0, args.timeoutMs - args.elapsedMs));
  if (args.maxWaitMs !== null) interval = Math.min(interval, args.maxWaitMs);
  return interval;
}
