import { describe, expect, it } from 'vitest';
import { DagDefinitionError } from '../../core/errors.ts';
import {
  CronDataIntervalTimetable,
  DeltaDataIntervalTimetable,
  NullTimetable,
  OnceTimetable,
  timetableFor,
  type Timetable,
} from '../../core/timetables/index.ts';
import { HOUR, T, iso, type Pair, pair } from '../helpers/timetables.ts';

describe('manual runs: inferManualDataInterval', () => {
  it.each<{ name: string; timetable: Timetable; runAfter: string; expected: Pair }>([
    // Airflow: a manual run at 01:00 on the 25th of a @daily DAG covers the 24th.
    {
      name: '@daily mid-day',
      timetable: timetableFor('@daily', 'UTC'),
      runAfter: '2025-01-25T01:00:00Z',
      expected: ['2025-01-24T00:00:00.000Z', '2025-01-25T00:00:00.000Z'],
    },
    {
      name: '@daily exactly on a boundary: the interval ending then',
      timetable: timetableFor('@daily', 'UTC'),
      runAfter: '2025-01-25T00:00:00Z',
      expected: ['2025-01-24T00:00:00.000Z', '2025-01-25T00:00:00.000Z'],
    },
    {
      name: '@hourly a moment before the hour',
      timetable: timetableFor('@hourly', 'UTC'),
      runAfter: '2025-01-25T10:59:59.999Z',
      expected: ['2025-01-25T09:00:00.000Z', '2025-01-25T10:00:00.000Z'],
    },
    {
      name: 'cron in a timezone, across spring forward',
      timetable: timetableFor('0 2 * * *', 'America/New_York'),
      runAfter: '2025-03-09T12:00:00Z',
      expected: ['2025-03-08T07:00:00.000Z', '2025-03-09T07:00:00.000Z'],
    },
    {
      name: 'delta: the duration ending at the trigger',
      timetable: timetableFor({ everyMs: HOUR }, 'UTC'),
      runAfter: '2025-01-25T10:17:00Z',
      expected: ['2025-01-25T09:17:00.000Z', '2025-01-25T10:17:00.000Z'],
    },
    {
      name: '@once: the trigger instant',
      timetable: timetableFor('@once', 'UTC'),
      runAfter: '2025-01-25T10:17:00Z',
      expected: ['2025-01-25T10:17:00.000Z', '2025-01-25T10:17:00.000Z'],
    },
    {
      name: 'None: the trigger instant',
      timetable: timetableFor(null, 'UTC'),
      runAfter: '2025-01-25T10:17:00Z',
      expected: ['2025-01-25T10:17:00.000Z', '2025-01-25T10:17:00.000Z'],
    },
  ])('$name', ({ timetable, runAfter, expected }) => {
    expect(pair(timetable.inferManualDataInterval(T(runAfter)))).toEqual(expected);
  });
});

describe('intervalsBetween (backfill)', () => {
  it.each<{ name: string; timetable: Timetable; start: string; end: string; starts: string[] }>([
    {
      name: '7-day @daily backfill -> exactly 7 intervals',
      timetable: timetableFor('@daily', 'UTC'),
      start: '2025-01-01T00:00:00Z',
      end: '2025-01-08T00:00:00Z',
      starts: ['2025-01-01', '2025-01-02', '2025-01-03', '2025-01-04', '2025-01-05', '2025-01-06', '2025-01-07'].map((d) => `${d}T00:00:00.000Z`),
    },
    {
      name: 'partial intervals at either end are left out',
      timetable: timetableFor('@daily', 'UTC'),
      start: '2025-01-01T06:00:00Z',
      end: '2025-01-03T18:00:00Z',
      starts: ['2025-01-02T00:00:00.000Z'],
    },
    {
      name: 'delta: from the backfill start',
      timetable: timetableFor({ everyMs: 12 * HOUR }, 'UTC'),
      start: '2025-01-01T03:00:00Z',
      end: '2025-01-02T03:00:00Z',
      starts: ['2025-01-01T03:00:00.000Z', '2025-01-01T15:00:00.000Z'],
    },
    { name: 'None: nothing to backfill', timetable: timetableFor(null, 'UTC'), start: '2025-01-01T00:00:00Z', end: '2025-01-08T00:00:00Z', starts: [] },
  ])('$name', ({ timetable, start, end, starts }) => {
    const got = timetable.intervalsBetween(T(start), T(end));
    expect(got.map((i) => iso(i.start))).toEqual(starts);
    for (const i of got) expect(i.end.getTime()).toBeLessThanOrEqual(T(end).getTime());
  });
});

describe('timetableFor', () => {
  it.each<{ schedule: string | { everyMs: number } | null; type: new (...args: never[]) => Timetable; summary: string; periodic: boolean }>([
    { schedule: null, type: NullTimetable, summary: 'None', periodic: false },
    { schedule: '@once', type: OnceTimetable, summary: '@once', periodic: false },
    { schedule: '@daily', type: CronDataIntervalTimetable, summary: '@daily', periodic: true },
    { schedule: '@annually', type: CronDataIntervalTimetable, summary: '@annually', periodic: true },
    { schedule: '*/5 * * * *', type: CronDataIntervalTimetable, summary: '*/5 * * * *', periodic: true },
    { schedule: { everyMs: 6 * HOUR }, type: DeltaDataIntervalTimetable, summary: 'every 6h', periodic: true },
    { schedule: { everyMs: 90_500 }, type: DeltaDataIntervalTimetable, summary: 'every 1m30s500ms', periodic: true },
  ])('$schedule', ({ schedule, type, summary, periodic }) => {
    const tt = timetableFor(schedule, 'UTC');
    expect(tt).toBeInstanceOf(type);
    expect(tt.summary).toBe(summary);
    expect(tt.periodic).toBe(periodic);
  });

  it.each<{ name: string; schedule: string | { everyMs: number }; tz: string }>([
    { name: 'malformed cron', schedule: '0 0 * *', tz: 'UTC' },
    { name: 'six-field cron (only five fields are accepted)', schedule: '0 0 0 * * *', tz: 'UTC' },
    { name: 'cron that never fires', schedule: '0 0 30 2 *', tz: 'UTC' },
    { name: 'unknown preset', schedule: '@continuous', tz: 'UTC' },
    { name: 'unknown timezone', schedule: '@daily', tz: 'Mars/Olympus_Mons' },
    { name: 'zero duration', schedule: { everyMs: 0 }, tz: 'UTC' },
  ])('rejects $name with DagDefinitionError', ({ schedule, tz }) => {
    expect(() => timetableFor(schedule, tz)).toThrow(DagDefinitionError);
  });
});
