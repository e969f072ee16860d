import type { Knex } from 'knex';
import type { ConnectionInfo } from '../core/taskContext.ts';

/** All variables, for a task's template context (`{{ var.value.x }}` reads them synchronously). */
export async function loadVariables(knex: Knex): Promise<Map<string, string>> {
  const rows: { key: string; val: string | null }[] = await knex('variable').select('key', 'val');
  return new Map(rows.map((r) => [r.key, r.val ?? '']));
}

/** All connections, for a task's context (`{{ conn.my_db.host }}`). */
export async function loadConnections(knex: Knex): Promise<Map<string, ConnectionInfo>> {
  const rows: { conn_id: string; conn_type: string; host: string | null; port: number | null; login: string | null; password: string | null; schema: string | null; extra: string | null }[] =
    await knex('connection').select('conn_id', 'conn_type', 'host', 'port', 'login', 'password', 'schema', 'extra');
  return new Map(
    rows.map((r) => [
      r.conn_id,
      { conn_type: r.conn_type, host: r.host, port: r.port, login: r.login, password: r.password, schema: r.schema, extra: parseExtra(r.extra) },
    ]),
  );
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
