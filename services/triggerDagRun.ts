import type { Knex } from 'knex';
import { timetableOf } from '../core/nextDagRun.ts';
import { runIdFor } from '../core/runId.ts';
import { resolveParams } from '../core/resolveParams.ts';
import { createDagRun } from '../db/models/dagRun.ts';
import { getSerializedDag } from '../db/models/serializedDag.ts';
import { notifyScheduler } from '../db/notifications.ts';
import type { DagRunRow } from '../db/rows.ts';

export interface TriggerRequest {
  dagId: string;
  runId?: string;
  /** Default: now. */
  logicalDate?: Date;
  conf?: Record<string, unknown>;
  note?: string | null;
  now: Date;
}

/**
 * A manual run (CLI `dags trigger`, REST POST dagRuns, the UI's trigger
 * form): conf checked against the DAG's params, Airflow's `manual__<date>`
 * run id, the data interval the timetable infers for a manual run. Throws
 * DagNotFoundError, InvalidConfError or DagRunAlreadyExistsError.
 */
export async function triggerDagRun(knex: Knex, request: TriggerRequest): Promise<DagRunRow> {
  const dag = await getSerializedDag(knex, request.dagId);
  const conf = request.conf ?? {};
  resolveParams(dag.dagId, dag.params, conf);
  const logicalDate = request.logicalDate ?? request.now;
  const dataInterval = timetableOf(dag).inferManualDataInterval(logicalDate);
  return knex.transaction(async (trx) => {
    const run = await createDagRun(trx, {
      dag,
      runId: request.runId ?? runIdFor('manual', logicalDate),
      runType: 'manual',
      logicalDate,
      dataInterval,
      conf,
      note: request.note ?? null,
      now: request.now,
    });
    await notifyScheduler(trx, `triggered ${dag.dagId} ${run.run_id}`); // wakes a scheduler in another process at once
    return run;
  });
}
