import type { DagRunInfo, DataInterval, Timetable } from './types.ts';

/** Airflow's NullTimetable (`schedule=None`): runs are only ever triggered by hand. */
export class NullTimetable implements Timetable {
  readonly periodic = false;
  readonly summary = 'None';

  nextDagRunInfo(): DagRunInfo | null {
    return null;
  }

  /** A manual run covers the instant it was triggered: [runAfter, runAfter]. */
  inferManualDataInterval(runAfter: Date): DataInterval {
    return { start: new Date(runAfter), end: new Date(runAfter) };
  }

  /** Nothing to backfill: the DAG has no schedule. */
  intervalsBetween(): DataInterval[] {
    return [];
  }
}
