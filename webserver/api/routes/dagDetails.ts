import type { Knex } from 'knex';
import { z } from 'zod';
import type { ResolvedConfig } from '../../../config/schema.ts';
import { DagNotFoundError } from '../../../core/errors.ts';
import type { SerializedParam } from '../../../core/param.ts';
import type { SerializedDag, SerializedTask } from '../../../core/serialize.ts';
import { pgText, sortFrom } from '../../../db/models/base.ts';
import { getDagWithSerialized } from '../../../db/models/dag.ts';
import { defineRoute, queryList } from '../defineRoute.ts';
import { dagJson } from '../mappers/dag.ts';
import { badRequest, notFound } from '../problems.ts';

/**
 * GET /dags/{dag_id}/details and the DAG's tasks, built from the serialized
 * DAG the processor stored: the webserver never imports DAG files (ADR 0001).
 */

/** Airflow's TimeDelta for a duration in milliseconds. */
export function timeDelta(ms: number | null | undefined) {
  if (ms === null || ms === undefined) return null;
  const wholeSeconds = Math.floor(ms / 1000);
  return {
    __type: 'TimeDelta',
    days: Math.floor(wholeSeconds / 86_400),
    seconds: wholeSeconds % 86_400,
    microseconds: Math.round((ms - wholeSeconds * 1000) * 1000),
  };
}

/** ISO date as the rest of the API prints them (2025-01-01T00:00:00.000+00:00). */
const isoDate = (value: string | null) => (value ? new Date(value).toISOString().replace('Z', '+00:00') : null);

/** Params as Airflow's Param.dump(): value (the default; null when a run must supply it), description, JSON schema. */
function paramsJson(params: Record<string, SerializedParam>) {
  return Object.fromEntries(
    Object.entries(params).map(([name, p]) => [
      name,
      { __class: 'airflow.models.param.Param', value: p.default ?? null, description: p.description ?? null, schema: p.schema },
    ]),
  );
}

/** The built-in operators, from the package DAG files import them from, with the colours of their Airflow counterparts. */
const BUILT_IN: Record<string, { uiColor: string }> = {
  BashOperator: { uiColor: '#f0ede4' },
  EmptyOperator: { uiColor: '#e8f7e4' },
  FunctionOperator: { uiColor: '#ffefeb' },
  BranchOperator: { uiColor: '#ffefeb' },
  ShortCircuitOperator: { uiColor: '#ffefeb' },
  TaskFlowOperator: { uiColor: '#ffefeb' },
};

/**
 * Airflow's Task. A task's dates are its DAG's (tasks cannot set their own);
 * class_ref.module_path is 'airflow-ts' for built-in operators and null for a
 * user's own operator class (the serialized DAG does not record its module).
 */
export function taskJson(task: SerializedTask, dag: SerializedDag) {
  const builtIn = Object.hasOwn(BUILT_IN, task.operator) ? BUILT_IN[task.operator] : undefined;
  return {
    class_ref: { module_path: builtIn ? 'airflow-ts' : null, class_name: task.operator },
    task_id: task.taskId,
    task_display_name: task.taskId,
    owner: task.owner,
    start_date: isoDate(dag.startDate),
    end_date: isoDate(dag.endDate),
    trigger_rule: task.triggerRule,
    extra_links: [],
    depends_on_past: task.dependsOnPast,
    is_mapped: false,
    wait_for_downstream: false,
    retries: task.retries,
    queue: task.queue,
    executor: null,
    pool: task.pool,
    pool_slots: task.poolSlots,
    execution_timeout: timeDelta(task.executionTimeoutMs),
    retry_delay: timeDelta(task.retryDelayMs),
    retry_exponential_backoff: task.retryExponentialBackoff,
    priority_weight: task.priorityWeight,
    weight_rule: 'downstream',
    ui_color: builtIn?.uiColor ?? '#fff',
    ui_fgcolor: '#000',
    template_fields: task.templateFields,
    sub_dag: null,
    downstream_task_ids: task.downstreamTaskIds,
    doc_md: task.doc,
    params: paramsJson(task.params),
  };
}

/** Airflow's DAGDetail: the DAG object plus what only the serialized DAG knows. */
export function dagDetailJson(row: Record<string, any>, dag: SerializedDag, config: ResolvedConfig) {
  const base = dagJson(row);
  return {
    ...base,
    timezone: dag.timezone,
    catchup: dag.catchup ?? config.scheduler.catchupByDefault,
    orientation: 'LR',
    concurrency: dag.maxActiveTasks ?? config.core.maxActiveTasksPerDag,
    start_date: isoDate(dag.startDate),
    dag_run_timeout: timeDelta(dag.dagrunTimeoutMs),
    dataset_expression: null,
    doc_md: dag.doc,
    default_view: 'grid',
    params: paramsJson(dag.params),
    end_date: isoDate(dag.endDate),
    is_paused_upon_creation: dag.isPausedUponCreation,
    last_parsed: base.last_parsed_time,
    template_search_path: null,
    render_template_as_native_obj: false,
  };
}

/** The DAG row and its serialized form; a DAG not (yet) serialized is not found, as in Airflow's DagBag. */
async function loadDag(knex: Knex, dagId: string): Promise<{ row: Record<string, any>; dag: SerializedDag }> {
  const found = await getDagWithSerialized(knex, dagId);
  if (!found) throw new DagNotFoundError(dagId);
  return found;
}

type Scalar = string | number | boolean | null;
/** The Task fields holding a string, number or boolean (Airflow sorts by any task attribute). */
const SORTABLE_TASK_FIELDS: Record<string, string> = Object.fromEntries(
  [
    'task_id',
    'task_display_name',
    'owner',
    'start_date',
    'end_date',
    'trigger_rule',
    'depends_on_past',
    'is_mapped',
    'wait_for_downstream',
    'retries',
    'queue',
    'pool',
    'pool_slots',
    'retry_exponential_backoff',
    'priority_weight',
    'weight_rule',
    'ui_color',
    'ui_fgcolor',
    'doc_md',
  ].map((field) => [field, field]),
);
function compareScalars(a: Scalar, b: Scalar): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const dagParams = z.object({ dag_id: pgText });

export const dagDetailsRoutes = [
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}/details',
    summary: 'Get a DAG with its details (dates, params, docs), from its serialized form',
    tag: 'DAG',
    permission: 'read',
    params: dagParams,
    query: z.object({ fields: queryList }),
    responses: { 404: 'DAG not found' },
    handler: async ({ params, query }, { knex, config }) => {
      const { row, dag } = await loadDag(knex, params.dag_id);
      const detail = dagDetailJson(row, dag, config);
      if (!query.fields?.length) return detail;
      const unknown = query.fields.filter((f) => !Object.hasOwn(detail, f));
      if (unknown.length) throw badRequest(`fields: unknown field(s) ${unknown.join(', ')}`);
      return Object.fromEntries(query.fields.map((f) => [f, detail[f as keyof typeof detail]]));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}/tasks',
    summary: "List a DAG's tasks (order_by a task field, - for descending; task_id by default)",
    tag: 'DAG',
    permission: 'read',
    params: dagParams,
    query: z.object({ order_by: z.string().optional() }),
    responses: { 404: 'DAG not found' },
    handler: async ({ params, query }, { knex }) => {
      const { dag } = await loadDag(knex, params.dag_id);
      const tasks = dag.tasks.map((t) => taskJson(t, dag));
      const sort = sortFrom(query.order_by, SORTABLE_TASK_FIELDS, 'task_id');
      const direction = sort.descending ? -1 : 1;
      const key = (t: (typeof tasks)[number]) => (t as Record<string, unknown>)[sort.column] as Scalar;
      tasks.sort((a, b) => direction * compareScalars(key(a), key(b)) || compareScalars(a.task_id, b.task_id));
      return { tasks, total_entries: tasks.length };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}/tasks/{task_id}',
    summary: 'Get one task of a DAG',
    tag: 'DAG',
    permission: 'read',
    params: dagParams.extend({ task_id: pgText }),
    responses: { 404: 'DAG or task not found' },
    handler: async ({ params }, { knex }) => {
      const { dag } = await loadDag(knex, params.dag_id);
      const task = dag.tasks.find((t) => t.taskId === params.task_id);
      if (!task) throw notFound(`Task '${params.task_id}' not found in DAG '${params.dag_id}'`);
      return taskJson(task, dag);
    },
  }),
];
