import type { Knex } from 'knex';
import { effectivePriorityWeights } from '../../core/priorityWeights.ts';
import { retryDelayMs, type RetryPolicy } from '../../core/retryDelay.ts';
import type { SerializedDag } from '../../core/serialize.ts';
import { SCHEDULABLE } from '../../core/taskInstanceSchedulingDecisions.ts';
import { UNFINISHED_TI_STATES, type TiState } from '../../core/state.ts';
import type { TaskInstanceRow } from '../rows.ts';
import { RESCHEDULE_DATE_COLUMN } from './taskReschedule.ts';
import { tiCreatedScheduledSql, transitionTaskInstances } from '../transitions.ts';
import { inStates } from './base.ts';

/**
 * The `task_instance` table (Airflow's TaskInstance): creating and reading task
 * instances, and ending a failed try. State changes go through db/transitions.ts;
 * the hot statements of the scheduler and runner are in db/queries/.
 */

/** One task instance per task of the DAG, with the scheduling attributes copied from the serialized DAG. */
export async function createTaskInstances(trx: Knex.Transaction, dag: SerializedDag, runId: string, now: Date): Promise<void> {
  const weights = effectivePriorityWeights(dag.tasks);
  const rows = dag.tasks.map((task) => ({
    dag_id: dag.dagId,
    run_id: runId,
    task_id: task.taskId,
    map_index: -1,
    state: null,
    try_number: 0,
    max_tries: task.retries,
    pool: task.pool,
    pool_slots: task.poolSlots,
    max_active_tis_per_dag: task.maxActiveTisPerDag ?? null,
    max_active_tis_per_dagrun: task.maxActiveTisPerDagrun ?? null,
    queue: task.queue,
    priority_weight: weights.get(task.taskId) ?? task.priorityWeight,
    operator: task.operator,
    executor_config: task.executorConfig ? JSON.stringify(task.executorConfig) : null,
    updated_at: now,
  }));
  // Chunks keep each INSERT under Postgres's bind-parameter limit for very large DAGs.
  for (let i = 0; i < rows.length; i += 1000) {
    await trx('task_instance')
      .insert(rows.slice(i, i + 1000))
      .onConflict(['dag_id', 'run_id', 'task_id', 'map_index'])
      .ignore();
  }
}

/**
 * Ends a try that failed: up_for_retry (with next_retry_at) while tries are
 * left and retrying is allowed, failed otherwise. Shared by the task runner
 * (the task raised), and the scheduler (the runner died, or stopped
 * heartbeating). Returns the updated row, or null if the task instance had
 * already left `from` (someone else settled it first).
 */
export async function failTaskInstance(
  db: Knex | Knex.Transaction,
  ti: Pick<TaskInstanceRow, 'id' | 'dag_id' | 'run_id' | 'task_id' | 'map_index' | 'try_number' | 'max_tries'>,
  options: { policy: RetryPolicy | null; allowRetry: boolean; from: readonly TiState[]; now: Date },
): Promise<TaskInstanceRow | null> {
  const { policy, now } = options;
  const retry = options.allowRetry && policy !== null && ti.try_number <= ti.max_tries;
  if (retry) {
    const key = `${ti.dag_id}#${ti.task_id}#${ti.run_id}#${ti.map_index}`;
    const next = new Date(now.getTime() + retryDelayMs(policy, ti.try_number, key));
    const [row] = await transitionTaskInstances(db, [ti.id], { to: 'up_for_retry', from: options.from, now, set: { next_retry_at: next } });
    return row ?? null;
  }
  const [row] = await transitionTaskInstances(db, [ti.id], { to: 'failed', from: options.from, now });
  return row ?? null;
}

/**
 * Whether a task instance of the DAG (of one run, with `runId`) is running,
 * locking the one it finds so that it cannot start or finish until the
 * caller's transaction ends. Take the runs' locks first (ADR 0011).
 */
export async function lockRunningTaskInstance(trx: Knex.Transaction, dagId: string, runId?: string): Promise<boolean> {
  const where = runId === undefined ? { dag_id: dagId, state: 'running' } : { dag_id: dagId, run_id: runId, state: 'running' };
  return Boolean(await trx('task_instance').where(where).forUpdate().first('id'));
}

/**
 * Locks the task instances of the named runs and tasks (FOR UPDATE, in id order), only those in
 * `states` when given (null matches none) and of one map index when given: of the tasks in
 * `mapIndexOf` only (the others at every map index), else of every task. Take the runs' locks
 * first (ADR 0011).
 */
export function lockTaskInstances(
  trx: Knex.Transaction,
  which: {
    dagId: string;
    runIds: readonly string[];
    taskIds: readonly string[];
    states?: readonly (string | null)[];
    mapIndex?: number;
    mapIndexOf?: readonly string[];
  },
): Promise<TaskInstanceRow[]> {
  const query = trx<TaskInstanceRow>('task_instance')
    .where('dag_id', which.dagId)
    .whereIn('run_id', [...which.runIds])
    .whereIn('task_id', [...which.taskIds])
    .orderBy('id')
    .forUpdate();
  inStates(query as Knex.QueryBuilder, 'state', which.states);
  const { mapIndex, mapIndexOf } = which;
  if (mapIndex !== undefined && mapIndexOf === undefined) query.where('map_index', mapIndex);
  if (mapIndex !== undefined && mapIndexOf !== undefined) query.where((q) => q.whereNotIn('task_id', [...mapIndexOf]).orWhere('map_index', mapIndex));
  return query;
}

/** Locks a run's unfinished task instances (FOR UPDATE, in id order), after the run (ADR 0011). */
export function lockUnfinishedTaskInstancesOfRun(trx: Knex.Transaction, dagId: string, runId: string): Promise<TaskInstanceRow[]> {
  return trx<TaskInstanceRow>('task_instance')
    .where({ dag_id: dagId, run_id: runId })
    .where((q) =>
      q
        .whereIn(
          'state',
          [...UNFINISHED_TI_STATES].filter((s) => s !== null),
        )
        .orWhereNull('state'),
    )
    .orderBy('id')
    .forUpdate();
}

/**
 * max_tries for a clear, as an expression for transitionTaskInstances' `set`: the tries used so far
 * plus the task's retries again (Airflow's clear gives a task its retries back). `retries`: task id → retries.
 */
export function maxTriesAfterClear(db: Knex | Knex.Transaction, retries: Record<string, number>): Knex.Raw {
  return db.raw('ti.try_number + COALESCE((?::jsonb ->> ti.task_id)::int, 0)', [JSON.stringify(retries)]);
}

export function taskInstancesOfRun(knex: Knex, dagId: string, runId: string): Promise<TaskInstanceRow[]> {
  return knex<TaskInstanceRow>('task_instance').where({ dag_id: dagId, run_id: runId }).orderBy(['start_date', 'task_id', 'map_index']);
}

/** A task instance as a scheduling pass reads it. */
export type TiToSchedule = Pick<TaskInstanceRow, 'id' | 'task_id' | 'map_index' | 'state' | 'next_retry_at'> & {
  /** Of an up_for_reschedule instance, its try's reschedule date (ReadyToRescheduleDep); null for the others. */
  reschedule_date: Date | null;
};

/**
 * What a scheduling pass reads of a run, in one statement (one snapshot): every unmapped (and not yet
 * expanded) task instance, the mapped instances it may move (no state, up for retry or reschedule), and
 * how many mapped instances each expanded task has in each state. A pass over a run mapped over 10,000
 * elements then reads the few instances it can act on, not 10,000 rows each time an instance finishes.
 * An up_for_reschedule instance comes with its try's reschedule date (ADR 0019).
 */
export async function taskInstancesToSchedule(
  db: Knex | Knex.Transaction,
  dagId: string,
  runId: string,
): Promise<{ tis: TiToSchedule[]; mappedCounts: { task_id: string; state: TiState; n: number }[] }> {
  const { rows } = await db.raw(
    `SELECT ti.id, ti.task_id, ti.map_index, ti.state, ti.next_retry_at, ${RESCHEDULE_DATE_COLUMN}, NULL::int AS n
       FROM task_instance ti
      WHERE ti.dag_id = ? AND ti.run_id = ? AND (ti.map_index < 0 OR ti.state IS NULL OR ti.state = ANY(?))
     UNION ALL
     SELECT NULL, task_id, NULL, state, NULL, NULL, count(*)::int
       FROM task_instance
      WHERE dag_id = ? AND run_id = ? AND map_index >= 0
      GROUP BY task_id, state`,
    [dagId, runId, [...SCHEDULABLE].filter((state) => state !== null), dagId, runId],
  );
  const tis: TiToSchedule[] = [];
  const mappedCounts: { task_id: string; state: TiState; n: number }[] = [];
  for (const row of rows as (TiToSchedule & { n: number | null })[]) {
    if (row.n === null) {
      const { id, task_id, map_index, state, next_retry_at, reschedule_date } = row;
      tis.push({ id, task_id, map_index, state, next_retry_at, reschedule_date });
    } else mappedCounts.push({ task_id: row.task_id, state: row.state, n: row.n });
  }
  return { tis, mappedCounts };
}

/** Ids of the run's task instances that have not finished, every map index (a timed-out run skips them). */
export function unfinishedTaskInstanceIds(db: Knex | Knex.Transaction, dagId: string, runId: string): Promise<number[]> {
  return db('task_instance')
    .where({ dag_id: dagId, run_id: runId })
    .where((q) =>
      q.whereNull('state').orWhereIn(
        'state',
        [...UNFINISHED_TI_STATES].filter((s) => s !== null),
      ),
    )
    .pluck('id');
}

/**
 * Whether another instance of the mapped task instance `ti`'s task in its run has not finished (one indexed
 * probe, not a read of the run). From the highest map index down: instances are claimed in id (map index)
 * order, so an unfinished one is found at once instead of after walking every finished one.
 */
export async function hasUnfinishedMappedSibling(
  db: Knex | Knex.Transaction,
  ti: Pick<TaskInstanceRow, 'id' | 'dag_id' | 'run_id' | 'task_id'>,
): Promise<boolean> {
  const query = db('task_instance').where({ dag_id: ti.dag_id, run_id: ti.run_id, task_id: ti.task_id }).whereNot('id', ti.id);
  inStates(query, 'state', [...UNFINISHED_TI_STATES]);
  return (await query.orderBy('map_index', 'desc').first('id')) !== undefined;
}

/**
 * Expands a mapped task's map index -1 instance into `length` instances, as Airflow does: the -1 row
 * becomes map index 0 and rows 1..length-1 are copied from it, with no state and no try yet. Returns
 * their ids in map-index order, or [] if the row was expanded already. Run it in the transaction that
 * holds the run's lock (ADR 0016); the caller moves the new instances on through db/transitions.ts.
 */
export async function expandTaskInstance(
  trx: Knex.Transaction,
  id: number,
  length: number,
  now: Date,
  /** `scheduled`: rows 1..length-1 are created scheduled (db/transitions.ts), not with no state; row 0 is the caller's to move. */
  createdAs: 'none' | 'scheduled' = 'none',
): Promise<number[]> {
  const [first] = await trx<TaskInstanceRow>('task_instance')
    .where({ id, map_index: -1 })
    .update({ map_index: 0, updated_at: now }, ['id', 'dag_id', 'run_id', 'task_id']);
  if (!first) return [];
  const created = createdAs === 'scheduled' ? tiCreatedScheduledSql('p.now') : { columns: 'state, try_number, updated_at', values: 'NULL, 0, p.now' };
  const { rows } = await trx.raw(
    `WITH p AS (SELECT ?::timestamptz AS now)
     INSERT INTO task_instance (dag_id, run_id, task_id, map_index, max_tries, pool, pool_slots, max_active_tis_per_dag, max_active_tis_per_dagrun, queue,
                                priority_weight, operator, executor_config, ${created.columns})
     SELECT ti.dag_id, ti.run_id, ti.task_id, i, ti.max_tries, ti.pool, ti.pool_slots, ti.max_active_tis_per_dag, ti.max_active_tis_per_dagrun, ti.queue,
            ti.priority_weight, ti.operator, ti.executor_config, ${created.values}
       FROM task_instance ti, generate_series(1, ?::int - 1) AS i, p
      WHERE ti.id = ?
      ORDER BY i
     ON CONFLICT (dag_id, run_id, task_id, map_index) DO NOTHING
     RETURNING id`,
    [now, length, id],
  );
  return [first.id, ...(rows as { id: number }[]).map((r) => r.id)];
}

/** The state of every task instance of a run, all map indexes (for dependsOnPast). */
export function taskStatesOfRun(db: Knex | Knex.Transaction, dagId: string, runId: string): Promise<{ task_id: string; map_index: number; state: TiState }[]> {
  return db('task_instance').where({ dag_id: dagId, run_id: runId }).select('task_id', 'map_index', 'state');
}

export function taskInstancesByIds(db: Knex | Knex.Transaction, ids: readonly number[]): Promise<TaskInstanceRow[]> {
  return db('task_instance').whereIn('id', ids as number[]);
}

/**
 * Running task instances whose runner has not heartbeat for `thresholdMs` (zombies), by the
 * database's clock, which also wrote the heartbeat (ADR 0011).
 */
export function zombieTaskInstances(db: Knex | Knex.Transaction, thresholdMs: number): Promise<TaskInstanceRow[]> {
  return db('task_instance').where('state', 'running').andWhereRaw("last_heartbeat_at < now() - ? * interval '1 millisecond'", [thresholdMs]);
}

/**
 * Locks the queued and running task instances of schedulers not among `liveJobIds` (FOR UPDATE
 * SKIP LOCKED, so two schedulers never adopt the same orphan).
 */
export function lockOrphanedTaskInstances(trx: Knex.Transaction, liveJobIds: readonly number[]): Promise<TaskInstanceRow[]> {
  return trx('task_instance')
    .whereIn('state', ['queued', 'running'])
    .andWhere((q) => q.whereNull('queued_by_job_id').orWhereNotIn('queued_by_job_id', liveJobIds as number[]))
    .forUpdate()
    .skipLocked();
}

/** Id and try number of every queued or running task instance. */
export function activeTaskInstanceTries(db: Knex | Knex.Transaction): Promise<{ id: number; try_number: number }[]> {
  return db('task_instance').whereIn('state', ['queued', 'running']).select('id', 'try_number');
}

/** Records the scheduler job that now owns the task instances (it adopted them). */
export async function setQueuedByJob(db: Knex | Knex.Transaction, ids: readonly number[], jobId: number | null): Promise<void> {
  await db('task_instance')
    .whereIn('id', ids as number[])
    .update({ queued_by_job_id: jobId });
}

/**
 * A runner's heartbeat: sets last_heartbeat_at by the database's clock (ADR 0011) while the task
 * instance is running. False when it is no longer running (cleared, marked, failed as a zombie).
 */
export async function heartbeatTaskInstance(knex: Knex, id: number): Promise<boolean> {
  const updated = await knex('task_instance').where({ id, state: 'running' }).update({ last_heartbeat_at: knex.fn.now() }, ['id']);
  return updated.length > 0;
}

/** A task instance's state by id; undefined when it is gone. */
export function stateOfTaskInstance(db: Knex | Knex.Transaction, id: number): Promise<{ state: TiState } | undefined> {
  return db('task_instance').where('id', id).first('state');
}

/** A task instance's state and try number by id; undefined when it is gone. */
export function stateAndTryOfTaskInstance(db: Knex | Knex.Transaction, id: number): Promise<{ state: TiState; try_number: number } | undefined> {
  return db('task_instance').where('id', id).first('state', 'try_number');
}

/** Ids of the run's task instances of the named tasks. */
export function taskInstanceIdsOfTasks(db: Knex | Knex.Transaction, dagId: string, runId: string, taskIds: readonly string[]): Promise<number[]> {
  return db('task_instance')
    .where({ dag_id: dagId, run_id: runId })
    .whereIn('task_id', taskIds as string[])
    .pluck('id');
}
