import type { Knex } from 'knex';
import { z } from 'zod';
import { DagNotFoundError } from '../../../core/errors.ts';
import { sortFrom } from '../../../db/models/base.ts';
import { dagRowsByIds, filteredDagIds, filteredDagsPage, getDagRow as findDagRow, setPaused } from '../../../db/models/dag.ts';
import { deleteDagMetadata } from '../../../services/deleteDag.ts';
import { defineRoute, pagination, queryBool, queryList, Reply } from '../defineRoute.ts';
import { dagJson } from '../mappers/dag.ts';
import { badRequest } from '../problems.ts';

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
  const row = await findDagRow(knex, dagId);
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
      const { rows, total } = await filteredDagsPage(knex, filters, sort, query.limit, query.offset);
      return { dags: rows.map(dagJson), total_entries: total };
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
      const ids = await filteredDagIds(knex, { tags: query.tags, onlyActive: query.only_active, pattern: query.dag_id_pattern }, query.limit, query.offset);
      for (const dagId of ids) await setPaused(knex, dagId, body.is_paused);
      const rows = await dagRowsByIds(knex, ids);
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
