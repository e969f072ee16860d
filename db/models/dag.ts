import type { Knex } from 'knex';
import { DagNotFoundError } from '../../core/errors.ts';
import type { SerializedDag } from '../../core/serialize.ts';
import type { Sort } from './base.ts';
import { nextDagRunColumns } from '../../core/nextDagRun.ts';
import type { DagRunInfo } from '../../core/timetables/index.ts';
import { notifyScheduler } from '../notifications.ts';

/** The `dag` table: one row per DAG id (Airflow's DagModel). The DAG processor writes it through db/dagFileRecords.ts. */

export interface DagRow {
  dag_id: string;
  fileloc: string;
  owners: string;
  is_paused: boolean;
  is_active: boolean;
  tags: string[];
  timetable_summary: string | null;
  has_import_errors: boolean;
  last_parsed_time: Date | null;
  next_dagrun: Date | null;
}

export function listDags(knex: Knex, options: { includeInactive?: boolean } = {}): Promise<DagRow[]> {
  const query = knex<DagRow>('dag').orderBy('dag_id');
  if (!options.includeInactive) query.where('is_active', true);
  return query.select(
    'dag_id',
    'fileloc',
    'owners',
    'is_paused',
    'is_active',
    'tags',
    'timetable_summary',
    'has_import_errors',
    'last_parsed_time',
    'next_dagrun',
  );
}

export async function dagExists(knex: Knex, dagId: string): Promise<boolean> {
  return Boolean(await knex('dag').where('dag_id', dagId).first('dag_id'));
}

/** Pauses or unpauses a DAG; returns whether the flag changed. */
export async function setPaused(knex: Knex, dagId: string, paused: boolean): Promise<boolean> {
  const rows = await knex('dag').where('dag_id', dagId).whereNot('is_paused', paused).update({ is_paused: paused }, ['dag_id']);
  if (rows.length > 0) {
    if (!paused) await notifyScheduler(knex, `unpaused ${dagId}`); // its due runs get created now, not on the next tick
    return true;
  }
  if (!(await knex('dag').where('dag_id', dagId).first('dag_id'))) throw new DagNotFoundError(dagId);
  return false;
}

/** Locks the DAG's row (FOR UPDATE): before its runs and their task instances (ADR 0011). False when there is no such DAG. */
export async function lockDag(trx: Knex.Transaction, dagId: string): Promise<boolean> {
  return Boolean(await trx('dag').where('dag_id', dagId).forUpdate().first('dag_id'));
}

/** Deletes the DAG's row; its runs, task instances, XComs and serialized DAG go with it (ON DELETE CASCADE). */
export async function deleteDagRow(trx: Knex.Transaction, dagId: string): Promise<void> {
  await trx('dag').where('dag_id', dagId).delete();
}

/** Airflow's DAG list filters (REST API and the DAGs page). */
export interface DagFilters {
  tags?: string[];
  onlyActive?: boolean;
  paused?: boolean;
  pattern?: string;
}

/**
 * Locks the DAG's row unless another scheduler holds it (FOR UPDATE SKIP LOCKED), for starting its
 * queued runs: two schedulers cannot both start "the last free" run. Undefined when it is held or gone.
 */
export function lockDagSkipLocked(trx: Knex.Transaction, dagId: string): Promise<{ max_active_runs: number | null; is_paused: boolean } | undefined> {
  return trx('dag').where('dag_id', dagId).forUpdate().skipLocked().first('max_active_runs', 'is_paused');
}

/** Stores when the DAG's next scheduled run is due (Airflow's next_dagrun* columns); null: never. */
export async function updateNextDagRun(db: Knex | Knex.Transaction, dagId: string, info: DagRunInfo | null): Promise<void> {
  await db('dag').where('dag_id', dagId).update(nextDagRunColumns(info));
}

/** Moves the DAG's next run creation to `until`, without touching when the run itself is due. */
export async function postponeDagRunCreation(trx: Knex.Transaction, dagId: string, until: Date): Promise<void> {
  await trx('dag').where('dag_id', dagId).update({ next_dagrun_create_after: until });
}

/** DAG rows matching Airflow's list filters. */
export function filteredDags(knex: Knex, filters: DagFilters) {
  const query = knex('dag');
  if (filters.onlyActive !== false) query.where('is_active', true);
  if (filters.paused !== undefined) query.where('is_paused', filters.paused);
  if (filters.tags?.length) query.whereRaw('tags && ?::text[]', [filters.tags]);
  if (filters.pattern && filters.pattern !== '~') query.whereILike('dag_id', `%${filters.pattern.replace(/[\\%_]/g, '\\$&')}%`);
  return query;
}

/** The whole `dag` row. */
export function getDagRow(knex: Knex, dagId: string): Promise<Record<string, any> | undefined> {
  return knex('dag').where('dag_id', dagId).first();
}

/** The `dag` rows of these ids, by id. */
export function dagRowsByIds(knex: Knex, dagIds: readonly string[]): Promise<Record<string, any>[]> {
  return knex('dag').whereIn('dag_id', dagIds).orderBy('dag_id');
}

/** The DAG row and its serialized form, or undefined when either is missing (not parsed yet, or deleted). */
export async function getDagWithSerialized(knex: Knex, dagId: string): Promise<{ row: Record<string, any>; dag: SerializedDag } | undefined> {
  const found = await knex('dag as d').join('serialized_dag as s', 's.dag_id', 'd.dag_id').where('d.dag_id', dagId).first('d.*', 's.data');
  if (!found) return undefined;
  const { data, ...row } = found;
  return { row, dag: data as SerializedDag };
}

/** A page of the DAG rows matching the filters, ordered by `sort` then id, and how many match. */
export async function filteredDagsPage(
  knex: Knex,
  filters: DagFilters,
  sort: Sort,
  limit: number,
  offset: number,
): Promise<{ rows: Record<string, any>[]; total: number }> {
  const [counted] = await filteredDags(knex, filters).count({ n: '*' });
  const rows = await filteredDags(knex, filters)
    .orderBy(sort.column, sort.descending ? 'desc' : 'asc')
    .orderBy('dag_id')
    .limit(limit)
    .offset(offset);
  return { rows, total: Number(counted?.n ?? 0) };
}

/** A page of the ids of the DAGs matching the filters, by id. */
export function filteredDagIds(knex: Knex, filters: DagFilters, limit: number, offset: number): Promise<string[]> {
  return filteredDags(knex, filters).orderBy('dag_id').limit(limit).offset(offset).pluck('dag_id');
}

/** How many DAGs match the filters: all, active (unpaused) and paused. */
export async function countDagsByPaused(knex: Knex, filters: DagFilters): Promise<{ all: number; active: number; paused: number }> {
  return (await filteredDags(knex, filters).first(
    knex.raw('count(*)::int AS "all"'),
    knex.raw('(count(*) FILTER (WHERE NOT is_paused))::int AS active'),
    knex.raw('(count(*) FILTER (WHERE is_paused))::int AS paused'),
  )) as { all: number; active: number; paused: number };
}

export interface DagListRow {
  dag_id: string;
  is_paused: boolean;
  owners: string;
  description: string | null;
  tags: string[];
  timetable_summary: string | null;
  next_dagrun: Date | null;
  has_import_errors: boolean;
}

/** A page of the DAGs page's rows matching the filters, by id. */
export function dagListRows(knex: Knex, filters: DagFilters, limit: number, offset: number): Promise<DagListRow[]> {
  return filteredDags(knex, filters)
    .orderBy('dag_id')
    .limit(limit)
    .offset(offset)
    .select('dag_id', 'is_paused', 'owners', 'description', 'tags', 'timetable_summary', 'next_dagrun', 'has_import_errors');
}

/** Every tag of an active DAG, sorted. */
export async function activeDagTags(knex: Knex): Promise<string[]> {
  return (await knex.raw(`SELECT DISTINCT unnest(tags) AS tag FROM dag WHERE is_active ORDER BY 1`)).rows.map((r: { tag: string }) => r.tag);
}

/** The DAG's paused and active flags. */
export function dagFlags(knex: Knex, dagId: string): Promise<{ is_paused: boolean; is_active: boolean } | undefined> {
  return knex('dag').where('dag_id', dagId).first('is_paused', 'is_active');
}
