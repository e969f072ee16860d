import type { SerializedDag } from './serialize.ts';
import { timetableFor, type DagRunInfo, type DataInterval, type Timetable } from './timetables/index.ts';

/** The timetable of a serialized DAG. */
export function timetableOf(dag: SerializedDag): Timetable {
  return timetableFor(dag.schedule, dag.timezone);
}

/**
 * The DAG's next automated run after `lastAutomated` (null: none ever again).
 * `catchupByDefault` applies when the DAG does not set `catchup`.
 */
export function nextDagRunInfo(dag: SerializedDag, lastAutomated: DataInterval | null, now: Date, catchupByDefault: boolean): DagRunInfo | null {
  return timetableOf(dag).nextDagRunInfo({
    lastAutomatedDataInterval: lastAutomated,
    restriction: {
      earliest: dag.startDate ? new Date(dag.startDate) : null,
      latest: dag.endDate ? new Date(dag.endDate) : null,
      catchup: dag.catchup ?? catchupByDefault,
    },
    now,
  });
}

/** The dag-row columns that tell the scheduler when the next run is due (Airflow's next_dagrun fields). */
export function nextDagRunColumns(info: DagRunInfo | null) {
  return {
    next_dagrun: info?.dataInterval.start ?? null,
    next_dagrun_data_interval_start: info?.dataInterval.start ?? null,
    next_dagrun_data_interval_end: info?.dataInterval.end ?? null,
    next_dagrun_create_after: info?.runAfter ?? null,
  };
}
