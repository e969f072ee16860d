import type { Knex } from 'knex';
import { z } from 'zod';
import { DagNotFoundError } from '../../../core/errors.ts';
import { isoOrNull } from '../../../core/isoDate.ts';
import type { SerializedDag } from '../../../core/serialize.ts';
import { sortFrom } from '../../../db/models/base.ts';
import { fileToken } from '../../../db/models/dagCode.ts';
import { filteredDags, setPaused } from '../../../db/models/dag.ts';
import { deleteDagMetadata } from '../../../services/deleteDag.ts';
import { defineRoute, pagination, queryBool, queryList, Reply } from '../defineRoute.ts';
import { badRequest } from '../problems.ts';

/** Airflow's DAG object. */
export function dagJson(row: Record<string, any>) {
  return {
    dag_id: row.dag_id,
    dag_display_name: row.dag_id,
    root_dag_id: null,
    is_paused: row.is_paused,
    is_active: row.is_active,
    is_subdag: false,
    last_parsed_time: isoOrNull(row.last_parsed_time),
    last_pickled: null,
    last_expired: null,
    scheduler_lock: null,
    pickle_id: null,
    default_view: 'grid',
    fileloc: row.fileloc,
    file_token: fileToken(row.fileloc),
    owners: String(row.owners ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    description: row.description,
    schedule_interval: scheduleInterval(row.schedule),
    timetable_description: row.timetable_summary,
    tags: (row.tags as string[]).map((name) => ({ name })),
    max_active_tasks: row.max_active_tasks,
    max_active_runs: row.max_active_runs,
    has_task_concurrency_limits: false,
    has_import_errors: row.has_import_errors,
    next_dagrun: isoOrNull(row.next_dagrun),
    next_dagrun_data_interval_start: isoOrNull(row.next_dagrun_data_interval_start),
    next_dagrun_data_interval_end: isoOrNull(row.next_dagrun_data_interval_end),
    next_dagrun_create_after: isoOrNull(row.next_dagrun_create_after),
  };
}

/** Airflow's ScheduleInterval: a cron expression or a TimeDelta, tagged with __type. */
function scheduleInterval(schedule: SerializedDag['schedule']) {
  if (schedule === null || schedule === undefined) return null;
  if (typeof schedule === 'string') return { __type: 'CronExpression', value: schedule };
  const seconds = Math.floor(schedule.everyMs / 1000);
  return { __type: 'TimeDelta', days: Math.floor(seconds / 86_400), seconds: seconds % 86_400, microseconds: (schedule.everyMs % 1000) * 1000 };
}

/** order_by values and their columns; prefix - for descending. */
const ORDERABLE: Record<string, string> = {
  dag_id: 'dag_id',
  last_parsed_time: 'last_parsed_time',
  next_dagrun: 'next_dagrun',
  is_paused: 'is_paused',
  fileloc: 'fileloc',
};

const listQuery = z.object({
  ...pagination,
  order_by: z.string().optional(),
  tags: queryList,
  only_active: queryBool,
  paused: queryBool,
  dag_id_pattern: z.string().optional(),
});

const dagIdParams = z.object({ dag_id: z.string() });
const patchBody = z.strictObject({ is_paused: z.boolean() });
const updateMask = z.object({ update_mask: queryList });

function checkMask(mask: string[] | undefined): void {
  const unknown = (mask ?? []).filter((field) => field !== 'is_paused');
  if (unknown.length) throw badRequest(`Only is_paused can be updated; update_mask named ${unknown.join(', ')}`);
}

async function getDagRow(knex: Knex, dagId: string) {
  const row = await knex('dag').where('dag_id', dagId).first();
  if (!row) throw new DagNotFoundError(dagId);
  return row;
}

export const dagRoutes = [
  defineRoute({
    method: 'get',
    path: '/dags',
    summary: 'List DAGs',
    tag: 'DAG',
    permission: 'read',
    query: listQuery,
    handler: async ({ query }, { knex }) => {
      const filters = { tags: query.tags, onlyActive: query.only_active, paused: query.paused, pattern: query.dag_id_pattern };
      const sort = sortFrom(query.order_by, ORDERABLE, 'dag_id');
      const [counted] = await filteredDags(knex, filters).count({ n: '*' });
      const rows = await filteredDags(knex, filters)
        .orderBy(sort.column, sort.descending ? 'desc' : 'asc')
        .orderBy('dag_id')
        .limit(query.limit)
        .offset(query.offset);
      return { dags: rows.map(dagJson), total_entries: Number(counted?.n ?? 0) };
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/dags',
    summary: 'Pause or unpause the DAGs whose id matches dag_id_pattern (~ for all)',
    tag: 'DAG',
    permission: 'editDags',
    query: listQuery.extend({ dag_id_pattern: z.string({ error: 'dag_id_pattern is required (~ for all DAGs)' }) }).merge(updateMask),
    body: patchBody,
    handler: async ({ query, body }, { knex }) => {
      checkMask(query.update_mask);
      const ids: string[] = await filteredDags(knex, { tags: query.tags, onlyActive: query.only_active, pattern: query.dag_id_pattern })
        .orderBy('dag_id')
        .limit(query.limit)
        .offset(query.offset)
        .pluck('dag_id');
      for (const dagId of ids) await setPaused(knex, dagId, body.is_paused);
      const rows = await knex('dag').whereIn('dag_id', ids).orderBy('dag_id');
      return { dags: rows.map(dagJson), total_entries: rows.length };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}',
    summary: 'Get a DAG',
    tag: 'DAG',
    permission: 'read',
    params: dagIdParams,
    responses: { 404: 'DAG not found' },
    handler: async ({ params }, { knex }) => dagJson(await getDagRow(knex, params.dag_id)),
  }),
  defineRoute({
    method: 'patch',
    path: '/dags/{dag_id}',
    summary: 'Pause or unpause a DAG',
    tag: 'DAG',
    permission: 'editDags',
    params: dagIdParams,
    query: updateMask,
    body: patchBody,
    responses: { 404: 'DAG not found' },
    handler: async ({ params, query, body }, { knex }) => {
      checkMask(query.update_mask);
      await setPaused(knex, params.dag_id, body.is_paused); // the CLI's pause/unpause: same rule, same wake-up
      return dagJson(await getDagRow(knex, params.dag_id));
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/dags/{dag_id}',
    summary: "Delete a DAG's metadata (runs, task instances, XComs); the file stays and is parsed again",
    tag: 'DAG',
    permission: 'editDags',
    params: dagIdParams,
    responses: { 204: 'Deleted', 404: 'DAG not found', 409: 'The DAG has running task instances' },
    handler: async ({ params }, { knex }) => {
      await deleteDagMetadata(knex, params.dag_id); // DagHasRunningTasksError: 409, its own status
      return new Reply(204);
    },
  }),
];
