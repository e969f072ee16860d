import { z } from 'zod';
import { pagination } from '../defineRoute.ts';
import { dateRangeFields, dbText, isoDateTime, queryArray, queryNumber, tiStateFilter } from './fields.ts';

/** Request schemas of the task-instance routes (routes/taskInstances.ts). */

export const runParams = z.object({ dag_id: dbText, dag_run_id: dbText });
export const tiParams = runParams.extend({ task_id: dbText });
/** A mapped task instance's address: map_index is 0 and up (-1 is the unmapped URL's). */
export const mappedTiParams = tiParams.extend({
  map_index: z
    .string()
    .regex(/^\d{1,7}$/, 'map_index must be an integer from 0 to 1000000')
    .transform(Number)
    .pipe(z.number().int().max(1_000_000)),
});
export const markState = z.enum(['success', 'failed'], { error: 'new_state must be success or failed' });

export const listQuery = z.object({
  ...pagination,
  ...dateRangeFields,
  state: queryArray(tiStateFilter),
  pool: queryArray(dbText),
  queue: queryArray(dbText),
  duration_gte: queryNumber,
  duration_lte: queryNumber,
});

export const batchBody = z.strictObject({
  dag_ids: z.array(dbText).optional(),
  dag_run_ids: z.array(dbText).optional(),
  task_ids: z.array(dbText).optional(),
  ...dateRangeFields,
  duration_gte: z.number().optional(),
  duration_lte: z.number().optional(),
  state: z.array(tiStateFilter).optional(),
  pool: z.array(dbText).optional(),
  queue: z.array(dbText).optional(),
  page_offset: z.number().int().min(0).default(0),
  page_limit: z.number().int().min(1).max(1000).default(100),
});

export const clearBody = z
  .strictObject({
    dry_run: z.boolean().default(true),
    task_ids: z.array(dbText).min(1).optional(),
    dag_run_id: dbText.nullable().optional(),
    start_date: isoDateTime.optional(),
    end_date: isoDateTime.optional(),
    only_failed: z.boolean().default(true),
    only_running: z.boolean().default(false),
    reset_dag_runs: z.boolean().default(true),
    include_upstream: z.boolean().default(false),
    include_downstream: z.boolean().default(false),
    include_future: z.boolean().default(false),
    include_past: z.boolean().default(false),
    // Accepted for compatibility; airflow-ts has no subDAGs.
    include_subdags: z.boolean().optional(),
    include_parentdag: z.boolean().optional(),
  })
  .refine((b) => !b.start_date || !b.end_date || b.start_date <= b.end_date, { message: 'end_date is before start_date', path: ['end_date'] });

export const updateStateBody = z
  .strictObject({
    dry_run: z.boolean().default(true),
    task_id: dbText,
    dag_run_id: dbText.optional(),
    execution_date: isoDateTime.optional(),
    include_upstream: z.boolean().default(false),
    include_downstream: z.boolean().default(false),
    include_future: z.boolean().default(false),
    include_past: z.boolean().default(false),
    new_state: markState,
  })
  .refine((b) => (b.dag_run_id === undefined) !== (b.execution_date === undefined), {
    message: 'give exactly one of dag_run_id and execution_date',
    path: ['dag_run_id'],
  });
