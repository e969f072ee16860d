import { z } from 'zod';
import { DAG_RUN_STATES } from '../../../core/state.ts';
import { dateRangeFields, dbText, isoDateTime, jsonbProblem } from './fields.ts';

/** Request schemas of the dag-run routes (routes/dagRuns.ts) and the UI's trigger form. */

export const runState = z.enum(DAG_RUN_STATES);
export const dagParams = z.object({ dag_id: dbText });
export const runParams = dagParams.extend({ dag_run_id: dbText });

/** Airflow's default scheduler.allowed_run_id_pattern; '~' alone would be the wildcard. */
const runId = z
  .string()
  .max(250)
  .regex(/^[A-Za-z0-9_.~:+-]+$/, 'dag_run_id may only contain letters, digits and _ . ~ : + -')
  .refine((id) => id !== '~', '~ is the wildcard, not a run id');

export const triggerBody = z.strictObject({
  dag_run_id: runId.nullable().optional(),
  logical_date: isoDateTime.nullable().optional(),
  execution_date: isoDateTime.nullable().optional(),
  conf: z
    .record(z.string(), z.unknown())
    .superRefine((conf, ctx) => {
      const problem = jsonbProblem(conf);
      if (problem) ctx.addIssue({ code: 'custom', message: `conf ${problem}` });
    })
    .nullable()
    .optional(),
  note: dbText.nullable().optional(),
  data_interval_start: z.unknown().optional(),
  data_interval_end: z.unknown().optional(),
});

export const batchBody = z.strictObject({
  order_by: z.string().optional(),
  page_offset: z.number().int().min(0).default(0),
  page_limit: z.number().int().min(1).max(1000).default(100),
  dag_ids: z.array(dbText).optional(),
  states: z.array(runState).optional(),
  ...dateRangeFields,
});
