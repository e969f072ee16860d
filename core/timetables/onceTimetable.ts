import type { DagRunInfo, DataInterval, TimeRestriction, Timetable } from './types.ts';

/**
 * Airflow's OnceTimetable ('@once'): a single automated run at the DAG's
 * startDate with the point interval [startDate, startDate], whatever catchup
 * says, and never again once an automated run exists.
 */
export class OnceTimetable implements Timetable {
  readonly periodic = false;
  readonly summary = '@once';

  nextDagRunInfo(args: { lastAutomatedDataInterval: DataInterval | null; restriction: TimeRestriction; now: Date }): DagRunInfo | null {
    const { lastAutomatedDataInterval: last, restriction } = args;
    if (last !== null || restriction.earliest === null) return null;
    const at = restriction.earliest.getTime();
    if (restriction.latest && at > restriction.latest.getTime()) return null;
    return { runAfter: new Date(at), dataInterval: { start: new Date(at), end: new Date(at) } };
  }

  inferManualDataInterval(runAfter: Date): DataInterval {
    return { start: new Date(runAfter), end: new Date(runAfter) };
  }

  /** Airflow's backfill of an @once DAG makes one run, at the backfill start. */
  intervalsBetween(start: Date, end: Date): DataInterval[] {
    return start.getTime() <= end.getTime() ? [{ start: new Date(start), end: new Date(start) }] : [];
  }
}
