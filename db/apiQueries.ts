import type { Knex } from 'knex';
import type { DagRunRow, TaskInstanceRow } from './rows.ts';

/**
 * Filtered, paged reads for the REST API's dag-run, task-instance and XCom
 * listings. Each `filtered…` function returns a fresh query with only WHERE
 * clauses (and the joins they need), so a caller can count it and page it.
 */

export interface DateRange {
  gte?: Date;
  lte?: Date;
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

function inRange(query: Knex.QueryBuilder, column: string, range: DateRange | undefined): void {
  if (range?.gte) query.where(column, '>=', range.gte);
  if (range?.lte) query.where(column, '<=', range.lte);
}

/** Matches none (null) as well as named states. */
function inStates(query: Knex.QueryBuilder, column: string, states: readonly (string | null)[] | undefined): void {
  if (!states) return;
  const named = states.filter((s): s is string => s !== null);
  const withNull = states.includes(null);
  query.where((q) => {
    q.whereIn(column, named);
    if (withNull) q.orWhereNull(column);
  });
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

/** A task instance with its run's logical date (Airflow's execution_date). */
export type TaskInstanceWithDate = TaskInstanceRow & { execution_date: Date };

export interface TaskInstanceFilters {
  dagIds?: readonly string[];
  runIds?: readonly string[];
  taskIds?: readonly string[];
  mapIndex?: number;
  /** null matches none. */
  states?: readonly (string | null)[];
  pools?: readonly string[];
  queues?: readonly string[];
  logicalDate?: DateRange;
  startDate?: DateRange;
  endDate?: DateRange;
  updatedAt?: DateRange;
  duration?: { gte?: number; lte?: number };
}

export function filteredTaskInstances(knex: Knex, filters: TaskInstanceFilters): Knex.QueryBuilder {
  const query = knex('task_instance as ti').join('dag_run as dr', (j) => j.on('dr.dag_id', 'ti.dag_id').andOn('dr.run_id', 'ti.run_id'));
  if (filters.dagIds) query.whereIn('ti.dag_id', filters.dagIds);
  if (filters.runIds) query.whereIn('ti.run_id', filters.runIds);
  if (filters.taskIds) query.whereIn('ti.task_id', filters.taskIds);
  if (filters.mapIndex !== undefined) query.where('ti.map_index', filters.mapIndex);
  inStates(query, 'ti.state', filters.states);
  if (filters.pools) query.whereIn('ti.pool', filters.pools);
  if (filters.queues) query.whereIn('ti.queue', filters.queues);
  inRange(query, 'dr.logical_date', filters.logicalDate);
  inRange(query, 'ti.start_date', filters.startDate);
  inRange(query, 'ti.end_date', filters.endDate);
  inRange(query, 'ti.updated_at', filters.updatedAt);
  if (filters.duration?.gte !== undefined) query.where('ti.duration', '>=', filters.duration.gte);
  if (filters.duration?.lte !== undefined) query.where('ti.duration', '<=', filters.duration.lte);
  return query;
}

/** Columns for filteredTaskInstances rows: the task instance and its run's logical date. */
export const TASK_INSTANCE_COLUMNS = ['ti.*', 'dr.logical_date as execution_date'];

/** Stable listing order: by DAG, run date, task, map index. */
export function orderTaskInstances(query: Knex.QueryBuilder): Knex.QueryBuilder {
  return query.orderBy([{ column: 'ti.dag_id' }, { column: 'dr.logical_date' }, { column: 'ti.task_id' }, { column: 'ti.map_index' }]);
}

export interface XComRow {
  dag_run_id: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  key: string;
  value: unknown;
  timestamp: Date;
  execution_date: Date;
}

export interface XComFilters {
  dagId?: string;
  runId?: string;
  taskId?: string;
  mapIndex?: number;
  key?: string;
}

export function filteredXComs(knex: Knex, filters: XComFilters): Knex.QueryBuilder {
  const query = knex('xcom as x').join('dag_run as dr', 'dr.id', 'x.dag_run_id');
  if (filters.dagId !== undefined) query.where('x.dag_id', filters.dagId);
  if (filters.runId !== undefined) query.where('x.run_id', filters.runId);
  if (filters.taskId !== undefined) query.where('x.task_id', filters.taskId);
  if (filters.mapIndex !== undefined) query.where('x.map_index', filters.mapIndex);
  if (filters.key !== undefined) query.where('x.key', filters.key);
  return query;
}

export const XCOM_LIST_COLUMNS = [
  'x.dag_run_id',
  'x.dag_id',
  'x.run_id',
  'x.task_id',
  'x.map_index',
  'x.key',
  'x.timestamp',
  'dr.logical_date as execution_date',
];

/** Rows of a filtered query, and how many match without paging. */
export async function page<T>(
  query: Knex.QueryBuilder,
  columns: readonly string[],
  order: (q: Knex.QueryBuilder) => Knex.QueryBuilder,
  limit: number,
  offset: number,
): Promise<{ rows: T[]; total: number }> {
  const [counted] = await query.clone().clearSelect().clearOrder().count({ n: '*' });
  const rows = (await order(query.clone().select(...columns))
    .limit(limit)
    .offset(offset)) as T[];
  return { rows, total: Number(counted?.n ?? 0) };
}

export async function dagExists(knex: Knex, dagId: string): Promise<boolean> {
  return Boolean(await knex('dag').where('dag_id', dagId).first('dag_id'));
}

export function findDagRun(knex: Knex | Knex.Transaction, dagId: string, runId: string): Promise<DagRunRow | undefined> {
  return knex<DagRunRow>('dag_run').where({ dag_id: dagId, run_id: runId }).first();
}

export function findTaskInstance(
  knex: Knex,
  key: { dagId: string; runId: string; taskId: string; mapIndex: number },
): Promise<TaskInstanceWithDate | undefined> {
  return filteredTaskInstances(knex, { dagIds: [key.dagId], runIds: [key.runId], taskIds: [key.taskId], mapIndex: key.mapIndex }).first(
    ...TASK_INSTANCE_COLUMNS,
  );
}
