import type { Knex } from 'knex';
import type { Sort } from './base.ts';

/** The `import_error` table: why a DAG file did not load. The DAG processor writes it through db/dagFileRecords.ts. */

export interface ImportErrorRow {
  id: number;
  filename: string;
  timestamp: Date;
  message: string;
  line: number | null;
  stacktrace: string;
}

export interface ImportProblemRow {
  message: string;
  line: number | null;
  stacktrace: string;
}

export function listImportErrors(knex: Knex): Promise<ImportErrorRow[]> {
  return knex<ImportErrorRow>('import_error').orderBy('filename').select('id', 'filename', 'timestamp', 'message', 'line', 'stacktrace');
}

/** What the REST API shows of an import error. */
export type ImportErrorRecord = Pick<ImportErrorRow, 'id' | 'filename' | 'timestamp' | 'stacktrace'>;

const COLUMNS = ['id', 'filename', 'timestamp', 'stacktrace'];

/** A page of the import errors, ordered by `sort` then id, and how many there are. */
export async function importErrorsPage(knex: Knex, sort: Sort, limit: number, offset: number): Promise<{ rows: ImportErrorRecord[]; total: number }> {
  const [counted] = await knex('import_error').count({ n: '*' });
  const rows: ImportErrorRecord[] = await knex('import_error')
    .orderBy(sort.column, sort.descending ? 'desc' : 'asc')
    .orderBy('id')
    .limit(limit)
    .offset(offset)
    .select(COLUMNS);
  return { rows, total: Number(counted?.n ?? 0) };
}

export function getImportError(knex: Knex, id: number): Promise<ImportErrorRecord | undefined> {
  return knex('import_error').where('id', id).first(COLUMNS);
}
