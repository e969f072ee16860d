/**
 * The shapes shared by every timetable: Airflow 2's `airflow.timetables.base`
 * (DataInterval, TimeRestriction, DagRunInfo, Timetable) in TypeScript.
 * Timetables are pure: the caller passes `now`, nothing reads the clock.
 */

/** The period of data a run processes: [start, end). Equal ends mean "a point in time" (@once, manual). */
export interface DataInterval {
  start: Date;
  end: Date;
}

/** Limits from the DAG: its startDate, endDate and catchup flag. */
export interface TimeRestriction {
  /** DAG startDate; no interval starts before it. */
  earliest: Date | null;
  /** DAG endDate; no interval starts after it. */
  latest: Date | null;
  catchup: boolean;
}

/** A run the scheduler should create: its data interval, and when it may start. */
export interface DagRunInfo {
  runAfter: Date;
  dataInterval: DataInterval;
}

export interface Timetable {
  /**
   * The next automated run after the last one, or null when there is none ever
   * again (endDate passed, @once already ran, manual-only DAG). Like Airflow,
   * its `runAfter` may lie in the future: the scheduler stores it on the dag
   * row and creates the run once `runAfter <= now`. `now` only matters for
   * catchup=false, which skips to the latest interval complete at `now`.
   */
  nextDagRunInfo(args: { lastAutomatedDataInterval: DataInterval | null; restriction: TimeRestriction; now: Date }): DagRunInfo | null;
  /** The data interval of a run triggered by hand at `runAfter`. */
  inferManualDataInterval(runAfter: Date): DataInterval;
  /** intervals fully inside [start, end] for backfill */
  intervalsBetween(start: Date, end: Date): DataInterval[];
  /** Short text for listings, e.g. '@daily', '0 6 * * 1-5', 'every 6h', 'None'. */
  readonly summary: string;
  /** True when the timetable creates runs by itself on a recurring schedule (false for @once and None). */
  readonly periodic: boolean;
}
