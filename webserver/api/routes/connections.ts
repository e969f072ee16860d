import { z } from 'zod';
import { fernetFor } from '../../../core/crypto/fernetKey.ts';
import { isSensitiveName, MASK, SecretsMasker } from '../../../core/secretsMasker.ts';
import {
  createConnection,
  deleteConnection,
  getConnection,
  listConnections,
  pgText,
  sortFrom,
  updateConnection,
  type ConnectionChanges,
  type ConnectionListItem,
  type ConnectionRow,
} from '../../../db/configObjects.ts';
import type { AuthenticatedUser } from '../auth.ts';
import { defineRoute, pagination, queryList, Reply } from '../defineRoute.ts';
import { ApiProblem, badRequest, conflict, notFound } from '../problems.ts';

/**
 * Connections: Airflow's /connections endpoints. The password is write-only:
 * accepted on create and update, never in any response. As in Airflow, the
 * list leaves out `extra`, and a single connection's `extra` (when it is a
 * JSON object) shows sensitive keys (password, secret, token, ...) as '***';
 * a PATCH that sends such a '***' back keeps the stored value.
 */

/** Masks by key name only (it learns no values): values under sensitive keys, and subtrees too deep to walk. */
const byName = new SecretsMasker();

/** Deeper than this, a JSON extra is not walked back for restoring (as deep as the masker walks). */
const MAX_DEPTH = 32;

/** `extra` for responses: JSON with sensitive values masked; text that is not JSON as it is (nothing to find keys in). */
export function redactExtra(extra: string | null): string | null {
  if (extra === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(extra);
  } catch {
    return extra;
  }
  try {
    return JSON.stringify(byName.redact(parsed));
  } catch {
    return MASK; // never fall back to the unmasked text
  }
}

/** Puts stored values back where the client sent a masked '***' for a sensitive key (objects by key, arrays by index). */
function restoreMasked(sent: unknown, stored: unknown, depth = 0): { value: unknown; restored: boolean } {
  const walkable = (v: unknown): v is object => v !== null && typeof v === 'object';
  if (depth >= MAX_DEPTH || !walkable(sent) || !walkable(stored) || Array.isArray(sent) !== Array.isArray(stored)) return { value: sent, restored: false };
  let restored = false;
  const entries = Object.entries(sent).map(([key, value]): [string, unknown] => {
    const old = Object.hasOwn(stored, key) ? (stored as Record<string, unknown>)[key] : undefined;
    if (!Array.isArray(sent) && isSensitiveName(key) && value === MASK && Object.hasOwn(stored, key)) {
      restored = true;
      return [key, old];
    }
    const inner = restoreMasked(value, old, depth + 1);
    restored ||= inner.restored;
    return [key, inner.value];
  });
  return { value: Array.isArray(sent) ? entries.map(([, v]) => v) : Object.fromEntries(entries), restored };
}

export function unmaskExtra(sent: string | null, stored: string | null): string | null {
  if (sent === null || stored === null || !sent.includes(MASK)) return sent;
  try {
    const { value, restored } = restoreMasked(JSON.parse(sent), JSON.parse(stored));
    return restored ? JSON.stringify(value) : sent;
  } catch {
    return sent;
  }
}

/** Airflow's ConnectionCollectionItem. */
function connectionItemJson(row: ConnectionListItem) {
  return {
    connection_id: row.conn_id,
    conn_type: row.conn_type,
    description: row.description,
    host: row.host,
    login: row.login,
    schema: row.schema,
    port: row.port,
  };
}

/** Airflow's Connection: the item plus extra; never the password. */
export function connectionJson(row: ConnectionRow) {
  return { ...connectionItemJson(row), extra: redactExtra(row.extra) };
}

const SORTABLE = { connection_id: 'conn_id', conn_type: 'conn_type', description: 'description', host: 'host', port: 'port', id: 'id' };

const connectionId = pgText
  .min(1, 'connection_id must not be empty')
  .max(250, 'connection_id must be at most 250 characters')
  .regex(/^[\w.-]+$/, 'connection_id may contain only letters, digits, underscores, dots and dashes');
const text500 = pgText.max(500, 'must be at most 500 characters').nullable().optional();
/** As in Airflow 3, extra is a JSON object (Airflow 2 warned about anything else); empty means none. */
const extraJson = pgText
  .superRefine((text, ctx) => {
    if (text.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `must be a JSON object, e.g. {"timeout": 30}; it is not valid JSON (${(error as Error).message})` });
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object, e.g. {"timeout": 30}, not a JSON array or single value' });
  })
  .nullable()
  .optional();
const fields = {
  conn_type: pgText.min(1, 'conn_type must not be empty').max(500, 'conn_type must be at most 500 characters'),
  description: pgText.nullable().optional(),
  host: text500,
  login: text500,
  schema: text500,
  port: z.number().int().min(0).max(65_535).nullable().optional(),
  password: pgText.nullable().optional(),
  extra: extraJson,
};
export const createBody = z.strictObject({ connection_id: connectionId, ...fields });
export const patchBody = z.strictObject({ connection_id: pgText.optional(), ...fields, conn_type: fields.conn_type.optional() });
const UPDATABLE = ['conn_type', 'description', 'host', 'login', 'schema', 'port', 'password', 'extra'] as const;
type Updatable = (typeof UPDATABLE)[number];
const idParams = z.object({ connection_id: pgText });

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
