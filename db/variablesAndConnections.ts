import type { Knex } from 'knex';
import type { ConnectionInfo } from '../core/taskContext.ts';

export interface ConfigObjects {
  variables: Map<string, string>;
  connections: Map<string, ConnectionInfo>;
}

/**
 * Two json columns, `variables` (key → value) and `connections` (conn_id → fields), for a task's
 * context (templates read `{{ var.value.x }}` and `{{ conn.db.host }}` synchronously). The statements
 * that start a try select them too, so a task gets them without a round trip of its own; `when` is
 * an SQL condition (both come back null, i.e. empty, when it is false).
 */
export function configObjectsColumns(when = 'true'): string {
  return `(SELECT json_object_agg(key, val) FROM variable WHERE ${when}) AS variables,
  (SELECT json_object_agg(conn_id, json_build_object('conn_type', conn_type, 'host', host, 'port', port, 'login', login, 'password', password, 'schema', schema, 'extra', extra))
     FROM connection WHERE ${when}) AS connections`;
}

/** All variables and connections, in one round trip. */
export async function loadVariablesAndConnections(knex: Knex): Promise<ConfigObjects> {
  const { rows } = await knex.raw(`SELECT ${configObjectsColumns()}`);
  return configObjectsOf(rows[0]);
}

/** The maps from a row holding configObjectsColumns() (null aggregates: no rows). */
export function configObjectsOf(row: { variables: Record<string, string | null> | null; connections: Record<string, Record<string, unknown>> | null }): ConfigObjects {
  const variables = new Map<string, string>();
  const connections = new Map<string, ConnectionInfo>();
  for (const [key, val] of Object.entries(row.variables ?? {})) variables.set(key, val ?? '');
  for (const [id, data] of Object.entries(row.connections ?? {})) connections.set(id, { ...(data as Omit<ConnectionInfo, 'extra'>), extra: parseExtra(data.extra as string | null) });
  return { variables, connections };
}

function parseExtra(extra: string | null): Record<string, unknown> {
  if (!extra) return {};
  try {
    const parsed: unknown = JSON.parse(extra);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
