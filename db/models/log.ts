import type { Knex } from 'knex';

/** The `log` table: Airflow's audit (event) log of changes made through the CLI, API and UI. */

/** Who changed something and when, for the audit log. */
export interface Audit {
  owner: string | null;
  at: Date;
}

/** One row in the `log` table (Airflow's event log). `extra` must never hold secrets: callers pass field names, not values. */
export async function writeAuditLog(knex: Knex | Knex.Transaction, audit: Audit, event: string, extra: Record<string, unknown>): Promise<void> {
  await knex('log').insert({ dttm: audit.at, event, owner: audit.owner, extra: JSON.stringify(extra) });
}

/** Deletes the audit events of a DAG (with the DAG's metadata, as Airflow's delete_dag). */
export async function deleteAuditLogOfDag(trx: Knex.Transaction, dagId: string): Promise<void> {
  await trx('log').where('dag_id', dagId).delete();
}
