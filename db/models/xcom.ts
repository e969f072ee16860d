import type { Knex } from 'knex';
import { XComTooLargeError } from '../../core/errors.ts';
import { page } from './base.ts';

export const RETURN_VALUE = 'return_value';

export interface XComKey {
  dagRunId: number;
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
}

/** Stores (or replaces) one XCom value as JSON, refusing values over `limit` bytes. */
export async function pushXCom(db: Knex | Knex.Transaction, key: XComKey, name: string, value: unknown, limit: number): Promise<void> {
  const json = xcomJson(key.taskId, name, value, limit);
  await db('xcom')
    .insert({
      dag_run_id: key.dagRunId,
      dag_id: key.dagId,
      run_id: key.runId,
      task_id: key.taskId,
      map_index: key.mapIndex,
      key: name,
      value: json,
      timestamp: new Date(),
    })
    .onConflict(['dag_run_id', 'task_id', 'map_index', 'key'])
    .merge(['value', 'timestamp']);
}

/** An XCom value as stored (JSON text), refusing values over `limit` bytes. */
export function xcomJson(taskId: string, name: string, value: unknown, limit: number): string {
  const json = JSON.stringify(value ?? null);
  const size = Buffer.byteLength(json);
  if (size > limit) throw new XComTooLargeError(taskId, name, size, limit);
  return json;
}

/** Values of `name` pushed by `taskIds` in the run, in the order asked; undefined where there is none. */
export async function pullXComs(
  db: Knex | Knex.Transaction,
  dagRunId: number,
  taskIds: readonly string[],
  name = RETURN_VALUE,
  mapIndex?: number,
): Promise<unknown[]> {
  if (mapIndex !== undefined) {
    const rows: { task_id: string; value: unknown }[] = await db('xcom')
      .where({ dag_run_id: dagRunId, key: name, map_index: mapIndex })
      .whereIn('task_id', taskIds)
      .select('task_id', 'value');
    const byTask = new Map(rows.map((r) => [r.task_id, r.value]));
    return taskIds.map((id) => byTask.get(id));
  }
  // Map index left out (Airflow's default): an unmapped task's value, or a mapped task's values in map-index order.
  const rows: { task_id: string; map_index: number; value: unknown }[] = await db('xcom')
    .where({ dag_run_id: dagRunId, key: name })
    .whereIn('task_id', taskIds)
    .orderBy('map_index')
    .select('task_id', 'map_index', 'value');
  return taskIds.map((id) => {
    const mine = rows.filter((r) => r.task_id === id);
    const unmapped = mine.find((r) => r.map_index === -1);
    if (unmapped) return unmapped.value;
    return mine.length > 0 ? mine.map((r) => r.value) : undefined;
  });
}

/** The XComs of `name` pushed by `taskIds` in the run at `mapIndexes` (every map index when undefined): for `ti.xcomPull`. */
export async function xcomsOfTasks(
  db: Knex | Knex.Transaction,
  dagRunId: number,
  taskIds: readonly string[],
  name: string,
  mapIndexes?: readonly number[],
): Promise<{ taskId: string; mapIndex: number; value: unknown }[]> {
  const query = db('xcom').where({ dag_run_id: dagRunId, key: name }).whereIn('task_id', taskIds);
  if (mapIndexes !== undefined) query.whereIn('map_index', mapIndexes);
  return query.select('task_id as taskId', 'map_index as mapIndex', 'value');
}

/**
 * Element `index` of the list an unmapped task pushed as `name`, read in SQL (`value -> index`), with
 * the list's length: what one mapped instance needs, without pulling a 10,000-element list per
 * instance. Undefined when there is no such XCom or it is not a list (the caller reads the whole value).
 */
export async function xcomListElement(
  db: Knex | Knex.Transaction,
  dagRunId: number,
  taskId: string,
  name: string,
  index: number,
): Promise<{ length: number; element: unknown } | undefined> {
  const row: { length: number | null; element: unknown } | undefined = await db('xcom')
    .where({ dag_run_id: dagRunId, task_id: taskId, map_index: -1, key: name })
    .first(db.raw(`CASE WHEN jsonb_typeof(value) = 'array' THEN jsonb_array_length(value) END AS length`), db.raw('value -> ?::int AS element', [index]));
  return row && row.length !== null ? { length: row.length, element: row.element } : undefined;
}

/**
 * The value an unmapped task pushed as `name` unless it is still the version the caller holds
 * (`knownVersion`, the row's xmin: any rewrite of the row, such as a rerun's push, changes it) or
 * larger than `maxBytes` as stored (pg_column_size reads the TOAST pointer, not the value). Undefined
 * when there is no such XCom. A worker running thousands of instances of one mapped task reads a
 * 10,000-element list once instead of detoasting it for every instance (runner/xcomListCache.ts).
 */
export async function xcomValueUnlessKnown(
  db: Knex | Knex.Transaction,
  dagRunId: number,
  taskId: string,
  name: string,
  knownVersion: string | null,
  maxBytes: number,
): Promise<{ version: string; value: unknown; tooLarge: boolean } | undefined> {
  const row: { version: string; value: unknown; too_large: boolean } | undefined = await db('xcom')
    .where({ dag_run_id: dagRunId, task_id: taskId, map_index: -1, key: name })
    .first(
      db.raw('xmin::text AS version'),
      db.raw('CASE WHEN xmin::text IS DISTINCT FROM ?::text AND pg_column_size(value) <= ? THEN value END AS value', [knownVersion, maxBytes]),
      db.raw('pg_column_size(value) > ? AS too_large', [maxBytes]),
    );
  return row && { version: row.version, value: row.value, tooLarge: row.too_large };
}

/** Forgets the XComs of task instances (task id and map index): when they are cleared (as Airflow does). */
export async function clearXComs(db: Knex | Knex.Transaction, dagRunId: number, tis: readonly { taskId: string; mapIndex: number }[]): Promise<void> {
  if (tis.length === 0) return;
  await db('xcom')
    .where({ dag_run_id: dagRunId })
    .whereIn(
      ['task_id', 'map_index'],
      tis.map((ti) => [ti.taskId, ti.mapIndex]),
    )
    .delete();
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

/** A task instance's XComs, by key. */
export function xcomsOfTaskInstance(
  knex: Knex,
  key: { dagId: string; runId: string; taskId: string; mapIndex: number },
): Promise<{ key: string; value: unknown; timestamp: Date }[]> {
  return knex('xcom')
    .where({ dag_id: key.dagId, run_id: key.runId, task_id: key.taskId, map_index: key.mapIndex })
    .orderBy('key')
    .select('key', 'value', 'timestamp');
}

/** One page of the XComs matching the filters (without values), by run date, DAG, task, map index and key, and how many match. */
export function filteredXComsPage(knex: Knex, filters: XComFilters, limit: number, offset: number): Promise<{ rows: XComRow[]; total: number }> {
  const byDateTaskKey = (q: Knex.QueryBuilder) =>
    q.orderBy([{ column: 'dr.logical_date' }, { column: 'x.dag_id' }, { column: 'x.task_id' }, { column: 'x.map_index' }, { column: 'x.key' }]);
  return page<XComRow>(filteredXComs(knex, filters), XCOM_LIST_COLUMNS, byDateTaskKey, limit, offset);
}

/** The one XCom the filters name, with its value. */
export function findXCom(knex: Knex, filters: Required<XComFilters>): Promise<XComRow | undefined> {
  return filteredXComs(knex, filters).first(...XCOM_LIST_COLUMNS, 'x.value');
}
