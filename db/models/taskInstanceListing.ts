import type { Knex } from 'knex';
import type { TiState } from '../../core/state.ts';
import type { TaskInstanceRow } from '../rows.ts';
import { inRange, inStates, page, type DateRange, type Sort } from './base.ts';

/**
 * The reads of task instances that REST, the UI and the CLI list and show:
 * filtered and paged lists, one instance by its key, and the grid's cells.
 */

/** A task instance with its run's logical date (Airflow's execution_date). */
export type TaskInstanceWithDate = TaskInstanceRow & { execution_date: Date };

export interface TaskInstanceFilters {
  dagIds?: readonly string[];
  runIds?: readonly string[];
  taskIds?: readonly string[];
  mapIndex?: number;
  /** Only the expanded instances of mapped tasks (map index 0 and up), as Airflow's listMapped. */
  mappedOnly?: boolean;
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
  if (filters.mappedOnly) query.where('ti.map_index', '>=', 0);
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

export function findTaskInstance(
  knex: Knex,
  key: { dagId: string; runId: string; taskId: string; mapIndex: number },
): Promise<TaskInstanceWithDate | undefined> {
  return filteredTaskInstances(knex, { dagIds: [key.dagId], runIds: [key.runId], taskIds: [key.taskId], mapIndex: key.mapIndex }).first(
    ...TASK_INSTANCE_COLUMNS,
  );
}

/** Airflow's field names for a task instance (CLI JSON and REST). */
export function taskInstanceFields(ti: TaskInstanceRow) {
  return {
    dag_id: ti.dag_id,
    run_id: ti.run_id,
    task_id: ti.task_id,
    map_index: ti.map_index,
    state: ti.state,
    try_number: ti.try_number,
    start_date: ti.start_date,
    end_date: ti.end_date,
    duration: ti.duration,
  };
}

/** Whether the run has a task instance of this task (any map index). */
export async function taskInstanceExists(knex: Knex, key: { dagId: string; runId: string; taskId: string }): Promise<boolean> {
  return Boolean(await knex('task_instance').where({ dag_id: key.dagId, run_id: key.runId, task_id: key.taskId }).first('id'));
}

/** A task instance's state (null for none), or undefined when there is no such task instance. */
export async function taskInstanceState(
  knex: Knex,
  key: { dagId: string; runId: string; taskId: string; mapIndex: number },
): Promise<{ state: TiState } | undefined> {
  return knex('task_instance').where({ dag_id: key.dagId, task_id: key.taskId, run_id: key.runId, map_index: key.mapIndex }).first('state');
}

/** One page of the task instances matching the filters (with their runs' logical dates), in listing order, and how many match. */
export function filteredTaskInstancesPage(
  knex: Knex,
  filters: TaskInstanceFilters,
  limit: number,
  offset: number,
): Promise<{ rows: TaskInstanceWithDate[]; total: number }> {
  return page<TaskInstanceWithDate>(filteredTaskInstances(knex, filters), TASK_INSTANCE_COLUMNS, orderTaskInstances, limit, offset);
}

/** One page of the matching task instances sorted by `sort` (a ti column), ties by map index, and how many match. */
export function sortedTaskInstancesPage(
  knex: Knex,
  filters: TaskInstanceFilters,
  sort: Sort,
  limit: number,
  offset: number,
): Promise<{ rows: TaskInstanceWithDate[]; total: number }> {
  const order = (q: Knex.QueryBuilder) => q.orderByRaw(`ti.?? ${sort.descending ? 'DESC' : 'ASC'} NULLS LAST, ti.map_index`, [sort.column]);
  return page<TaskInstanceWithDate>(filteredTaskInstances(knex, filters), TASK_INSTANCE_COLUMNS, order, limit, offset);
}

export interface TiCellRow {
  run_id: string;
  task_id: string;
  state: TiState;
  /** How many instances of the task in the run are in this state (1 for an unmapped task). */
  count: number;
  /** The instances are mapped ones (map index 0..N-1). */
  mapped: boolean;
  /** The highest try number and longest duration among them. */
  try_number: number;
  duration: number | null;
}

/**
 * Every task instance of the given runs, in one query: what the grid and graph show. A mapped
 * task's instances come counted per state (one row per task and state), so 10,000 of them stay
 * a handful of rows; an unmapped (or not yet expanded) task is one row with count 1.
 */
export async function taskInstanceCellsOfRuns(knex: Knex, dagId: string, runIds: readonly string[]): Promise<TiCellRow[]> {
  if (runIds.length === 0) return [];
  const rows = await knex('task_instance')
    .where('dag_id', dagId)
    .whereIn('run_id', runIds)
    .groupBy('run_id', 'task_id', 'state')
    .select('run_id', 'task_id', 'state')
    .select(knex.raw('count(*)::int as count, bool_or(map_index >= 0) as mapped, max(try_number) as try_number, max(duration) as duration'));
  return rows as TiCellRow[];
}

/** The state of every task instance of the given runs, by run and id. */
export function taskStatesOfRuns(knex: Knex, dagId: string, runIds: readonly string[]): Promise<{ run_id: string; task_id: string; state: TiState }[]> {
  return knex('task_instance').where('dag_id', dagId).whereIn('run_id', runIds).orderBy(['run_id', 'id']).select('run_id', 'task_id', 'state');
}

/** The instances of these tasks in the DAG's runs at these logical dates (ExternalTaskSensor). */
export function taskStatesAt(
  knex: Knex,
  dagId: string,
  taskIds: readonly string[],
  logicalDates: readonly Date[],
): Promise<{ logical_date: Date; task_id: string; map_index: number; state: TiState }[]> {
  return filteredTaskInstances(knex, { dagIds: [dagId], taskIds })
    .whereIn('dr.logical_date', [...logicalDates])
    .select('dr.logical_date', 'ti.task_id', 'ti.map_index', 'ti.state');
}

/**
 * The task instance of a run that ended last, among those in `states` (any, when omitted): the one whose
 * context a DAG-level callback gets (Airflow's DagRun.get_last_ti).
 */
export function lastEndedTaskInstance(knex: Knex, dagId: string, runId: string, states?: readonly string[]): Promise<TaskInstanceRow | undefined> {
  const query = knex<TaskInstanceRow>('task_instance').where({ dag_id: dagId, run_id: runId });
  if (states) query.whereIn('state', [...states]);
  return query.orderByRaw('end_date DESC NULLS LAST, id DESC').first();
}
