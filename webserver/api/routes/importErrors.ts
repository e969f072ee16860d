import { z } from 'zod';
import { isoOrNull } from '../../../core/isoDate.ts';
import { sortFrom } from '../../../db/models/base.ts';
import { getImportError, type ImportErrorRecord, importErrorsPage } from '../../../db/models/importError.ts';
import { defineRoute, pagination } from '../defineRoute.ts';
import { notFound } from '../problems.ts';

/** Import errors: files the DAG processor could not load (written by db/dagFileRecords.ts). */

/** Airflow's ImportError. */
function importErrorJson(row: ImportErrorRecord) {
  return { import_error_id: row.id, timestamp: isoOrNull(row.timestamp), filename: row.filename, stack_trace: row.stacktrace };
}

const SORTABLE = { import_error_id: 'id', timestamp: 'timestamp', filename: 'filename' };
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
      const { rows, total } = await importErrorsPage(knex, sort, query.limit, query.offset);
      return { import_errors: rows.map(importErrorJson), total_entries: total };
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
      const row = Math.abs(id) <= INT4_MAX ? await getImportError(knex, id) : undefined;
      if (!row) throw notFound(`Import error ${id} not found`);
      return importErrorJson(row);
    },
  }),
];
