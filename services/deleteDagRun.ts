import type { Knex } from 'knex';
import { DagRunHasRunningTasksError, DagRunNotFoundError } from '../core/errors.ts';
import { deleteDagRunRow, lockDagRuns } from '../db/models/dagRun.ts';
import { lockRunningTaskInstance } from '../db/models/taskInstance.ts';

/**
 * Airflow's "delete dag run" (REST DELETE dagRuns/{id}): the run with its task
 * instances and XComs goes in one transaction; its log files stay. Refused
 * while one of its task instances is running. Throws DagRunNotFoundError or
 * DagRunHasRunningTasksError.
 */
export async function deleteDagRun(knex: Knex, dagId: string, runId: string): Promise<void> {
  await knex.transaction(async (trx) => {
    // The run first, then its task instances (ADR 0011).
    const [run] = await lockDagRuns(trx, dagId, { runIds: [runId] });
    if (!run) throw new DagRunNotFoundError(dagId, runId);
    if (await lockRunningTaskInstance(trx, dagId, runId)) throw new DagRunHasRunningTasksError(dagId, runId);
    await deleteDagRunRow(trx, run.id);
  });
}
