import { Cron } from 'croner';
import { DagDefinitionError } from '../errors.ts';
import { expandCronPreset } from './presets.ts';
import type { DagRunInfo, DataInterval, TimeRestriction, Timetable } from './types.ts';

/**
 * Airflow's CronDataIntervalTimetable: each run covers [start, end) where start
 * and end are consecutive cron fire times in the DAG's timezone, and the run is
 * due at `end` (Airflow runs a data interval after it closes).
 *
 * Cron maths is croner's (5-field patterns only). DST, as croner does it with
 * `fixedTimeRule: 'no-wildcard'` (the closest to Airflow, which reads any
 * schedule whose hour field is not `*` on the naive wall clock):
 * - a local time that occurs twice (fall back) fires once, at its first
 *   occurrence ('30 1 * * *' New York on 2025-11-02 -> 05:30Z, not 06:30Z);
 *   schedules with a wildcard or step in minute/hour fire on both passes, so
 *   '0 * * * *' stays hourly in UTC;
 * - a local time that does not exist (spring forward) fires at the first valid
 *   time after the gap ('0 2 * * *' New York on 2025-03-09 -> 03:00 EDT = 07:00Z,
 *   same as Airflow; '30 2 * * *' -> also 03:00 EDT, where Airflow gives 03:30).
 * So intervals stay contiguous and strictly increasing; they are 23 or 25
 * hours long on the transition days.
 */
export class CronDataIntervalTimetable implements Timetable {
  readonly periodic = true;
  readonly summary: string;
  readonly #cron: Cron;

  constructor(
    expression: string,
    readonly timezone: string,
  ) {
    this.summary = expression;
    assertTimezone(timezone);
    try {
      this.#cron = new Cron(expandCronPreset(expression), { timezone, mode: '5-part', fixedTimeRule: 'no-wildcard' });
    } catch (err) {
      throw new DagDefinitionError(`Invalid cron schedule '${expression}': ${(err as Error).message}`);
    }
    if (this.#next(new Date(0)) === null) {
      throw new DagDefinitionError(`Cron schedule '${expression}' never fires`);
    }
  }

  nextDagRunInfo(args: { lastAutomatedDataInterval: DataInterval | null; restriction: TimeRestriction; now: Date }): DagRunInfo | null {
    const { lastAutomatedDataInterval: last, restriction, now } = args;
    // startDate off the schedule moves up to the next fire time (Airflow's _align_to_next).
    let earliest = restriction.earliest && this.#atOrAfter(restriction.earliest);
    if (restriction.earliest && !earliest) return null;
    // catchup=False: jump to the latest complete interval, never before startDate.
    if (!restriction.catchup) earliest = later(this.#latestCompleteStart(now), earliest);
    // Continue from the last automated run (re-aligned, in case the schedule changed).
    const start = last === null ? earliest : later(this.#atOrBefore(last.end), earliest);
    if (start === null) return null; // no startDate and catchup on: Airflow never schedules
    if (restriction.latest && start.getTime() > restriction.latest.getTime()) return null;
    const end = this.#next(start);
    if (end === null) return null;
    return { runAfter: new Date(end), dataInterval: { start: new Date(start), end: new Date(end) } };
  }

  /** Airflow: a run triggered at 01:00 on the 25th of a midnight DAG covers [24th 00:00, 25th 00:00). */
  inferManualDataInterval(runAfter: Date): DataInterval {
    const end = this.#atOrBefore(runAfter);
    const start = end && this.#prev(end);
    if (!end || !start) return { start: new Date(runAfter), end: new Date(runAfter) };
    return { start, end: new Date(end) };
  }

  intervalsBetween(start: Date, end: Date): DataInterval[] {
    const intervals: DataInterval[] = [];
    let from = this.#atOrAfter(start);
    while (from) {
      const to = this.#next(from);
      if (!to || to.getTime() > end.getTime()) break;
      intervals.push({ start: new Date(from), end: to });
      from = to;
    }
    return intervals;
  }

  /** The first fire time strictly after `t`. */
  #next(t: Date): Date | null {
    return this.#cron.nextRun(t);
  }

  /** The last fire time strictly before `t`. */
  #prev(t: Date): Date | null {
    return this.#cron.previousRuns(1, t)[0] ?? null;
  }

  /** `t` if it is a fire time, else the next one (Airflow's _align_to_next). */
  #atOrAfter(t: Date): Date | null {
    const next = this.#next(t);
    return next && this.#prev(next)?.getTime() === t.getTime() ? t : next;
  }

  /** `t` if it is a fire time, else the previous one (Airflow's _align_to_prev). */
  #atOrBefore(t: Date): Date | null {
    const prev = this.#prev(t);
    return prev && this.#next(prev)?.getTime() === t.getTime() ? t : prev;
  }

  /** Start of the newest interval that has ended by `now` (Airflow 2's default _skip_to_latest). */
  #latestCompleteStart(now: Date): Date | null {
    const end = this.#atOrBefore(now);
    return end && this.#prev(end);
  }
}

function later(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.getTime() >= b.getTime() ? a : b;
}

function assertTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new DagDefinitionError(`Unknown timezone '${timezone}'; use an IANA name such as 'UTC' or 'Europe/Berlin'`);
  }
}
