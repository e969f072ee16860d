import type { Knex } from 'knex';
import type { TiState } from '../../core/state.ts';
import { tiTransitionSql } from '../transitions.ts';
import type { TaskInstanceRow } from '../rows.ts';
import { configObjectsColumns } from '../metastoreBackend.ts';
import { RETURN_VALUE } from '../models/xcom.ts';
import { CLAIM_LOCK_SQL } from './claimScheduledTaskInstances.ts';
import { START_TRY_CTES, START_TRY_PARAMS, startedTryOf, startTryBindings, type StartedTry, type TryKey } from './startTaskInstance.ts';

/**
 * Records a try's success in one statement (a worker's hot path, one round
 * trip per task): running → success, its return value as the
 * `return_value` XCom, and, as asked,
 * - `start`: the try of the worker's next reservation (queued → running,
 *   with its variables and connections; startTaskInstance.ts);
 * - `decideRunId`: the run's row locked FOR NO KEY UPDATE SKIP LOCKED and its task
 *   instances returned, for the mini scheduler's decisions (null if the
 *   scheduler or another worker holds the run: it decides it);
 * - `claimLock`: the claim's advisory lock taken, so the claim that follows
 *   in the same transaction need not take it (ADR 0003: its snapshot comes
 *   after the lock).
 *
 * Params: the finished task instance's id, the time, the dag_run id and the
 * XCom JSON (null: no XCom), then the options above.
 *
 * Locks: the finished task instance's row, the XCom row, the started row and
 * the XComs it clears; the run row and the claim lock when asked.
 *
 * Safe with two schedulers: every state change names the state it leaves
 * (db/transitions.ts), so a task instance someone else moved meanwhile
 * (cleared, marked) is left alone: `recorded` false and no XCom (the XCom is
 * inserted from the success's RETURNING). The statement is atomic by itself;
 * a caller that decides and claims afterwards runs it in its transaction.
 */
const success = tiTransitionSql('success', 'p.now', ['running']);

const SQL = `WITH p AS (
     SELECT ?::bigint AS id, ?::timestamptz AS now, ?::bigint AS dag_run_id, ?::jsonb AS xcom,
            ?::bigint AS decide_run_id, ?::boolean AS claim_lock, ${START_TRY_PARAMS}
   ), done AS (
     UPDATE task_instance ti SET ${success.set}
       FROM p
      WHERE ti.id = p.id AND ti.state = ANY('{${success.from.join(',')}}'::text[])
      RETURNING ti.id, ti.dag_id, ti.run_id, ti.task_id, ti.map_index
   ), pushed AS (
     INSERT INTO xcom (dag_run_id, dag_id, run_id, task_id, map_index, key, value, timestamp)
     SELECT p.dag_run_id, d.dag_id, d.run_id, d.task_id, d.map_index, '${RETURN_VALUE}', p.xcom, p.now FROM done d, p WHERE p.xcom IS NOT NULL
     ON CONFLICT (dag_run_id, task_id, map_index, key) DO UPDATE SET value = EXCLUDED.value, timestamp = EXCLUDED.timestamp
   ), ${START_TRY_CTES}, locked_run AS (
     SELECT dr.id, dr.dag_id, dr.run_id FROM dag_run dr, p WHERE dr.id = p.decide_run_id AND dr.state = 'running' FOR NO KEY UPDATE OF dr SKIP LOCKED
   ), claim_locked AS (
     SELECT ${CLAIM_LOCK_SQL} FROM p WHERE p.claim_lock
   )
SELECT s.*,
       EXISTS (SELECT 1 FROM done) AS recorded,
       (SELECT count(*) FROM claim_locked) AS claim_locked,
       (SELECT json_agg(json_build_object('id', ti.id, 'task_id', ti.task_id, 'map_index', ti.map_index, 'state', ti.state, 'next_retry_at', ti.next_retry_at))
          FROM locked_run r JOIN task_instance ti ON ti.dag_id = r.dag_id AND ti.run_id = r.run_id) AS run_tis,
       ${configObjectsColumns('EXISTS (SELECT 1 FROM started)')}
  FROM (SELECT 1) one LEFT JOIN started s ON true`;

export type RunTi = Pick<TaskInstanceRow, 'id' | 'task_id' | 'map_index' | 'state' | 'next_retry_at'>;

export interface RecordedSuccess {
  /** False when the task instance was no longer running (someone else moved it): nothing was written. */
  recorded: boolean;
  /** The run's task instances (every map index) as the success left them, if the run's lock was asked for and free. */
  runTis: RunTi[] | null;
  /** The started try, if `start` was given and it was still queued. */
  started: StartedTry | null;
}

export async function recordSuccess(
  db: Knex | Knex.Transaction,
  args: {
    ti: Pick<TaskInstanceRow, 'id'>;
    dagRunId: number;
    now: Date;
    xcomJson: string | null;
    decideRunId?: number | null;
    claimLock?: boolean;
    start?: TryKey | null;
    startNow?: Date;
  },
): Promise<RecordedSuccess> {
  const bindings = [
    args.ti.id,
    args.now,
    args.dagRunId,
    args.xcomJson,
    args.decideRunId ?? null,
    args.claimLock ?? false,
    ...startTryBindings(args.start ?? null, args.startNow ?? args.now),
  ];
  const { rows } = await db.raw(SQL, bindings).options({ name: 'airflow_ts_record_success' });
  const {
    recorded,
    claim_locked: _locked,
    run_tis,
    ...rest
  } = rows[0] as Record<string, unknown> & { recorded: boolean; run_tis: (RunTi & { next_retry_at: string | null })[] | null };
  const runTis =
    run_tis?.map((ti) => ({
      ...ti,
      state: ti.id === args.ti.id && recorded ? 'success' : (ti.state as TiState),
      next_retry_at: ti.next_retry_at ? new Date(ti.next_retry_at) : null,
    })) ?? null;
  return { recorded, runTis, started: rest.id === null || rest.id === undefined ? null : startedTryOf(rest) };
}
