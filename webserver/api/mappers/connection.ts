import { redactExtra } from '../../../core/connectionExtra.ts';
import type { ConnectionListItem, ConnectionRow } from '../../../db/models/connection.ts';

/** Airflow's ConnectionCollectionItem. */
export function connectionItemJson(row: ConnectionListItem) {
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
