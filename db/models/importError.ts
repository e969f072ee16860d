import type { Knex } from 'knex';

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
