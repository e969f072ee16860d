import type { Knex } from 'knex';
import { nextDagRunInfo } from '../core/nextDagRun.ts';
import { runIdFor } from '../core/runId.ts';
import type { SerializedDag } from '../core/serialize.ts';
import type { DataInterval } from '../core/timetables/index.ts';
import { createDagRun, logicalDatesWithRuns } from '../db/models/dagRun.ts';
import type { DagRunRow } from '../db/rows.ts';

/** Intervals whose logical date (start) lies in [start, end], as Airflow's backfill picks them. */
export function backfillIntervals(dag: SerializedDag, start: Date, end: Date): DataInterval[] {
  const restricted = { ...dag, startDate: start.toISOString(), endDate: end.toISOString(), catchup: true };
  const intervals = [];
  const farFuture = new Date(8.64e15);
  for (
    let info = nextDagRunInfo(restricted, null, farFuture, true);
    info && intervals.length < 100_000;
    info = nextDagRunInfo(restricted, info.dataInterval, farFuture, true)
  ) {
    intervals.push(info.dataInterval);
  }
  return intervals;
}

/**
 * Airflow's backfill run creation (`airflow dags backfill`): one `backfill`
 * run per interval that has no run at its logical date yet, all in one
 * transaction; intervals that already have a run are left as they are.
 * Returns the runs created and how many intervals already had one.
 */
export async function createBackfillRuns(
  knex: Knex,
  request: { dag: SerializedDag; intervals: readonly DataInterval[]; conf: Record<string, unknown>; now: Date },
): Promise<{ runs: DagRunRow[]; existing: number }> {
  const { dag, intervals } = request;
  const existing = new Set(
    (
      await logicalDatesWithRuns(
        knex,
        dag.dagId,
        intervals.map((i) => i.start),
      )
    ).map((d) => d.getTime()),
  );
  const runs = await knex.transaction(async (trx) => {
    const created = [];
    for (const interval of intervals.filter((i) => !existing.has(i.start.getTime()))) {
      created.push(
        await createDagRun(trx, {
          dag,
          runId: runIdFor('backfill', interval.start),
          runType: 'backfill',
          logicalDate: interval.start,
          dataInterval: interval,
          conf: request.conf,
          now: request.now,
        }),
      );
    }
    return created;
  });
  return { runs, existing: existing.size };
}
