import type { Knex } from 'knex';
import { DagHasRunningTasksError, DagNotFoundError } from '../core/errors.ts';
import { deleteDagRow, lockDag } from '../db/models/dag.ts';
import { lockDagRuns } from '../db/models/dagRun.ts';
import { deleteAuditLogOfDag } from '../db/models/log.ts';
import { lockRunningTaskInstance } from '../db/models/taskInstance.ts';

/**
 * Airflow's "delete DAG" (REST DELETE /dags/{dag_id}, the UI's details tab):
 * the DAG's metadata (runs, task instances, XComs, serialized DAG, audit log
 * rows) goes in one transaction; the file stays and is parsed again. Refused
 * while a task instance of the DAG is running. Throws DagNotFoundError or
 * DagHasRunningTasksError.
 */
export async function deleteDagMetadata(knex: Knex, dagId: string): Promise<void> {
  await knex.transaction(async (trx) => {
    // Locks in the one order (ADR 0011): the DAG, its runs, then their task instances.
    if (!(await lockDag(trx, dagId))) throw new DagNotFoundError(dagId);
    await lockDagRuns(trx, dagId, () => {});
    if (await lockRunningTaskInstance(trx, dagId)) throw new DagHasRunningTasksError(dagId);
    await deleteAuditLogOfDag(trx, dagId);
    await deleteDagRow(trx, dagId); // cascades to runs, task instances, XComs, serialized DAG
  });
}
