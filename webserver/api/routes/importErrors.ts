import { z } from 'zod';
import { isoOrNull } from '../../../core/isoDate.ts';
import { sortFrom } from '../../../db/models/base.ts';
import { defineRoute, pagination } from '../defineRoute.ts';
import { notFound } from '../problems.ts';

/** Import errors: files the DAG processor could not load (written by db/dagFileRecords.ts). */

interface ImportErrorRecord {
  id: number;
  filename: string;
  timestamp: Date;
  stacktrace: string;
}

/** Airflow's ImportError. */
function importErrorJson(row: ImportErrorRecord) {
  return { import_error_id: row.id, timestamp: isoOrNull(row.timestamp), filename: row.filename, stack_trace: row.stacktrace };
}

const SORTABLE = { import_error_id: 'id', timestamp: 'timestamp', filename: 'filename' };
const COLUMNS = ['id', 'filename', 'timestamp', 'stacktrace'];
const INT4_MAX = 2_147_483_647;

export const importErrorsRoutes = [
  defineRoute({
    method: 'get',
    path: '/importErrors',
    summary: 'List import errors',
    tag: 'ImportError',
    permission: 'read',
    query: z.object({ ...pagination, order_by: z.string().optional() }),
    handler: async ({ query }, { knex }) => {
      const sort = sortFrom(query.order_by, SORTABLE, 'import_error_id');
      const [counted] = await knex('import_error').count({ n: '*' });
      const rows: ImportErrorRecord[] = await knex('import_error')
        .orderBy(sort.column, sort.descending ? 'desc' : 'asc')
        .orderBy('id')
        .limit(query.limit)
        .offset(query.offset)
        .select(COLUMNS);
      return { import_errors: rows.map(importErrorJson), total_entries: Number(counted?.n ?? 0) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/importErrors/{import_error_id}',
    summary: 'Get an import error',
    tag: 'ImportError',
    permission: 'read',
    params: z.object({
      import_error_id: z
        .string()
        .regex(/^-?\d+$/, 'import_error_id must be an integer')
        .transform(Number),
    }),
    responses: { 404: 'Import error not found' },
    handler: async ({ params }, { knex }) => {
      const id = params.import_error_id;
      // Ids are int4: a bigger number cannot name a row (and must not reach Postgres as an out-of-range integer).
      const row: ImportErrorRecord | undefined = Math.abs(id) <= INT4_MAX ? await knex('import_error').where('id', id).first(COLUMNS) : undefined;
      if (!row) throw notFound(`Import error ${id} not found`);
      return importErrorJson(row);
    },
  }),
];
