import type { Knex } from 'knex';
import { DagNotFoundError } from '../../core/errors.ts';
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

/** DAG rows matching Airflow's list filters. */
export function filteredDags(knex: Knex, filters: { tags?: string[]; onlyActive?: boolean; paused?: boolean; pattern?: string }) {
  const query = knex('dag');
  if (filters.onlyActive !== false) query.where('is_active', true);
  if (filters.paused !== undefined) query.where('is_paused', filters.paused);
  if (filters.tags?.length) query.whereRaw('tags && ?::text[]', [filters.tags]);
  if (filters.pattern && filters.pattern !== '~') query.whereILike('dag_id', `%${filters.pattern.replace(/[\\%_]/g, '\\$&')}%`);
  return query;
}
