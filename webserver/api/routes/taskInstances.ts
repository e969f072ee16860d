import type { Knex } from 'knex';
import { z } from 'zod';
import type { SerializedDag } from '../../../core/serialize.ts';
import { findDagRun, findDagRunAt } from '../../../db/models/dagRun.ts';
import { getSerializedDag } from '../../../db/models/serializedDag.ts';
import { sortFrom } from '../../../db/models/base.ts';
import {
  filteredTaskInstancesPage,
  findTaskInstance,
  sortedTaskInstancesPage,
  taskInstanceExists,
  type TaskInstanceFilters,
  type TaskInstanceWithDate,
} from '../../../db/models/taskInstanceListing.ts';
import { deferralsOf } from '../../../db/models/trigger.ts';
import { renderedFieldsOf } from '../../../db/models/renderedTaskInstanceFields.ts';
import { xcomsOfTaskInstance } from '../../../db/models/xcom.ts';
import { operatorExtraLinks } from '../../operatorExtraLinks.ts';
import { decodeLogToken, encodeLogToken, LOG_CHUNK_BYTES, readTryLog } from '../../../logging/taskLogReader.ts';
import { onlyStates, runsToClear } from '../../../services/clearScope.ts';
import { clearTaskInstances } from '../../../services/clearTaskInstances.ts';
import { assertMarkable, markTaskInstances } from '../../../services/markTaskInstances.ts';
import { defineRoute, queryBool, queryInt, Reply } from '../defineRoute.ts';
import { checkDagAndRun, dagAndRun } from '../lookups.ts';
import { taskInstanceJson, taskInstanceReference } from '../mappers/taskInstance.ts';
import { badRequest, notFound } from '../problems.ts';
import { dateRanges, dbText } from '../schemas/fields.ts';
import { batchBody, clearBody, listQuery, mappedTiParams, markState, runParams, tiParams, updateStateBody } from '../schemas/taskInstances.ts';

/** The task-instance routes: listing, getting, marking, clearing and a try's log. */

async function listTaskInstances(knex: Knex, filters: TaskInstanceFilters, limit: number, offset: number) {
  const { rows, total } = await filteredTaskInstancesPage(knex, filters, limit, offset);
  return { task_instances: await taskInstancesJson(knex, rows), total_entries: total };
}

/** Task instances as Airflow's JSON, a deferred one with its trigger and triggerer (one query for the page). */
async function taskInstancesJson(knex: Knex, rows: TaskInstanceWithDate[]) {
  const deferrals = await deferralsOf(knex, rows);
  return rows.map((ti) => taskInstanceJson(ti, deferrals.get(ti.id)));
}

// ---------------------------------------------------------------- logs

/** A continuation token's offset; a token this endpoint did not hand out is a 400. */
function logOffset(token: string | undefined): number {
  const offset = decodeLogToken(token);
  if (offset === null) throw badRequest('token is not a continuation token returned by this endpoint');
  return offset;
}

// ---------------------------------------------------------------- routes

const tiKey = (p: z.infer<typeof tiParams> & { map_index?: number }) => ({
  dagId: p.dag_id,
  runId: p.dag_run_id,
  taskId: p.task_id,
  mapIndex: p.map_index ?? -1,
});

/** listMapped's order_by values (Airflow's names) and their task_instance columns. */
const MAPPED_ORDERABLE: Record<string, string> = {
  map_index: 'map_index',
  state: 'state',
  start_date: 'start_date',
  end_date: 'end_date',
  duration: 'duration',
  try_number: 'try_number',
  updated_at: 'updated_at',
};

/**
 * The addressed task instance, or a 404. As in Airflow, the URL without a map index names only an
 * unmapped (or not yet expanded) instance; an expanded task's instances need the map index.
 */
async function taskInstanceOr404(knex: Knex, params: z.infer<typeof tiParams> & { map_index?: number }) {
  const ti = await findTaskInstance(knex, tiKey(params));
  if (ti) return ti;
  const where = `in run '${params.dag_run_id}' of DAG '${params.dag_id}'`;
  if (params.map_index === undefined && (await taskInstanceExists(knex, tiKey(params))))
    throw notFound(`Task instance '${params.task_id}' ${where} is mapped: add the map_index to the URL`);
  throw notFound(`No task instance '${params.task_id}'${params.map_index === undefined ? '' : ` (map index ${params.map_index})`} ${where}`);
}

/** PATCH's body and answer, for an unmapped task instance or one map index. */
const patchTaskInstance = async (
  knex: Knex,
  now: () => Date,
  params: z.infer<typeof tiParams> & { map_index?: number },
  body: { dry_run: boolean; new_state: 'success' | 'failed' },
) => {
  const ti = await taskInstanceOr404(knex, params);
  assertMarkable(ti, body.new_state);
  if (!body.dry_run && ti.state !== body.new_state) {
    const { dag, run } = await dagAndRun(knex, params.dag_id, params.dag_run_id);
    await markTaskInstances(knex, { dag, run, taskIds: [ti.task_id], mapIndex: ti.map_index, state: body.new_state, dryRun: false, now: now() });
  }
  return taskInstanceReference(ti);
};
const patchBody = z.strictObject({ dry_run: z.boolean().default(true), new_state: markState });

function checkTasks(dag: SerializedDag, taskIds: readonly string[]): void {
  const known = new Set(dag.tasks.map((t) => t.taskId));
  const unknown = taskIds.filter((id) => !known.has(id));
  if (unknown.length) throw notFound(`DAG '${dag.dagId}' has no task ${unknown.map((id) => `'${id}'`).join(', ')}`);
}

function byDateAndTask<T extends { execution_date: Date; task_id: string; map_index: number }>(rows: T[]): T[] {
  return rows.sort((a, b) => a.execution_date.getTime() - b.execution_date.getTime() || a.task_id.localeCompare(b.task_id) || a.map_index - b.map_index);
}

export const taskInstancesRoutes = [
  defineRoute({
    method: 'post',
    path: '/dags/~/dagRuns/~/taskInstances/list',
    summary: 'List task instances of any DAGs and runs, filtered by a JSON body (page_offset/page_limit page it, 100 by default)',
    tag: 'TaskInstance',
    permission: 'read',
    body: batchBody,
    handler: async ({ body }, { knex }) =>
      listTaskInstances(
        knex,
        {
          dagIds: body.dag_ids,
          runIds: body.dag_run_ids,
          taskIds: body.task_ids,
          states: body.state,
          pools: body.pool,
          queues: body.queue,
          duration: { gte: body.duration_gte, lte: body.duration_lte },
          ...dateRanges(body),
        },
        body.page_limit,
        body.page_offset,
      ),
  }),
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances',
    summary: 'List the task instances of a run (~ as dag_id and/or dag_run_id for all)',
    tag: 'TaskInstance',
    permission: 'read',
    params: runParams,
    query: listQuery,
    responses: { 404: 'DAG or run not found' },
    handler: async ({ params, query }, { knex }) => {
      await checkDagAndRun(knex, params.dag_id, params.dag_run_id);
      const filters: TaskInstanceFilters = {
        dagIds: params.dag_id === '~' ? undefined : [params.dag_id],
        runIds: params.dag_run_id === '~' ? undefined : [params.dag_run_id],
        states: query.state,
        pools: query.pool,
        queues: query.queue,
        duration: { gte: query.duration_gte, lte: query.duration_lte },
        ...dateRanges(query),
      };
      return listTaskInstances(knex, filters, query.limit, query.offset);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}',
    summary: 'Get a task instance (of an expanded mapped task: 404, use .../{task_id}/{map_index})',
    tag: 'TaskInstance',
    permission: 'read',
    params: tiParams,
    responses: { 404: 'Task instance not found' },
    handler: async ({ params }, { knex }) => (await taskInstancesJson(knex, [await taskInstanceOr404(knex, params)]))[0],
  }),
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/links',
    summary: 'A task instance\'s operator extra links by name (a TriggerDagRunOperator\'s "Triggered DAG")',
    tag: 'TaskInstance',
    permission: 'read',
    params: tiParams,
    responses: { 404: 'Task instance not found' },
    handler: async ({ params }, { knex }) => {
      const ti = await taskInstanceOr404(knex, params);
      const key = { dagId: ti.dag_id, runId: ti.run_id, taskId: ti.task_id, mapIndex: ti.map_index };
      const task = (await getSerializedDag(knex, ti.dag_id)).tasks.find((t) => t.taskId === ti.task_id) ?? null;
      const found = operatorExtraLinks(task, await xcomsOfTaskInstance(knex, key), await renderedFieldsOf(knex, key));
      return Object.fromEntries(found.map((link) => [link.name, link.href]));
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}',
    summary: 'Mark a task instance success or failed (dry_run, true by default, only says which)',
    tag: 'TaskInstance',
    permission: 'editDags',
    params: tiParams,
    body: patchBody,
    responses: { 404: 'Task instance not found', 409: 'The task instance cannot enter that state (e.g. it was removed)' },
    handler: async ({ params, body }, { knex, now }) => patchTaskInstance(knex, now, params, body),
  }),
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/listMapped',
    summary: "List a mapped task's expanded instances in a run (order_by map_index by default; - for descending; filters as the run's list)",
    tag: 'TaskInstance',
    permission: 'read',
    params: tiParams,
    query: listQuery.extend({ order_by: z.string().optional() }),
    responses: { 404: 'DAG, run or task not found' },
    handler: async ({ params, query }, { knex }) => {
      const { dag } = await dagAndRun(knex, params.dag_id, params.dag_run_id);
      checkTasks(dag, [params.task_id]);
      const filters: TaskInstanceFilters = {
        dagIds: [params.dag_id],
        runIds: [params.dag_run_id],
        taskIds: [params.task_id],
        mappedOnly: true,
        states: query.state,
        pools: query.pool,
        queues: query.queue,
        duration: { gte: query.duration_gte, lte: query.duration_lte },
        ...dateRanges(query),
      };
      const sort = sortFrom(query.order_by, MAPPED_ORDERABLE, 'map_index');
      const { rows, total } = await sortedTaskInstancesPage(knex, filters, sort, query.limit, query.offset);
      return { task_instances: await taskInstancesJson(knex, rows), total_entries: total };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}',
    summary: 'Get one instance of a mapped task',
    tag: 'TaskInstance',
    permission: 'read',
    params: mappedTiParams,
    responses: { 404: 'Task instance not found' },
    handler: async ({ params }, { knex }) => (await taskInstancesJson(knex, [await taskInstanceOr404(knex, params)]))[0],
  }),
  defineRoute({
    method: 'patch',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}',
    summary: 'Mark one instance of a mapped task success or failed (dry_run, true by default, only says which)',
    tag: 'TaskInstance',
    permission: 'editDags',
    params: mappedTiParams,
    body: patchBody,
    responses: { 404: 'Task instance not found', 409: 'The task instance cannot enter that state (e.g. it was removed)' },
    handler: async ({ params, body }, { knex, now }) => patchTaskInstance(knex, now, params, body),
  }),
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{task_try_number}',
    summary:
      "A try's log: text with Accept: text/plain, else {continuation_token, content}; pass the token back to get only what was written since. " +
      'A try whose log file does not exist (yet) reads as empty content.',
    tag: 'TaskInstance',
    permission: 'read',
    params: tiParams.extend({
      task_try_number: z
        .string()
        .regex(/^\d{1,6}$/, 'task_try_number must be an integer from 1 to 999999')
        .transform(Number)
        .pipe(z.number().int().min(1)),
    }),
    query: z.object({ full_content: queryBool, map_index: queryInt(-1, 1_000_000, -1), token: z.string().optional() }),
    responses: { 404: 'Task instance not found' },
    handler: async ({ params, query, req, res }, { knex, config, logger }) => {
      const ti = await findTaskInstance(knex, { ...tiKey(params), mapIndex: query.map_index });
      if (!ti) throw notFound(`No task instance '${params.task_id}' (map index ${query.map_index}) in run '${params.dag_run_id}' of DAG '${params.dag_id}'`);
      const tryKey = { dagId: ti.dag_id, runId: ti.run_id, taskId: ti.task_id, mapIndex: ti.map_index, tryNumber: params.task_try_number };
      const read = await readTryLog(config, logger, tryKey, logOffset(query.token), query.full_content ? Number.MAX_SAFE_INTEGER : LOG_CHUNK_BYTES);
      if (!read) throw notFound('No log for this task instance');
      const { content, next } = read;
      const token = encodeLogToken(next);
      if (req.accepts(['application/json', 'text/plain']) === 'text/plain') {
        res.setHeader('X-Continuation-Token', token);
        return new Reply(200, content, 'text/plain; charset=utf-8');
      }
      return { continuation_token: token, content };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/dags/{dag_id}/clearTaskInstances',
    summary:
      'Clear task instances of a DAG so the scheduler runs them again (dry_run, true by default, only lists them; only_failed is true by default, as in Airflow)',
    tag: 'DAG',
    permission: 'editDags',
    params: z.object({ dag_id: dbText }),
    body: clearBody,
    responses: { 404: 'DAG, run or task not found' },
    handler: async ({ params, body }, { knex, now }) => {
      const dag = await getSerializedDag(knex, params.dag_id);
      if (body.task_ids) checkTasks(dag, body.task_ids);
      if (!body.reset_dag_runs)
        throw badRequest('reset_dag_runs=false is not supported: clearing always sends finished runs back to queued so their cleared tasks run again');
      const dates = await runsToClear(knex, dag.dagId, {
        runId: body.dag_run_id,
        start: body.start_date,
        end: body.end_date,
        includePast: body.include_past,
        includeFuture: body.include_future,
      });
      const tis = await clearTaskInstances(knex, {
        dag,
        runIds: [...dates.keys()],
        taskIds: body.task_ids ?? dag.tasks.map((t) => t.taskId),
        upstream: body.include_upstream,
        downstream: body.include_downstream,
        onlyStates: onlyStates({ onlyFailed: body.only_failed, onlyRunning: body.only_running }),
        dryRun: body.dry_run,
        now: now(),
      });
      return { task_instances: byDateAndTask(tis.map((ti) => ({ ...ti, execution_date: dates.get(ti.run_id)! }))).map(taskInstanceReference) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/dags/{dag_id}/updateTaskInstancesState',
    summary:
      'Mark a task (and optionally its upstream, downstream, past and future task instances) success or failed (dry_run, true by default, only lists them)',
    tag: 'DAG',
    permission: 'editDags',
    params: z.object({ dag_id: dbText }),
    body: updateStateBody,
    responses: { 404: 'DAG, task or run not found' },
    handler: async ({ params, body }, { knex, now }) => {
      const dag = await getSerializedDag(knex, params.dag_id);
      checkTasks(dag, [body.task_id]);
      const run = body.dag_run_id ? await findDagRun(knex, dag.dagId, body.dag_run_id) : await findDagRunAt(knex, dag.dagId, body.execution_date!);
      if (!run) throw notFound(`DAG '${dag.dagId}' has no run ${body.dag_run_id ? `'${body.dag_run_id}'` : `at ${body.execution_date!.toISOString()}`}`);
      const marked = await markTaskInstances(knex, {
        dag,
        run,
        taskIds: [body.task_id],
        upstream: body.include_upstream,
        downstream: body.include_downstream,
        past: body.include_past,
        future: body.include_future,
        state: body.new_state,
        dryRun: body.dry_run,
        now: now(),
      });
      return { task_instances: marked.map(taskInstanceReference) };
    },
  }),
];
