import type { Knex } from 'knex';
import { DagHasRunningTasksError, DagNotFoundError } from '../core/errors.ts';
import { lockDagRuns } from '../db/models/dagRun.ts';

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
    if (!(await trx('dag').where('dag_id', dagId).forUpdate().first('dag_id'))) throw new DagNotFoundError(dagId);
    await lockDagRuns(trx, dagId, () => {});
    const running = await trx('task_instance').where({ dag_id: dagId, state: 'running' }).forUpdate().first('id');
    if (running) throw new DagHasRunningTasksError(dagId);
    await trx('log').where('dag_id', dagId).delete();
    await trx('dag').where('dag_id', dagId).delete(); // cascades to runs, task instances, XComs, serialized DAG
  });
}
