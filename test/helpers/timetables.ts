import { expect } from 'vitest';
import type { DataInterval, TimeRestriction, Timetable } from '../../core/timetables/index.ts';

export const HOUR = 3_600_000;
export const T = (iso: string) => new Date(iso);
export const iso = (d: Date) => d.toISOString();
/** An interval as [startISO, endISO], for readable expectations. */
export type Pair = [string, string];
export const pair = (i: DataInterval): Pair => [iso(i.start), iso(i.end)];
export const interval = ([start, end]: Pair): DataInterval => ({ start: T(start), end: T(end) });

export function restriction(earliest: string | null, opts: { latest?: string; catchup?: boolean } = {}): TimeRestriction {
  return { earliest: earliest === null ? null : T(earliest), latest: opts.latest ? T(opts.latest) : null, catchup: opts.catchup ?? true };
}

/** What the scheduler does: ask for the next run, feeding back the last one, until nothing is due at `now`. */
export function drain(timetable: Timetable, r: TimeRestriction, now: string, last: Pair | null = null): Pair[] {
  const runs: Pair[] = [];
  let lastInterval = last && interval(last);
  for (let i = 0; i < 1000; i++) {
    const info = timetable.nextDagRunInfo({ lastAutomatedDataInterval: lastInterval, restriction: r, now: T(now) });
    if (info === null || info.runAfter.getTime() > T(now).getTime()) return runs; // not due yet
    expect(iso(info.runAfter)).toBe(iso(info.dataInterval.end)); // a data interval runs when it closes
    if (lastInterval) expect(info.dataInterval.start.getTime()).toBeGreaterThanOrEqual(lastInterval.end.getTime());
    runs.push(pair(info.dataInterval));
    lastInterval = info.dataInterval;
  }
  throw new Error('timetable never stopped');
}
