import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/** The `dag_code` table: the source of each DAG file. */

/** Opaque id of a DAG file for GET /dagSources/{file_token}. */
export function fileToken(fileloc: string): string {
  return createHash('sha256').update(fileloc).digest('hex').slice(0, 32);
}

export async function saveSource(trx: Knex.Transaction, file: string, source: string, at: Date): Promise<void> {
  await trx('dag_code')
    .insert({ fileloc: file, file_token: fileToken(file), source_code: source, last_updated: at })
    .onConflict('fileloc')
    .merge();
}

/** The stored source of a DAG file, by its path. */
export function dagSourceByFileloc(knex: Knex, fileloc: string): Promise<{ source_code: string; last_updated: Date } | undefined> {
  return knex('dag_code').where('fileloc', fileloc).first('source_code', 'last_updated');
}

/** The stored source of a DAG file, by the opaque token the API hands out for it. */
export function dagSourceByToken(knex: Knex, fileToken: string): Promise<{ source_code: string } | undefined> {
  return knex('dag_code').where('file_token', fileToken).first('source_code');
}
