import type { Knex } from 'knex';
import { DagRunAlreadyExistsError } from '../core/errors.ts';
import { effectivePriorityWeights } from '../core/priorityWeights.ts';
import type { RunType } from '../core/runId.ts';
import type { SerializedDag } from '../core/serialize.ts';
import type { DataInterval } from '../core/timetables/index.ts';
import { sqlState, UNIQUE_VIOLATION } from './pgErrors.ts';
import type { DagRunRow } from './rows.ts';

export interface NewDagRun {
  dag: SerializedDag;
  runId: string;
  runType: RunType;
  logicalDate: Date;
  dataInterval: DataInterval;
  conf?: Record<string, unknown>;
  note?: string | null;
  creatingJobId?: number | null;
  now: Date;
}

/**
 * Creates a dag run (state queued) and one task instance per task (state
 * none) in the caller's transaction, like Airflow's create_dagrun +
 * verify_integrity. A second run with the same run id or logical date raises
 * DagRunAlreadyExistsError, whoever inserts first.
 */
export async function createDagRun(trx: Knex.Transaction, run: NewDagRun): Promise<DagRunRow> {
  const { dag, now } = run;
  let row: DagRunRow;
  try {
    // A savepoint, so a duplicate does not abort the caller's transaction.
    [row] = await trx.transaction((sp) =>
      sp('dag_run').insert(
        {
          dag_id: dag.dagId,
          run_id: run.runId,
          logical_date: run.logicalDate,
          data_interval_start: run.dataInterval.start,
          data_interval_end: run.dataInterval.end,
          state: 'queued',
          run_type: run.runType,
          external_trigger: run.runType === 'manual',
          conf: JSON.stringify(run.conf ?? {}),
          queued_at: now,
          creating_job_id: run.creatingJobId ?? null,
          note: run.note ?? null,
          updated_at: now,
        },
        '*',
      ),
    );
  } catch (error) {
    if (sqlState(error) === UNIQUE_VIOLATION) throw new DagRunAlreadyExistsError(dag.dagId, run.runId, run.logicalDate);
    throw error;
  }
  await createTaskInstances(trx, dag, row.run_id, now);
  return row;
}

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

export async function getDagRun(db: Knex | Knex.Transaction, dagId: string, runId: string): Promise<DagRunRow | undefined> {
  return db('dag_run').where({ dag_id: dagId, run_id: runId }).first();
}

/** The data interval of the DAG's latest scheduled run: where the timetable continues from. */
export async function lastAutomatedDataInterval(db: Knex | Knex.Transaction, dagId: string): Promise<DataInterval | null> {
  const row = await db('dag_run')
    .where({ dag_id: dagId, run_type: 'scheduled' })
    .orderBy('logical_date', 'desc')
    .first('data_interval_start', 'data_interval_end');
  return row?.data_interval_start ? { start: row.data_interval_start, end: row.data_interval_end } : null;
}

/**
 * Locks dag runs FOR UPDATE, in id order, and returns them. Every writer that
 * changes a run's task instances takes its runs' locks first (dag run, then
 * task instances: ADR 0011), as the scheduler does, so mark, clear and the
 * scheduler queue behind each other instead of deadlocking.
 */
export async function lockDagRuns(trx: Knex.Transaction, dagId: string, where: { runIds: readonly string[] } | Knex.QueryCallback): Promise<DagRunRow[]> {
  const query = trx<DagRunRow>('dag_run').where('dag_id', dagId);
  if ('runIds' in where) query.whereIn('run_id', [...where.runIds]);
  else query.where(where);
  return query.orderBy('id').forUpdate();
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

/** Deletes a dag run; its task instances and XComs go with it (ON DELETE CASCADE). */
export async function deleteDagRunRow(trx: Knex.Transaction, id: number): Promise<void> {
  await trx('dag_run').where('id', id).delete();
}

/** The logical dates among `dates` at which the DAG already has a run. */
export async function logicalDatesWithRuns(knex: Knex, dagId: string, dates: readonly Date[]): Promise<Date[]> {
  return knex('dag_run')
    .where('dag_id', dagId)
    .whereIn('logical_date', [...dates])
    .pluck('logical_date');
}
