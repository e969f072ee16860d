import type { Knex } from 'knex';
import { z } from 'zod';
import { fernetFor } from '../../../core/crypto/fernetKey.ts';
import { isoOrNull } from '../../../core/isoDate.ts';
import { loadSecretsMasker } from '../../../db/metastoreBackend.ts';
import { taskInstanceExists } from '../../../db/models/taskInstanceListing.ts';
import { filteredXComsPage, findXCom, type XComRow } from '../../../db/models/xcom.ts';
import { defineRoute, pagination, queryBool, queryInt } from '../defineRoute.ts';
import { checkDagAndRun } from '../lookups.ts';
import { notFound } from '../problems.ts';
import { dbText } from '../schemas/fields.ts';

/** Airflow's XComCollectionItem (no value: values can be large). */
export function xcomJson(row: XComRow) {
  return {
    key: row.key,
    timestamp: isoOrNull(row.timestamp),
    execution_date: isoOrNull(row.execution_date),
    map_index: row.map_index,
    task_id: row.task_id,
    dag_id: row.dag_id,
  };
}

/**
 * Airflow's `stringify` (true by default) returns the value as a string: a
 * string value as it is, anything else as its JSON text. stringify=false
 * returns the JSON value itself.
 */
export function xcomValue(value: unknown, stringify: boolean): unknown {
  if (!stringify) return value;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const wildcard = (id: string) => (id === '~' ? undefined : id);
const tiParams = z.object({ dag_id: dbText, dag_run_id: dbText, task_id: dbText });

/** 404 for a named DAG, run or (in a named run) task instance that does not exist. */
async function checkIds(knex: Knex, params: z.infer<typeof tiParams>): Promise<void> {
  await checkDagAndRun(knex, params.dag_id, params.dag_run_id);
  if (params.dag_id === '~' || params.dag_run_id === '~' || params.task_id === '~') return;
  if (!(await taskInstanceExists(knex, { dagId: params.dag_id, runId: params.dag_run_id, taskId: params.task_id })))
    throw notFound(`No task instance '${params.task_id}' in run '${params.dag_run_id}' of DAG '${params.dag_id}'`);
}

export const xcomRoutes = [
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries',
    summary: "List a task instance's XCom entries, without values (~ as dag_id, dag_run_id or task_id for all)",
    tag: 'XCom',
    permission: 'read',
    params: tiParams,
    query: z.object({
      ...pagination,
      map_index: z.preprocess((v) => (v === undefined ? undefined : v === '' ? Number.NaN : Number(v)), z.number().int().min(-1).max(1_000_000).optional()),
      xcom_key: dbText.optional(),
    }),
    responses: { 404: 'DAG, run or task instance not found' },
    handler: async ({ params, query }, { knex }) => {
      await checkIds(knex, params);
      const filters = {
        dagId: wildcard(params.dag_id),
        runId: wildcard(params.dag_run_id),
        taskId: wildcard(params.task_id),
        mapIndex: query.map_index,
        key: query.xcom_key,
      };
      const { rows, total } = await filteredXComsPage(knex, filters, query.limit, query.offset);
      return { xcom_entries: rows.map(xcomJson), total_entries: total };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries/{xcom_key}',
    summary: 'Get an XCom entry with its value (a string unless stringify=false; deserialize is accepted and changes nothing: values are plain JSON)',
    tag: 'XCom',
    permission: 'read',
    params: tiParams.extend({ xcom_key: dbText }),
    query: z.object({ map_index: queryInt(-1, 1_000_000, -1), deserialize: queryBool, stringify: queryBool }),
    responses: { 404: 'XCom entry not found' },
    handler: async ({ params, query }, { knex, config, logger }) => {
      const row = await findXCom(knex, {
        dagId: params.dag_id,
        runId: params.dag_run_id,
        taskId: params.task_id,
        mapIndex: query.map_index,
        key: params.xcom_key,
      });
      if (!row)
        throw notFound(
          `No XCom '${params.xcom_key}' for task '${params.task_id}' (map index ${query.map_index}) in run '${params.dag_run_id}' of DAG '${params.dag_id}'`,
        );
      // Secrets (connection passwords, sensitive variables, values under sensitive keys) show as *** (ADR 0008).
      const masker = await loadSecretsMasker(knex, fernetFor(config, logger));
      return { ...xcomJson(row), value: xcomValue(masker.redact(row.value), query.stringify ?? true) };
    },
  }),
];
