import type { Knex } from 'knex';

/**
 * Counters of password checks per key ('user:<name>', 'address:<ip>') in
 * fixed windows, shared by every webserver process through the auth_failure
 * table. A check is reserved (counted) before the password is hashed, in one
 * upsert, so 40 concurrent guesses cannot all pass a count read before any of
 * them is recorded; a correct password gives its reservation back.
 */
export interface AuthLimit {
  key: string;
  limit: number;
}

export type Reservation = { allowed: true } | { allowed: false; retryAfterMs: number };

export async function reservePasswordCheck(knex: Knex, limits: AuthLimit[], now: Date, windowMs: number): Promise<Reservation> {
  const cutoff = new Date(now.getTime() - windowMs);
  // Sorted keys: concurrent upserts lock rows in one order, so they never deadlock.
  const sorted = [...limits].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const { rows } = (await knex.raw(
    `INSERT INTO auth_failure AS f (key, window_start, failures)
     VALUES ${sorted.map(() => '(?, ?::timestamptz, 1)').join(', ')}
     ON CONFLICT (key) DO UPDATE SET
       failures = CASE WHEN f.window_start <= ? THEN 1 ELSE f.failures + 1 END,
       window_start = CASE WHEN f.window_start <= ? THEN excluded.window_start ELSE f.window_start END
     RETURNING key, window_start, failures`,
    [...sorted.flatMap((l) => [l.key, now]), cutoff, cutoff],
  )) as { rows: { key: string; window_start: Date; failures: number }[] };
  // Old windows of keys nobody tries any more; the index on window_start keeps this cheap.
  await knex('auth_failure').where('window_start', '<=', cutoff).delete();
  let retryAfterMs = 0;
  for (const row of rows) {
    const limit = sorted.find((l) => l.key === row.key)!.limit;
    if (row.failures > limit) retryAfterMs = Math.max(retryAfterMs, row.window_start.getTime() + windowMs - now.getTime());
  }
  return retryAfterMs > 0 ? { allowed: false, retryAfterMs } : { allowed: true };
}

/** Gives back the reservation of a check whose password was correct. */
export async function releasePasswordCheck(knex: Knex, keys: string[], now: Date, windowMs: number): Promise<void> {
  await knex('auth_failure')
    .whereIn('key', keys)
    .andWhere('failures', '>', 0)
    .andWhere('window_start', '>', new Date(now.getTime() - windowMs))
    .decrement('failures', 1);
}
