import { z } from 'zod';
import { unmaskExtra } from '../../../core/connectionExtra.ts';
import { fernetFor } from '../../../core/crypto/fernetKey.ts';
import { createConnection, deleteConnection, getConnection, listConnections, updateConnection, type ConnectionChanges } from '../../../db/models/connection.ts';
import { sortFrom } from '../../../db/models/base.ts';
import type { AuthenticatedUser } from '../auth.ts';
import { defineRoute, pagination, queryList, Reply } from '../defineRoute.ts';
import { connectionItemJson, connectionJson } from '../mappers/connection.ts';
import { ApiProblem, badRequest, conflict, notFound } from '../problems.ts';
import { createBody, idParams, patchBody, UPDATABLE, type Updatable } from '../schemas/connections.ts';

/**
 * Connections: Airflow's /connections endpoints. The password is write-only:
 * accepted on create and update, never in any response. As in Airflow, the
 * list leaves out `extra`, and a single connection's `extra` (when it is a
 * JSON object) shows sensitive keys (password, secret, token, ...) as '***';
 * a PATCH that sends such a '***' back keeps the stored value.
 */

const SORTABLE = { connection_id: 'conn_id', conn_type: 'conn_type', description: 'description', host: 'host', port: 'port', id: 'id' };

const audit = (user: AuthenticatedUser | null, now: () => Date) => ({ owner: user?.username ?? null, at: now() });
const missing = (id: string) => notFound(`Connection '${id}' not found`);

export const connectionsRoutes = [
  defineRoute({
    method: 'get',
    path: '/connections',
    summary: 'List connections (without extra or password)',
    tag: 'Connection',
    permission: 'readConfig',
    query: z.object({ ...pagination, order_by: z.string().optional() }),
    handler: async ({ query }, { knex }) => {
      const sort = sortFrom(query.order_by, SORTABLE, 'id');
      const { rows, total } = await listConnections(knex, { limit: query.limit, offset: query.offset, sort });
      return { connections: rows.map(connectionItemJson), total_entries: total };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/connections/test',
    summary: 'Test a connection: disabled, as in Airflow by default (core.test_connection = Disabled); always 403',
    tag: 'Connection',
    permission: 'editConfig',
    responses: { 403: 'Testing connections is disabled' },
    handler: async () => {
      throw new ApiProblem(
        403,
        'Forbidden',
        "Testing connections is disabled in the airflow-ts configuration (like Airflow's default core.test_connection = Disabled)",
      );
    },
  }),
  defineRoute({
    method: 'post',
    path: '/connections',
    summary: 'Create a connection (the password is stored but never returned)',
    tag: 'Connection',
    permission: 'editConfig',
    body: createBody,
    responses: { 409: 'A connection with this id already exists' },
    handler: async ({ body, user }, { knex, config, logger, now }) => {
      const { connection_id, ...rest } = body;
      const values = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as ConnectionChanges & { conn_type: string };
      const row = await createConnection(knex, fernetFor(config, logger), { conn_id: connection_id, ...values }, audit(user, now));
      if (!row) throw conflict(`Connection '${connection_id}' already exists`);
      return connectionJson(row);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/connections/{connection_id}',
    summary: 'Get a connection (without its password; sensitive keys of extra masked)',
    tag: 'Connection',
    permission: 'readConfig',
    params: idParams,
    responses: { 404: 'Connection not found' },
    handler: async ({ params }, { knex, config, logger }) => {
      const row = await getConnection(knex, fernetFor(config, logger), params.connection_id);
      if (!row) throw missing(params.connection_id);
      return connectionJson(row);
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/connections/{connection_id}',
    summary: 'Update a connection: the fields given, or only those named in update_mask',
    tag: 'Connection',
    permission: 'editConfig',
    params: idParams,
    query: z.object({ update_mask: queryList }),
    body: patchBody,
    responses: { 404: 'Connection not found' },
    handler: async ({ params, query, body, user }, { knex, config, logger, now }) => {
      if (body.connection_id !== undefined && body.connection_id !== params.connection_id) throw badRequest('connection_id cannot be changed');
      const mask = (query.update_mask ?? []).map((f) => f.trim()).filter(Boolean);
      for (const field of mask) {
        if (field === 'connection_id') throw badRequest('update_mask: connection_id cannot be updated');
        if (!(UPDATABLE as readonly string[]).includes(field))
          throw badRequest(`update_mask: unknown field '${field}'; updatable fields are ${UPDATABLE.join(', ')}`);
        if (body[field as Updatable] === undefined) throw badRequest(`update_mask names '${field}' but the body has no ${field}`);
      }
      const names = (mask.length > 0 ? mask : UPDATABLE.filter((f) => body[f] !== undefined)) as Updatable[];
      const result = await updateConnection(
        knex,
        fernetFor(config, logger),
        params.connection_id,
        (existing) => {
          const changes: Record<string, unknown> = Object.fromEntries(names.map((f) => [f, body[f]]));
          if ('extra' in changes) changes.extra = unmaskExtra(body.extra ?? null, existing.extra);
          return changes as ConnectionChanges;
        },
        names,
        audit(user, now),
      );
      if (!('row' in result)) throw missing(params.connection_id);
      return connectionJson(result.row);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/connections/{connection_id}',
    summary: 'Delete a connection',
    tag: 'Connection',
    permission: 'editConfig',
    params: idParams,
    responses: { 204: 'Deleted', 404: 'Connection not found' },
    handler: async ({ params, user }, { knex, now }) => {
      if (!(await deleteConnection(knex, params.connection_id, audit(user, now)))) throw missing(params.connection_id);
      return new Reply(204);
    },
  }),
];
