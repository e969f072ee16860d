import { z } from 'zod';
import { fernetFor } from '../../../core/crypto/fernetKey.ts';
import { createVariable, deleteVariable, getVariable, listVariables, updateVariable, type VariableChanges } from '../../../db/models/variable.ts';
import { sortFrom } from '../../../db/models/base.ts';
import type { AuthenticatedUser } from '../auth.ts';
import { defineRoute, pagination, queryList, Reply } from '../defineRoute.ts';
import { variableJson } from '../mappers/variable.ts';
import { badRequest, conflict, notFound } from '../problems.ts';
import { createBody, keyParams, patchBody, UPDATABLE } from '../schemas/variables.ts';

/**
 * Variables: Airflow's /variables endpoints. Differences from Airflow: POST of
 * an existing key is a 409 (Airflow overwrites it), and values are returned in
 * the list too (as Airflow 2 actually does, although its spec says otherwise).
 */

const SORTABLE = { key: 'key', value: 'val', description: 'description', id: 'id' };

const audit = (user: AuthenticatedUser | null, now: () => Date) => ({ owner: user?.username ?? null, at: now() });
const missing = (key: string) => notFound(`Variable '${key}' not found`);

export const variablesRoutes = [
  defineRoute({
    method: 'get',
    path: '/variables',
    summary: 'List variables, with their values',
    tag: 'Variable',
    permission: 'readConfig',
    query: z.object({ ...pagination, order_by: z.string().optional() }),
    handler: async ({ query }, { knex, config, logger }) => {
      const sort = sortFrom(query.order_by, SORTABLE, 'id');
      const { rows, total } = await listVariables(knex, fernetFor(config, logger), { limit: query.limit, offset: query.offset, sort });
      return { variables: rows.map(variableJson), total_entries: total };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/variables',
    summary: 'Create a variable (409 if the key exists; PATCH changes one)',
    tag: 'Variable',
    permission: 'editConfig',
    body: createBody,
    responses: { 409: 'A variable with this key already exists' },
    handler: async ({ body, user }, { knex, config, logger, now }) => {
      const row = await createVariable(
        knex,
        fernetFor(config, logger),
        { key: body.key, val: body.value, description: body.description ?? null },
        audit(user, now),
      );
      if (!row) throw conflict(`Variable '${body.key}' already exists; use PATCH /variables/{variable_key} to change it`);
      return variableJson(row);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/variables/{variable_key}',
    summary: 'Get a variable',
    tag: 'Variable',
    permission: 'readConfig',
    params: keyParams,
    responses: { 404: 'Variable not found' },
    handler: async ({ params }, { knex, config, logger }) => {
      const row = await getVariable(knex, fernetFor(config, logger), params.variable_key);
      if (!row) throw missing(params.variable_key);
      return variableJson(row);
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/variables/{variable_key}',
    summary: 'Update a variable: value and description, or only the fields named in update_mask',
    tag: 'Variable',
    permission: 'editConfig',
    params: keyParams,
    query: z.object({ update_mask: queryList }),
    body: patchBody,
    responses: { 404: 'Variable not found' },
    handler: async ({ params, query, body, user }, { knex, config, logger, now }) => {
      if (body.key !== params.variable_key)
        throw badRequest(`The key in the body ('${body.key}') does not match the URL ('${params.variable_key}'); a variable's key cannot be changed`);
      const changes: VariableChanges = {};
      const mask = (query.update_mask ?? []).map((f) => f.trim()).filter(Boolean);
      if (mask.length > 0) {
        for (const field of mask) {
          if (field === 'key') throw badRequest('update_mask: key cannot be updated');
          if (!(UPDATABLE as readonly string[]).includes(field))
            throw badRequest(`update_mask: unknown field '${field}'; updatable fields are ${UPDATABLE.join(', ')}`);
          if (body[field as (typeof UPDATABLE)[number]] === undefined) throw badRequest(`update_mask names '${field}' but the body has no ${field}`);
        }
        if (mask.includes('value')) changes.val = body.value;
        if (mask.includes('description')) changes.description = body.description ?? null;
      } else {
        if (body.value === undefined) throw badRequest('value is required (or name the fields to change in update_mask)');
        changes.val = body.value;
        if (body.description !== undefined) changes.description = body.description;
      }
      const result = await updateVariable(knex, fernetFor(config, logger), params.variable_key, changes, audit(user, now));
      if (!('row' in result)) throw missing(params.variable_key);
      return variableJson(result.row);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/variables/{variable_key}',
    summary: 'Delete a variable',
    tag: 'Variable',
    permission: 'editConfig',
    params: keyParams,
    responses: { 204: 'Deleted', 404: 'Variable not found' },
    handler: async ({ params, user }, { knex, now }) => {
      if (!(await deleteVariable(knex, params.variable_key, audit(user, now)))) throw missing(params.variable_key);
      return new Reply(204);
    },
  }),
];
