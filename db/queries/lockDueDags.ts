import type { Knex } from 'knex';
import type { SerializedDag } from '../../core/serialize.ts';

/**
 * The DAGs whose next scheduled run is due, with their serialized form, for the scheduler's run
 * creation (scheduler/createDueDagRuns.ts): unpaused, active, next_dagrun_create_after <= now.
 *
 * Params: now, and at most `limit` DAGs per pass.
 *
 * Locks: the dag rows, FOR UPDATE OF d SKIP LOCKED, in the caller's transaction: with two
 * schedulers each due DAG is handled by one of them, and neither waits for the other; the
 * unique (dag_id, logical_date) key of dag_run is the last line of defence against a duplicate run.
 *
 * Order: the longest overdue first, then the DAG id (deterministic, ending in the primary key).
 */
export async function lockDueDags(
  trx: Knex.Transaction,
  now: Date,
  limit: number,
): Promise<{ dag_id: string; max_active_runs: number | null; data: SerializedDag }[]> {
  return (
    await trx.raw(
      `SELECT d.dag_id, d.max_active_runs, sd.data
           FROM dag d JOIN serialized_dag sd ON sd.dag_id = d.dag_id
          WHERE d.is_paused = false AND d.is_active = true AND d.next_dagrun_create_after <= ?
          ORDER BY d.next_dagrun_create_after, d.dag_id
          LIMIT ?
          FOR UPDATE OF d SKIP LOCKED`,
      [now, limit],
    )
  ).rows;
}
