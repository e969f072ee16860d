import type { Knex } from 'knex';
import { DagRunAlreadyExistsError } from '../../core/errors.ts';
import type { RunType } from '../../core/runId.ts';
import type { SerializedDag } from '../../core/serialize.ts';
import type { DagRunInfo } from '../../core/taskContext.ts';
import type { DataInterval } from '../../core/timetables/index.ts';
import { sqlState, UNIQUE_VIOLATION } from '../pgErrors.ts';
import type { DagRunRow } from '../rows.ts';
import { inRange, page, type DateRange, type Sort } from './base.ts';
import { createTaskInstances } from './taskInstance.ts';

/** The `dag_run` table (Airflow's DagRun): creating, locking and reading runs. State changes go through db/transitions.ts. */

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

export async function getDagRun(db: Knex | Knex.Transaction, dagId: string, runId: string): Promise<DagRunRow | undefined> {
  return db('dag_run').where({ dag_id: dagId, run_id: runId }).first();
}

export async function getDagRunById(db: Knex | Knex.Transaction, id: number): Promise<DagRunRow | undefined> {
  return db('dag_run').where('id', id).first();
}

/** clear_number + 1, as an expression for transitionDagRun's `set`: a cleared run counts its clears (Airflow's DagRun.clear_number). */
export function nextClearNumber(db: Knex | Knex.Transaction): Knex.Raw {
  return db.raw('clear_number + 1');
}

export function findDagRun(knex: Knex | Knex.Transaction, dagId: string, runId: string): Promise<DagRunRow | undefined> {
  return knex<DagRunRow>('dag_run').where({ dag_id: dagId, run_id: runId }).first();
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
 * Locks dag runs FOR NO KEY UPDATE, in id order, and returns them. Every writer
 * that changes a run's task instances takes its runs' locks first (dag run, then
 * task instances: ADR 0011), as the scheduler does, so mark, clear and the
 * scheduler queue behind each other instead of deadlocking. NO KEY UPDATE, not
 * UPDATE: those writers exclude each other all the same, but a worker inserting
 * an XCom or a rendered-fields row for the run (a foreign key check, KEY SHARE)
 * is neither blocked nor makes a SKIP LOCKED caller skip the run.
 */
export async function lockDagRuns(trx: Knex.Transaction, dagId: string, where: { runIds: readonly string[] } | Knex.QueryCallback): Promise<DagRunRow[]> {
  const query = trx<DagRunRow>('dag_run').where('dag_id', dagId);
  if ('runIds' in where) query.whereIn('run_id', [...where.runIds]);
  else query.where(where);
  return query.orderBy('id').forNoKeyUpdate();
}

/**
 * The running runs a scheduling pass decides, with their DAG's serialized hash, by DAG and logical
 * date; only of `dagIds` and only the (dag_id, run_id) pairs of `only`, when given.
 */
export async function runningDagRunsToSchedule(
  knex: Knex,
  filter: { dagIds?: readonly string[]; only?: readonly (readonly string[])[] | null },
): Promise<{ id: number; dag_id: string; dag_hash: string }[]> {
  return knex('dag_run as dr')
    .join('serialized_dag as sd', 'sd.dag_id', 'dr.dag_id')
    .where('dr.state', 'running')
    .modify((q) => {
      if (filter.dagIds) q.whereIn('dr.dag_id', filter.dagIds as string[]);
      if (filter.only) q.whereIn(['dr.dag_id', 'dr.run_id'], filter.only as string[][]);
    })
    .orderBy(['dr.dag_id', 'dr.logical_date'])
    .select('dr.id', 'dr.dag_id', 'sd.dag_hash');
}

/** Locks a running run for one scheduling decision (FOR NO KEY UPDATE SKIP LOCKED, as lockDagRuns); undefined when another scheduler has it or it finished. */
export function lockRunningDagRunSkipLocked(trx: Knex.Transaction, id: number): Promise<DagRunRow | undefined> {
  return trx('dag_run').where({ id, state: 'running' }).forNoKeyUpdate().skipLocked().first();
}

/** Records when the scheduler last decided the run's task instances (Airflow's last_scheduling_decision). */
export async function setLastSchedulingDecision(trx: Knex.Transaction, id: number, at: Date): Promise<void> {
  await trx('dag_run').where('id', id).update({ last_scheduling_decision: at });
}

/** The DAG's run just before `run` by logical date (for dependsOnPast); undefined for the first run. */
export function previousDagRun(db: Knex | Knex.Transaction, run: Pick<DagRunRow, 'dag_id' | 'logical_date'>): Promise<{ run_id: string } | undefined> {
  return db('dag_run').where('dag_id', run.dag_id).andWhere('logical_date', '<', run.logical_date).orderBy('logical_date', 'desc').first('run_id');
}

/** The DAGs that have queued runs (only among `dagIds`, when given). */
export function dagIdsWithQueuedRuns(knex: Knex, dagIds?: readonly string[]): Promise<string[]> {
  return knex('dag_run')
    .where('state', 'queued')
    .modify((q) => {
      if (dagIds) q.whereIn('dag_id', dagIds as string[]);
    })
    .distinct()
    .pluck('dag_id');
}

/** How many runs of the DAG are running. */
export async function countRunningDagRuns(db: Knex | Knex.Transaction, dagId: string): Promise<number> {
  const [counted] = await db('dag_run').where({ dag_id: dagId, state: 'running' }).count({ running: '*' });
  return Number(counted?.running ?? 0);
}

/** How many runs of the DAG are queued or running (what max_active_runs caps when creating runs). */
export async function countActiveDagRuns(db: Knex | Knex.Transaction, dagId: string): Promise<number> {
  const [counted] = await db('dag_run').where('dag_id', dagId).whereIn('state', ['queued', 'running']).count({ n: '*' });
  return Number(counted?.n ?? 0);
}

/** Ids of the DAG's queued runs, oldest logical date first, at most `limit`. */
export function oldestQueuedDagRunIds(db: Knex | Knex.Transaction, dagId: string, limit: number): Promise<{ id: number }[]> {
  return db('dag_run').where({ dag_id: dagId, state: 'queued' }).orderBy('logical_date').limit(limit).select('id');
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

export function listDagRuns(knex: Knex, dagId: string, options: { state?: string; limit?: number } = {}): Promise<DagRunRow[]> {
  const query = knex<DagRunRow>('dag_run').where('dag_id', dagId).orderBy('logical_date', 'desc');
  if (options.state) query.where('state', options.state);
  if (options.limit) query.limit(options.limit);
  return query;
}

export interface DagRunFilters {
  /** Undefined: every DAG. */
  dagIds?: readonly string[];
  states?: readonly string[];
  logicalDate?: DateRange;
  startDate?: DateRange;
  endDate?: DateRange;
  updatedAt?: DateRange;
}

export function filteredDagRuns(knex: Knex, filters: DagRunFilters): Knex.QueryBuilder<DagRunRow> {
  const query = knex<DagRunRow>('dag_run');
  if (filters.dagIds) query.whereIn('dag_id', filters.dagIds);
  if (filters.states) query.whereIn('state', filters.states);
  inRange(query, 'logical_date', filters.logicalDate);
  inRange(query, 'start_date', filters.startDate);
  inRange(query, 'end_date', filters.endDate);
  inRange(query, 'updated_at', filters.updatedAt);
  return query;
}

/** Airflow's field names for a dag run (CLI JSON and REST). */
export function dagRunFields(run: DagRunRow) {
  return {
    dag_id: run.dag_id,
    run_id: run.run_id,
    state: run.state,
    run_type: run.run_type,
    logical_date: run.logical_date,
    data_interval_start: run.data_interval_start,
    data_interval_end: run.data_interval_end,
    start_date: run.start_date,
    end_date: run.end_date,
    conf: run.conf,
  };
}

/** Whether a run with this id exists in the DAG, or in any DAG when `dagId` is undefined. */
export async function dagRunExists(knex: Knex, dagId: string | undefined, runId: string): Promise<boolean> {
  const run = await knex('dag_run')
    .where('run_id', runId)
    .modify((q) => void (dagId !== undefined && q.where('dag_id', dagId)))
    .first('id');
  return Boolean(run);
}

/** The DAG's run at this logical date. */
export function findDagRunAt(knex: Knex, dagId: string, logicalDate: Date): Promise<DagRunRow | undefined> {
  return knex<DagRunRow>('dag_run').where({ dag_id: dagId, logical_date: logicalDate }).first();
}

/** The id of the DAG's run at a logical date (another DAG's run an XCom is pulled from), or undefined. */
export function dagRunIdAt(db: Knex | Knex.Transaction, dagId: string, logicalDate: Date): Promise<{ id: number } | undefined> {
  return db('dag_run').where({ dag_id: dagId, logical_date: logicalDate }).first('id');
}

/** The DAG's run with the latest logical date. */
export function latestDagRun(knex: Knex, dagId: string): Promise<DagRunRow | undefined> {
  return knex<DagRunRow>('dag_run').where('dag_id', dagId).orderBy('logical_date', 'desc').first();
}

/** The DAG's latest `limit` runs by logical date, newest first. */
export function latestDagRuns(knex: Knex, dagId: string, limit: number): Promise<DagRunRow[]> {
  return knex<DagRunRow>('dag_run').where('dag_id', dagId).orderBy('logical_date', 'desc').limit(limit);
}

/** One page of the DAG's runs, newest first, and how many runs it has. */
export async function dagRunsPage(knex: Knex, dagId: string, limit: number, offset: number): Promise<{ runs: DagRunRow[]; total: number }> {
  const [counted] = await knex('dag_run').where('dag_id', dagId).count({ n: '*' });
  const runs: DagRunRow[] = await knex<DagRunRow>('dag_run').where('dag_id', dagId).orderBy('logical_date', 'desc').limit(limit).offset(offset);
  return { runs, total: Number(counted?.n ?? 0) };
}

/** One page of the runs matching the filters, ordered by `sort` then id, and how many match. */
export function filteredDagRunsPage(
  knex: Knex,
  filters: DagRunFilters,
  sort: Sort,
  limit: number,
  offset: number,
): Promise<{ rows: DagRunRow[]; total: number }> {
  return page<DagRunRow>(filteredDagRuns(knex, filters), ['*'], (q) => q.orderBy(sort.column, sort.descending ? 'desc' : 'asc').orderBy('id'), limit, offset);
}

/** The DAG's runs whose logical date is in the range (every run for an empty range), with their logical dates. */
export function dagRunDatesInRange(knex: Knex, dagId: string, range: DateRange): Promise<{ run_id: string; logical_date: Date }[]> {
  return filteredDagRuns(knex, { dagIds: [dagId], logicalDate: range }).select('run_id', 'logical_date');
}

/** The ids of the DAG's runs, only `runId` when given, only those with a logical date in `logicalDate` when given. */
export function dagRunIds(knex: Knex, dagId: string, where: { runId?: string; logicalDate?: DateRange }): Promise<string[]> {
  const query = knex('dag_run').where('dag_id', dagId);
  if (where.runId) query.where('run_id', where.runId);
  if (where.logicalDate?.gte) query.where('logical_date', '>=', where.logicalDate.gte);
  if (where.logicalDate?.lte) query.where('logical_date', '<=', where.logicalDate.lte);
  return query.pluck('run_id');
}

export interface LatestRunSummary {
  dag_id: string;
  run_id: string;
  state: string;
  logical_date: Date;
  start_date: Date | null;
}

/**
 * For the DAGs list: the latest run of each DAG, and each DAG's task-instance
 * counts by state ('none' for none) over its latest `recentRuns` runs.
 */
export async function dagRunSummaries(
  knex: Knex,
  dagIds: string[],
  recentRuns: number,
): Promise<{ latest: LatestRunSummary[]; taskCounts: { dag_id: string; state: string; count: number }[] }> {
  const ranked = `SELECT id, dag_id, run_id, state, logical_date, start_date,
      row_number() OVER (PARTITION BY dag_id ORDER BY logical_date DESC, id DESC) AS rn
    FROM dag_run WHERE dag_id = ANY(?)`;
  const latest = await knex.raw(`SELECT dag_id, run_id, state, logical_date, start_date FROM (${ranked}) r WHERE rn = 1`, [dagIds]);
  const counted = await knex.raw(
    `SELECT r.dag_id, COALESCE(ti.state, 'none') AS state, count(*)::int AS count
       FROM (${ranked}) r JOIN task_instance ti ON ti.dag_id = r.dag_id AND ti.run_id = r.run_id
      WHERE r.rn <= ? GROUP BY 1, 2`,
    [dagIds, recentRuns],
  );
  return { latest: latest.rows, taskCounts: counted.rows };
}

/** The DAG's runs with these ids, by logical date. */
export function dagRunsByIds(knex: Knex, dagId: string, runIds: readonly string[]): Promise<DagRunRow[]> {
  return knex<DagRunRow>('dag_run').where('dag_id', dagId).whereIn('run_id', runIds).orderBy('logical_date');
}

/** The DAG's runs at these logical dates and their states (ExternalTaskSensor on a whole run). */
export function runStatesAt(knex: Knex, dagId: string, logicalDates: readonly Date[]): Promise<{ logical_date: Date; state: string }[]> {
  return knex('dag_run')
    .where('dag_id', dagId)
    .whereIn('logical_date', [...logicalDates])
    .select('logical_date', 'state');
}

/** A run as its task context shows it (`dag_run` in templates): a run without a data interval gets its logical date. */
export function dagRunInfo(run: Pick<DagRunRow, 'run_id' | 'run_type' | 'conf' | 'logical_date' | 'data_interval_start' | 'data_interval_end'>): DagRunInfo {
  return {
    runId: run.run_id,
    runType: run.run_type,
    conf: run.conf,
    logicalDate: run.logical_date,
    dataIntervalStart: run.data_interval_start ?? run.logical_date,
    dataIntervalEnd: run.data_interval_end ?? run.logical_date,
  };
}
