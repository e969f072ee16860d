import type { Knex } from 'knex';
import { DagRunAlreadyExistsError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { nextDagRunInfo } from '../core/nextDagRun.ts';
import { runIdFor } from '../core/runId.ts';
import type { SerializedDag } from '../core/serialize.ts';
import { postponeDagRunCreation, updateNextDagRun } from '../db/models/dag.ts';
import { countActiveDagRuns, createDagRun, lastAutomatedDataInterval } from '../db/models/dagRun.ts';
import { lockDueDags } from '../db/queries/lockDueDags.ts';
import type { DagRunRow } from '../db/rows.ts';

/**
 * Creates the scheduled runs that are due: for every unpaused, active DAG
 * whose next_dagrun_create_after has passed, the runs its timetable owes up
 * to `now` (all missed intervals with catchup, the latest one without),
 * while the DAG has fewer than maxActiveRuns queued or running runs. Then
 * stores when the next run is due.
 *
 * The due DAG rows are locked FOR UPDATE SKIP LOCKED, so with two schedulers
 * each DAG is handled by one of them; the unique (dag_id, logical_date) key is
 * the last line of defence against a duplicate run.
 *
 * Each DAG's work runs under its own savepoint: a DAG whose timetable throws or
 * whose insert fails is logged with its id and rolled back alone, and the other
 * due DAGs still get their runs; it is tried again a minute later.
 */
/** How long a DAG whose run creation failed waits before it is tried again. */
const RETRY_FAILED_DAG_MS = 60_000;

export async function createDueDagRuns(
  knex: Knex,
  options: { now: Date; catchupByDefault: boolean; maxActiveRunsPerDag: number; jobId: number | null; logger: Logger; limit?: number },
): Promise<DagRunRow[]> {
  const { now } = options;
  return knex.transaction(async (trx) => {
    const due = await lockDueDags(trx, now, options.limit ?? 50);
    const created: DagRunRow[] = [];
    for (const { dag_id: dagId, max_active_runs: maxActiveRuns, data: dag } of due) {
      try {
        // knex turns a nested transaction into a savepoint.
        created.push(...(await trx.transaction((savepoint) => createRunsOfDag(savepoint, dagId, dag, maxActiveRuns ?? options.maxActiveRunsPerDag, options))));
      } catch (error) {
        options.logger.error(`could not create the due runs of DAG ${dagId}; the other DAGs go on (retried in ${RETRY_FAILED_DAG_MS / 1000} s)`, {
          dagId,
          error: error instanceof Error ? error.message : String(error),
        });
        // Back of the queue for a while: 50 broken DAGs sorted first must not starve the others.
        // Safe to move: the next attempt recomputes the due runs from the last run, not from this column.
        await postponeDagRunCreation(trx, dagId, new Date(now.getTime() + RETRY_FAILED_DAG_MS));
      }
    }
    return created;
  });
}

async function createRunsOfDag(
  trx: Knex.Transaction,
  dagId: string,
  dag: SerializedDag,
  max: number,
  options: { now: Date; catchupByDefault: boolean; jobId: number | null; logger: Logger },
): Promise<DagRunRow[]> {
  const { now } = options;
  const created: DagRunRow[] = [];
  let active = await countActiveDagRuns(trx, dagId);
  // Recomputed from the last run and `now` rather than trusted from the dag row, so a DAG
  // unpaused after a long pause with catchup=false gets only the latest interval.
  let info = nextDagRunInfo(dag, await lastAutomatedDataInterval(trx, dagId), now, options.catchupByDefault);
  while (info && info.runAfter.getTime() <= now.getTime() && active < max) {
    const logicalDate = info.dataInterval.start;
    try {
      created.push(
        await createDagRun(trx, {
          dag,
          runId: runIdFor('scheduled', logicalDate),
          runType: 'scheduled',
          logicalDate,
          dataInterval: info.dataInterval,
          creatingJobId: options.jobId,
          now,
        }),
      );
      active += 1;
    } catch (error) {
      // A manual run already holds this logical date: the interval counts as done.
      if (!(error instanceof DagRunAlreadyExistsError)) throw error;
      options.logger.info(`skipping scheduled run at ${logicalDate.toISOString()}: a run with that logical date exists`, { dagId });
    }
    info = nextDagRunInfo(dag, info.dataInterval, now, options.catchupByDefault);
  }
  await updateNextDagRun(trx, dagId, info);
  return created;
}
