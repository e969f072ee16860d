import type { Knex } from 'knex';
import type { ConnectionInfo } from '../core/taskContext.ts';

/**
 * All variables and connections, for a task's context (templates read
 * `{{ var.value.x }}` and `{{ conn.db.host }}` synchronously), in one round trip.
 */
export async function loadVariablesAndConnections(knex: Knex): Promise<{ variables: Map<string, string>; connections: Map<string, ConnectionInfo> }> {
  const { rows } = await knex.raw(
    `SELECT 'v' AS kind, key AS id, json_build_object('val', val) AS data FROM variable
     UNION ALL
     SELECT 'c', conn_id, json_build_object('conn_type', conn_type, 'host', host, 'port', port, 'login', login, 'password', password, 'schema', schema, 'extra', extra) FROM connection`,
  );
  const variables = new Map<string, string>();
  const connections = new Map<string, ConnectionInfo>();
  for (const row of rows as { kind: 'v' | 'c'; id: string; data: Record<string, unknown> }[]) {
    if (row.kind === 'v') variables.set(row.id, (row.data.val as string | null) ?? '');
    else connections.set(row.id, { ...(row.data as Omit<ConnectionInfo, 'extra'>), extra: parseExtra(row.data.extra as string | null) });
  }
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
