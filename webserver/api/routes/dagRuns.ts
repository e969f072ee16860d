import type { Knex } from 'knex';
import { z } from 'zod';
import { sortFrom } from '../../../db/models/base.ts';
import { type DagRunFilters, filteredDagRunsPage, findDagRun } from '../../../db/models/dagRun.ts';
import { getSerializedDag } from '../../../db/models/serializedDag.ts';
import type { DagRunRow } from '../../../db/rows.ts';
import { clearTaskInstances } from '../../../services/clearTaskInstances.ts';
import { deleteDagRun } from '../../../services/deleteDagRun.ts';
import { setDagRunState } from '../../../services/setDagRunState.ts';
import { triggerDagRun } from '../../../services/triggerDagRun.ts';
import { defineRoute, pagination, Reply } from '../defineRoute.ts';
import { checkDagAndRun, dagAndRun } from '../lookups.ts';
import { dagRunJson } from '../mappers/dagRun.ts';
import { taskInstanceJson } from '../mappers/taskInstance.ts';
import { badRequest, notFound } from '../problems.ts';
import { batchBody, dagParams, runParams, runState, triggerBody } from '../schemas/dagRuns.ts';
import { dateRangeFields, dateRanges, queryArray } from '../schemas/fields.ts';

/** order_by values (Airflow's names) and their columns; prefix - for descending. */
const ORDERABLE: Record<string, string> = {
  id: 'id',
  dag_id: 'dag_id',
  dag_run_id: 'run_id',
  state: 'state',
  execution_date: 'logical_date',
  logical_date: 'logical_date',
  start_date: 'start_date',
  end_date: 'end_date',
  updated_at: 'updated_at',
  external_trigger: 'external_trigger',
};

async function listDagRuns(knex: Knex, filters: DagRunFilters, orderBy: string | undefined, limit: number, offset: number) {
  const { rows, total } = await filteredDagRunsPage(knex, filters, sortFrom(orderBy, ORDERABLE, 'id'), limit, offset);
  return { dag_runs: rows.map(dagRunJson), total_entries: total };
}

async function getRun(knex: Knex, dagId: string, runId: string): Promise<DagRunRow> {
  const run = await findDagRun(knex, dagId, runId);
  if (!run) throw notFound(`DAG '${dagId}' has no run '${runId}'`);
  return run;
}

export const dagRunsRoutes = [
  defineRoute({
    method: 'post',
    path: '/dags/~/dagRuns/list',
    summary: 'List dag runs of any DAGs, filtered by a JSON body',
    tag: 'DAGRun',
    permission: 'read',
    body: batchBody,
    handler: async ({ body }, { knex }) =>
      listDagRuns(knex, { dagIds: body.dag_ids, states: body.states, ...dateRanges(body) }, body.order_by, body.page_limit, body.page_offset),
  }),
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}/dagRuns',
    summary: "List a DAG's runs (~ as dag_id for every DAG)",
    tag: 'DAGRun',
    permission: 'read',
    params: dagParams,
    query: z.object({ ...pagination, ...dateRangeFields, state: queryArray(runState), order_by: z.string().optional() }),
    responses: { 404: 'DAG not found' },
    handler: async ({ params, query }, { knex }) => {
      await checkDagAndRun(knex, params.dag_id, '~');
      const dagIds = params.dag_id === '~' ? undefined : [params.dag_id];
      return listDagRuns(knex, { dagIds, states: query.state, ...dateRanges(query) }, query.order_by, query.limit, query.offset);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/dags/{dag_id}/dagRuns',
    summary: "Trigger a run (conf is checked against the DAG's params; a paused DAG's run waits in queued)",
    tag: 'DAGRun',
    permission: 'editDags',
    params: dagParams,
    body: triggerBody,
    responses: { 404: 'DAG not found', 409: 'A run with this run id or logical date exists' },
    handler: async ({ params, body }, { knex, now }) => {
      if (body.data_interval_start !== undefined || body.data_interval_end !== undefined) {
        throw badRequest("data_interval_start/data_interval_end cannot be set: the DAG's timetable infers a manual run's data interval from its logical date");
      }
      const { logical_date: logical, execution_date: execution } = body;
      if (logical && execution && logical.getTime() !== execution.getTime()) throw badRequest('logical_date and execution_date differ; give one of them');
      const run = await triggerDagRun(knex, {
        dagId: params.dag_id,
        runId: body.dag_run_id ?? undefined,
        logicalDate: logical ?? execution ?? undefined,
        conf: body.conf ?? {},
        note: body.note ?? null,
        now: now(),
      });
      return dagRunJson(run);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}',
    summary: 'Get a dag run',
    tag: 'DAGRun',
    permission: 'read',
    params: runParams,
    responses: { 404: 'Run not found' },
    handler: async ({ params }, { knex }) => dagRunJson(await getRun(knex, params.dag_id, params.dag_run_id)),
  }),
  defineRoute({
    method: 'patch',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}',
    summary: 'Mark a run success or failed (with its unfinished task instances), or re-queue it (clearing its task instances)',
    tag: 'DAGRun',
    permission: 'editDags',
    params: runParams,
    body: z.strictObject({ state: z.enum(['success', 'failed', 'queued'], { error: 'state must be success, failed or queued' }) }),
    responses: { 404: 'DAG or run not found' },
    handler: async ({ params, body }, { knex, now }) => {
      const dag = await getSerializedDag(knex, params.dag_id);
      const result = await setDagRunState(knex, { dagId: params.dag_id, runId: params.dag_run_id, state: body.state, dag, now: now() });
      if (!result) throw notFound(`DAG '${params.dag_id}' has no run '${params.dag_run_id}'`);
      return dagRunJson(result.run);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}',
    summary: 'Delete a run with its task instances and XComs (log files stay)',
    tag: 'DAGRun',
    permission: 'editDags',
    params: runParams,
    responses: { 204: 'Deleted', 404: 'Run not found', 409: 'The run has running task instances' },
    handler: async ({ params }, { knex }) => {
      await deleteDagRun(knex, params.dag_id, params.dag_run_id);
      return new Reply(204);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}/clear',
    summary: 'Clear every task instance of a run so it runs again; dry_run (true by default) lists them instead',
    tag: 'DAGRun',
    permission: 'editDags',
    params: runParams,
    body: z.strictObject({ dry_run: z.boolean().default(true) }),
    responses: { 404: 'DAG or run not found' },
    handler: async ({ params, body }, { knex, now }) => {
      const { dag, run } = await dagAndRun(knex, params.dag_id, params.dag_run_id);
      const tis = await clearTaskInstances(knex, { dag, runIds: [run.run_id], taskIds: dag.tasks.map((t) => t.taskId), dryRun: body.dry_run, now: now() });
      if (body.dry_run) {
        tis.sort((a, b) => a.task_id.localeCompare(b.task_id) || a.map_index - b.map_index);
        return { task_instances: tis.map((ti) => taskInstanceJson({ ...ti, execution_date: run.logical_date })), total_entries: tis.length };
      }
      return dagRunJson(await getRun(knex, params.dag_id, params.dag_run_id));
    },
  }),
];
