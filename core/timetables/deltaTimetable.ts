import { DagDefinitionError } from '../errors.ts';
import type { DagRunInfo, DataInterval, TimeRestriction, Timetable } from './types.ts';

/**
 * Airflow's DeltaDataIntervalTimetable (`schedule=timedelta(...)`): intervals
 * of a fixed length anchored at the DAG's startDate — [start, start+d),
 * [start+d, start+2d), ... — each due when it ends. A fixed duration in
 * milliseconds ignores DST by design, as a timedelta does.
 *
 * catchup=False skips to the latest complete interval *on the startDate grid*.
 * Airflow 2 versions differ here (`now - d` in early 2.x, a grid from the Unix
 * epoch in later ones); both lose the startDate anchor and the first gives a
 * different interval on every call, so we keep the grid (epoch when there is
 * no startDate, like later Airflow).
 */
export class DeltaDataIntervalTimetable implements Timetable {
  readonly periodic = true;
  readonly summary: string;

  constructor(readonly everyMs: number) {
    if (!Number.isFinite(everyMs) || everyMs <= 0) {
      throw new DagDefinitionError(`Schedule interval must be a positive number of milliseconds, got ${everyMs}`);
    }
    this.summary = `every ${formatMs(everyMs)}`;
  }

  nextDagRunInfo(args: { lastAutomatedDataInterval: DataInterval | null; restriction: TimeRestriction; now: Date }): DagRunInfo | null {
    const { lastAutomatedDataInterval: last, restriction, now } = args;
    const d = this.everyMs;
    let earliest = restriction.earliest?.getTime() ?? null;
    if (!restriction.catchup) {
      const anchor = earliest ?? 0;
      const latestCompleteStart = anchor + (Math.floor((now.getTime() - anchor) / d) - 1) * d;
      earliest = Math.max(latestCompleteStart, earliest ?? -Infinity);
    }
    // Continue from the end of the last automated run, never before startDate.
    const start = last === null ? earliest : Math.max(last.end.getTime(), earliest ?? -Infinity);
    if (start === null) return null; // no startDate and catchup on: Airflow never schedules
    if (restriction.latest && start > restriction.latest.getTime()) return null;
    const end = start + d;
    return { runAfter: new Date(end), dataInterval: { start: new Date(start), end: new Date(end) } };
  }

  /** Airflow: the interval of length d ending at the trigger time. */
  inferManualDataInterval(runAfter: Date): DataInterval {
    return { start: new Date(runAfter.getTime() - this.everyMs), end: new Date(runAfter) };
  }

  /** Backfill intervals start at `start` itself (Airflow does not align timedelta schedules). */
  intervalsBetween(start: Date, end: Date): DataInterval[] {
    const intervals: DataInterval[] = [];
    for (let from = start.getTime(); from + this.everyMs <= end.getTime(); from += this.everyMs) {
      intervals.push({ start: new Date(from), end: new Date(from + this.everyMs) });
    }
    return intervals;
  }
}

/** '1d6h', '90s', '250ms': how listings show a fixed-interval schedule. */
function formatMs(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  let text = '';
  let rest = ms;
  for (const [unit, size] of units) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return rest > 0 || text === '' ? `${text}${rest}ms` : text;
}
