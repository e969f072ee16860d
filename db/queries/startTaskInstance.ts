import os from 'node:os';
import type { Knex } from 'knex';
import { tiTransitionSql } from '../transitions.ts';
import type { TaskInstanceRow } from '../rows.ts';
import { configObjectsColumns, configObjectsOf, type StoredConfigObjects } from '../metastoreBackend.ts';

/**
 * Starts a try: moves one task instance, named by its key, from queued to
 * running, deletes the XComs of its earlier tries (Airflow clears them when a
 * try starts; a first try has none, a resumed deferred try keeps its own) and reads the variables and connections
 * for its context. One statement, so it needs no transaction of its own.
 *
 * Params: the key (dag_id, run_id, task_id, map_index), the start time, this
 * host and pid.
 *
 * Locks: the task instance's row (the UPDATE) and the XCom rows it deletes.
 * Safe with two schedulers and any number of workers: the UPDATE names the
 * state it leaves (db/transitions.ts), so of two runners only one starts it;
 * the other gets no row and changes nothing.
 */
/** The started task instance, with every variable and connection as stored (decrypted when the task reads one). */
export interface StartedTry extends StoredConfigObjects {
  ti: TaskInstanceRow;
}

export interface TryKey {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
}

const running = tiTransitionSql('running', 'p.start_now', ['queued']);

// Named columns, not `ti.*`: a prepared statement whose result columns change (a migration adding one
// while a worker lives) fails with "cached plan must not change result type".
const COLUMNS = Object.keys({
  id: 1,
  dag_id: 1,
  run_id: 1,
  task_id: 1,
  map_index: 1,
  state: 1,
  try_number: 1,
  max_tries: 1,
  start_date: 1,
  end_date: 1,
  duration: 1,
  hostname: 1,
  pid: 1,
  pool: 1,
  pool_slots: 1,
  max_active_tis_per_dag: 1,
  max_active_tis_per_dagrun: 1,
  queue: 1,
  priority_weight: 1,
  operator: 1,
  queued_dttm: 1,
  queued_by_job_id: 1,
  executor_config: 1,
  next_retry_at: 1,
  last_heartbeat_at: 1,
  note: 1,
  trigger_id: 1,
  next_method: 1,
  next_kwargs: 1,
  trigger_timeout: 1,
  updated_at: 1,
} satisfies Record<keyof TaskInstanceRow, 1>);

/**
 * The CTEs `started` and `cleared`, for this statement and for recordSuccess (which starts a worker's next
 * reservation in the statement that records its success). They read, from a CTE `p`: start_dag_id,
 * start_run_id, start_task_id, start_map_index (null: start nothing), start_now, hostname, pid.
 */
export const START_TRY_CTES = `started AS (
     UPDATE task_instance ti SET ${running.set}, hostname = p.hostname, pid = p.pid
       FROM p
      WHERE ti.dag_id = p.start_dag_id AND ti.run_id = p.start_run_id AND ti.task_id = p.start_task_id AND ti.map_index = p.start_map_index
        AND ti.state = ANY('{${running.from.join(',')}}'::text[])
      RETURNING ${COLUMNS.map((c) => `ti.${c}`).join(', ')}
   ), cleared AS (
     DELETE FROM xcom x USING started s, dag_run dr
      WHERE s.try_number > 1 AND s.next_method IS NULL AND dr.dag_id = s.dag_id AND dr.run_id = s.run_id
        AND x.dag_run_id = dr.id AND x.task_id = s.task_id AND x.map_index = s.map_index
   )`;

/** The START_TRY_CTES columns of `p` for `key`, as SQL and bindings in that order. */
export const START_TRY_PARAMS =
  '?::text AS start_dag_id, ?::text AS start_run_id, ?::text AS start_task_id, ?::int AS start_map_index, ?::timestamptz AS start_now, ?::text AS hostname, ?::int AS pid';
export function startTryBindings(key: TryKey | null, now: Date): Knex.RawBinding[] {
  return [key?.dag_id ?? null, key?.run_id ?? null, key?.task_id ?? null, key?.map_index ?? null, now, os.hostname(), process.pid];
}

const SQL = `WITH p AS (SELECT ${START_TRY_PARAMS}), ${START_TRY_CTES}
SELECT s.*, ${configObjectsColumns()} FROM started s`;

/** Starts the try of `key`; null if it was not queued (someone else started, cleared or marked it). */
export async function startTaskInstance(db: Knex | Knex.Transaction, key: TryKey, now: Date): Promise<StartedTry | null> {
  const { rows } = await db.raw(SQL, startTryBindings(key, now)).options({ name: 'airflow_ts_start_task_instance' });
  return rows[0] ? startedTryOf(rows[0]) : null;
}

/** Splits a row of `started` columns plus configObjectsColumns(). */
export function startedTryOf(row: Record<string, unknown>): StartedTry {
  const { variables, connections, ...ti } = row;
  return { ti: ti as unknown as TaskInstanceRow, ...configObjectsOf({ variables, connections } as Parameters<typeof configObjectsOf>[0]) };
}
