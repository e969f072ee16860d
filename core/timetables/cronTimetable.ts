import { Cron } from 'croner';
import { DagDefinitionError } from '../errors.ts';
import { expandCronPreset } from './presets.ts';
import { fromWallClock, toWallClock } from './wallClock.ts';
import type { DagRunInfo, DataInterval, TimeRestriction, Timetable } from './types.ts';

/**
 * Airflow's CronDataIntervalTimetable: each run covers [start, end) where start
 * and end are consecutive cron fire times in the DAG's timezone, and the run is
 * due at `end` (Airflow runs a data interval after it closes).
 *
 * Cron maths is croner's (5-field patterns only), on the naive local clock as
 * Airflow does it (its _cron.py `_get_next` / `_get_prev`), so DST goes as in
 * Airflow:
 * - a schedule with a fixed hour places each fire time with wallClock.ts's
 *   fromWallClock: a local time that occurs twice (fall back) fires once, at its
 *   second occurrence ('0 2 * * *' Zurich on 2023-10-29 -> 02:00 CET = 01:00Z);
 *   one that does not exist (spring forward) fires moved forward by the gap
 *   ('30 2 * * *' Berlin on 2025-03-30 -> 03:30 CEST);
 * - a schedule whose hour field is `*` steps by the local-clock distance in
 *   real time from the current instant (Airflow's `_covers_every_hour`), so
 *   '0 * * * *' runs the repeated hour twice and stays hourly in UTC.
 * Intervals stay contiguous and strictly increasing; they are 23 or 25 hours
 * long on the transition days. See ADR 0024.
 */
export class CronDataIntervalTimetable implements Timetable {
  readonly periodic = true;
  readonly summary: string;
  readonly #cron: Cron;
  readonly #everyHour: boolean;

  constructor(
    expression: string,
    readonly timezone: string,
  ) {
    this.summary = expression;
    assertTimezone(timezone);
    const pattern = expandCronPreset(expression);
    try {
      // UTC: croner reads the naive local clock, which has no DST of its own.
      this.#cron = new Cron(pattern, { timezone: 'UTC', mode: '5-part' });
    } catch (err) {
      throw new DagDefinitionError(`Invalid cron schedule '${expression}': ${(err as Error).message}`);
    }
    this.#everyHour = pattern.trim().split(/\s+/)[1] === '*';
    if (this.#cron.nextRun(new Date(0)) === null) {
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
    return this.#step(t, 1);
  }

  /** The last fire time strictly before `t`. */
  #prev(t: Date): Date | null {
    return this.#step(t, -1);
  }

  /**
   * Airflow's _get_next (direction 1) / _get_prev (-1): the adjacent cron time
   * on `t`'s local clock. Unlike Airflow, a local time that maps back across `t`
   * (a fixed-hour time inside the repeated or missing hour seen from its other
   * side) is passed over, so fire times always move in `direction`.
   */
  #step(t: Date, direction: 1 | -1): Date | null {
    const naive = toWallClock(t, this.timezone);
    let local: Date | null = naive;
    // At most a repeated hour of minutes is passed over; 1440 (a day of minutes) bounds it with room.
    for (let i = 0; i < 1440 && local; i++) {
      local = direction === 1 ? this.#cron.nextRun(local) : (this.#cron.previousRuns(1, local)[0] ?? null);
      if (!local) return null;
      // Every-hour schedules keep the local-clock distance in real time, so the repeated hour runs twice.
      const at = this.#everyHour ? new Date(t.getTime() + local.getTime() - naive.getTime()) : fromWallClock(local, this.timezone);
      if ((at.getTime() - t.getTime()) * direction > 0) return at;
    }
    return null;
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
