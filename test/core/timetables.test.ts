import { afterEach, describe, expect, it, vi } from 'vitest';
import { DagDefinitionError } from '../../core/errors.ts';
import {
  CronDataIntervalTimetable,
  DeltaDataIntervalTimetable,
  NullTimetable,
  OnceTimetable,
  timetableFor,
  type DataInterval,
  type TimeRestriction,
  type Timetable,
} from '../../core/timetables/index.ts';

const HOUR = 3_600_000;
const T = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString();
/** An interval as [startISO, endISO], for readable expectations. */
type Pair = [string, string];
const pair = (i: DataInterval): Pair => [iso(i.start), iso(i.end)];
const interval = ([start, end]: Pair): DataInterval => ({ start: T(start), end: T(end) });

function restriction(earliest: string | null, opts: { latest?: string; catchup?: boolean } = {}): TimeRestriction {
  return { earliest: earliest === null ? null : T(earliest), latest: opts.latest ? T(opts.latest) : null, catchup: opts.catchup ?? true };
}

/** What the scheduler does: ask for the next run, feeding back the last one, until nothing is due at `now`. */
function drain(timetable: Timetable, r: TimeRestriction, now: string, last: Pair | null = null): Pair[] {
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

describe('CronDataIntervalTimetable with catchup', () => {
  it.each<{ name: string; schedule: string; earliest: string; now: string; runs: Pair[] }>([
    {
      name: '@daily from a midnight startDate 3 days ago -> exactly 3 intervals',
      schedule: '@daily',
      earliest: '2025-01-01T00:00:00Z',
      now: '2025-01-04T10:30:00Z',
      runs: [
        ['2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z'],
        ['2025-01-02T00:00:00.000Z', '2025-01-03T00:00:00.000Z'],
        ['2025-01-03T00:00:00.000Z', '2025-01-04T00:00:00.000Z'],
      ],
    },
    {
      name: '@daily with a startDate off the schedule aligns up to the next midnight',
      schedule: '@daily',
      earliest: '2025-01-01T10:30:00Z',
      now: '2025-01-04T10:30:00Z',
      runs: [
        ['2025-01-02T00:00:00.000Z', '2025-01-03T00:00:00.000Z'],
        ['2025-01-03T00:00:00.000Z', '2025-01-04T00:00:00.000Z'],
      ],
    },
    {
      name: '@daily: an interval ending exactly at now is due',
      schedule: '0 0 * * *',
      earliest: '2025-01-01T00:00:00Z',
      now: '2025-01-02T00:00:00Z',
      runs: [['2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z']],
    },
    {
      name: '@hourly',
      schedule: '@hourly',
      earliest: '2025-01-01T00:00:00Z',
      now: '2025-01-01T03:15:00Z',
      runs: [
        ['2025-01-01T00:00:00.000Z', '2025-01-01T01:00:00.000Z'],
        ['2025-01-01T01:00:00.000Z', '2025-01-01T02:00:00.000Z'],
        ['2025-01-01T02:00:00.000Z', '2025-01-01T03:00:00.000Z'],
      ],
    },
    {
      name: '@weekly (Sunday midnight): a Wednesday startDate aligns to Sunday 2025-01-05',
      schedule: '@weekly',
      earliest: '2025-01-01T00:00:00Z',
      now: '2025-01-20T00:00:00Z',
      runs: [
        ['2025-01-05T00:00:00.000Z', '2025-01-12T00:00:00.000Z'],
        ['2025-01-12T00:00:00.000Z', '2025-01-19T00:00:00.000Z'],
      ],
    },
    {
      name: '@quarterly',
      schedule: '@quarterly',
      earliest: '2025-01-01T00:00:00Z',
      now: '2025-07-02T00:00:00Z',
      runs: [
        ['2025-01-01T00:00:00.000Z', '2025-04-01T00:00:00.000Z'],
        ['2025-04-01T00:00:00.000Z', '2025-07-01T00:00:00.000Z'],
      ],
    },
    {
      name: 'weekdays at 06:00: the weekend is inside the Friday interval',
      schedule: '0 6 * * 1-5',
      earliest: '2025-01-09T06:00:00Z', // Thursday
      now: '2025-01-14T00:00:00Z',
      runs: [
        ['2025-01-09T06:00:00.000Z', '2025-01-10T06:00:00.000Z'],
        ['2025-01-10T06:00:00.000Z', '2025-01-13T06:00:00.000Z'],
      ],
    },
  ])('$name', ({ schedule, earliest, now, runs }) => {
    expect(drain(timetableFor(schedule, 'UTC'), restriction(earliest), now)).toEqual(runs);
  });

  it('announces the next run before it is due, then resumes after the last interval', () => {
    const tt = timetableFor('@daily', 'UTC');
    const r = restriction('2025-01-01T00:00:00Z');
    const runs = drain(tt, r, '2025-01-04T10:30:00Z');
    expect(runs).toHaveLength(3);
    const last = interval(runs[2]!);
    const early = tt.nextDagRunInfo({ lastAutomatedDataInterval: last, restriction: r, now: T('2025-01-04T23:59:59.999Z') });
    expect(early && iso(early.runAfter)).toBe('2025-01-05T00:00:00.000Z'); // in the future: the scheduler waits
    const next = tt.nextDagRunInfo({ lastAutomatedDataInterval: last, restriction: r, now: T('2025-01-05T00:00:00Z') });
    expect(next && pair(next.dataInterval)).toEqual(['2025-01-04T00:00:00.000Z', '2025-01-05T00:00:00.000Z']);
  });

  it('never schedules without a startDate (Airflow returns None)', () => {
    expect(drain(timetableFor('@daily', 'UTC'), restriction(null), '2025-01-04T00:00:00Z')).toEqual([]);
  });

  it('does not read the clock', () => {
    vi.useFakeTimers({ now: T('2099-06-01T00:00:00Z') });
    expect(drain(timetableFor('@daily', 'UTC'), restriction('2025-01-01T00:00:00Z'), '2025-01-04T10:30:00Z')).toHaveLength(3);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
});

describe('CronDataIntervalTimetable across DST (exact UTC instants)', () => {
  it.each<{ name: string; schedule: string; tz: string; earliest: string; now: string; runs: Pair[] }>([
    {
      name: "'0 2 * * *' New York, spring forward 2025-03-09: 02:00 does not exist, runs at 03:00 EDT; next interval is 23h",
      schedule: '0 2 * * *',
      tz: 'America/New_York',
      earliest: '2025-03-08T07:00:00Z', // 02:00 EST
      now: '2025-03-11T00:00:00Z',
      runs: [
        ['2025-03-08T07:00:00.000Z', '2025-03-09T07:00:00.000Z'], // 02:00 EST -> 03:00 EDT
        ['2025-03-09T07:00:00.000Z', '2025-03-10T06:00:00.000Z'], // 03:00 EDT -> 02:00 EDT (23h)
      ],
    },
    {
      name: "'0 2 * * *' New York, fall back 2025-11-02: 02:00 happens once (EST); that interval is 25h",
      schedule: '0 2 * * *',
      tz: 'America/New_York',
      earliest: '2025-11-01T06:00:00Z', // 02:00 EDT
      now: '2025-11-04T00:00:00Z',
      runs: [
        ['2025-11-01T06:00:00.000Z', '2025-11-02T07:00:00.000Z'], // 02:00 EDT -> 02:00 EST (25h)
        ['2025-11-02T07:00:00.000Z', '2025-11-03T07:00:00.000Z'],
      ],
    },
    {
      name: "'30 1 * * *' New York, fall back: 01:30 happens twice, runs once at the first (EDT)",
      schedule: '30 1 * * *',
      tz: 'America/New_York',
      earliest: '2025-11-01T05:30:00Z',
      now: '2025-11-04T00:00:00Z',
      runs: [
        ['2025-11-01T05:30:00.000Z', '2025-11-02T05:30:00.000Z'], // 01:30 EDT -> first 01:30 (EDT)
        ['2025-11-02T05:30:00.000Z', '2025-11-03T06:30:00.000Z'], // -> 01:30 EST (25h)
      ],
    },
    {
      name: "'30 1 * * *' Berlin, spring forward 2025-03-30 (02:00 -> 03:00): 23h interval",
      schedule: '30 1 * * *',
      tz: 'Europe/Berlin',
      earliest: '2025-03-29T00:30:00Z', // 01:30 CET
      now: '2025-04-01T00:00:00Z',
      runs: [
        ['2025-03-29T00:30:00.000Z', '2025-03-30T00:30:00.000Z'], // CET -> CET
        ['2025-03-30T00:30:00.000Z', '2025-03-30T23:30:00.000Z'], // CET -> CEST (23h)
        ['2025-03-30T23:30:00.000Z', '2025-03-31T23:30:00.000Z'],
      ],
    },
    {
      name: "'30 1 * * *' Berlin, fall back 2025-10-26 (03:00 -> 02:00): 25h interval",
      schedule: '30 1 * * *',
      tz: 'Europe/Berlin',
      earliest: '2025-10-24T23:30:00Z', // 01:30 CEST
      now: '2025-10-28T00:00:00Z',
      runs: [
        ['2025-10-24T23:30:00.000Z', '2025-10-25T23:30:00.000Z'],
        ['2025-10-25T23:30:00.000Z', '2025-10-27T00:30:00.000Z'], // CEST -> CET (25h)
      ],
    },
    {
      name: "'30 2 * * *' Berlin, spring forward: 02:30 does not exist, runs at the end of the gap (03:00 CEST)",
      schedule: '30 2 * * *',
      tz: 'Europe/Berlin',
      earliest: '2025-03-29T01:30:00Z',
      now: '2025-04-01T00:00:00Z',
      runs: [
        ['2025-03-29T01:30:00.000Z', '2025-03-30T01:00:00.000Z'], // 02:30 CET -> 03:00 CEST
        ['2025-03-30T01:00:00.000Z', '2025-03-31T00:30:00.000Z'], // -> 02:30 CEST
      ],
    },
    {
      name: "'30 2 * * *' Berlin, fall back: 02:30 happens twice, runs once at the first (CEST)",
      schedule: '30 2 * * *',
      tz: 'Europe/Berlin',
      earliest: '2025-10-25T00:30:00Z',
      now: '2025-10-28T00:00:00Z',
      runs: [
        ['2025-10-25T00:30:00.000Z', '2025-10-26T00:30:00.000Z'], // 02:30 CEST -> first 02:30 (CEST)
        ['2025-10-26T00:30:00.000Z', '2025-10-27T01:30:00.000Z'], // -> 02:30 CET (25h)
      ],
    },
    {
      name: "'0 * * * *' Berlin, fall back: the repeated hour runs twice, so intervals stay 1h in UTC",
      schedule: '0 * * * *',
      tz: 'Europe/Berlin',
      earliest: '2025-10-26T00:00:00Z', // 02:00 CEST
      now: '2025-10-26T03:00:00Z',
      runs: [
        ['2025-10-26T00:00:00.000Z', '2025-10-26T01:00:00.000Z'], // 02:00 CEST -> 02:00 CET
        ['2025-10-26T01:00:00.000Z', '2025-10-26T02:00:00.000Z'], // 02:00 CET -> 03:00 CET
        ['2025-10-26T02:00:00.000Z', '2025-10-26T03:00:00.000Z'],
      ],
    },
    {
      name: "'0 * * * *' Berlin, spring forward: the missing hour is skipped, intervals stay 1h in UTC",
      schedule: '0 * * * *',
      tz: 'Europe/Berlin',
      earliest: '2025-03-30T00:00:00Z', // 01:00 CET
      now: '2025-03-30T02:00:00Z',
      runs: [
        ['2025-03-30T00:00:00.000Z', '2025-03-30T01:00:00.000Z'], // 01:00 CET -> 03:00 CEST
        ['2025-03-30T01:00:00.000Z', '2025-03-30T02:00:00.000Z'],
      ],
    },
  ])('$name', ({ schedule, tz, earliest, now, runs }) => {
    expect(drain(new CronDataIntervalTimetable(schedule, tz), restriction(earliest), now)).toEqual(runs);
  });
});

describe('CronDataIntervalTimetable without catchup: only the latest complete interval', () => {
  const daily = timetableFor('@daily', 'UTC');
  it.each<{ name: string; earliest: string; now: string; last: Pair | null; runs: Pair[] }>([
    {
      name: 'first run after a startDate 3 days ago: only the newest complete day',
      earliest: '2025-01-01T00:00:00Z',
      now: '2025-01-04T10:30:00Z',
      last: null,
      runs: [['2025-01-03T00:00:00.000Z', '2025-01-04T00:00:00.000Z']],
    },
    {
      name: 'now exactly on a boundary: the interval ending now',
      earliest: '2025-01-01T00:00:00Z',
      now: '2025-01-04T00:00:00Z',
      last: null,
      runs: [['2025-01-03T00:00:00.000Z', '2025-01-04T00:00:00.000Z']],
    },
    {
      name: 'after a pause, the missed days are skipped',
      earliest: '2025-01-01T00:00:00Z',
      now: '2025-01-04T10:30:00Z',
      last: ['2025-01-01T00:00:00Z', '2025-01-02T00:00:00Z'],
      runs: [['2025-01-03T00:00:00.000Z', '2025-01-04T00:00:00.000Z']],
    },
    {
      name: 'the latest interval already ran: nothing until time advances',
      earliest: '2025-01-01T00:00:00Z',
      now: '2025-01-04T10:30:00Z',
      last: ['2025-01-03T00:00:00Z', '2025-01-04T00:00:00Z'],
      runs: [],
    },
    {
      name: 'never before startDate: an off-schedule startDate aligns up, so nothing is complete yet',
      earliest: '2025-01-03T12:00:00Z',
      now: '2025-01-04T10:30:00Z',
      last: null,
      runs: [],
    },
    {
      name: '...and it runs once that first aligned interval has closed',
      earliest: '2025-01-03T12:00:00Z',
      now: '2025-01-05T00:00:00Z',
      last: null,
      runs: [['2025-01-04T00:00:00.000Z', '2025-01-05T00:00:00.000Z']],
    },
    {
      name: 'startDate in the future: nothing',
      earliest: '2025-01-10T00:00:00Z',
      now: '2025-01-04T10:30:00Z',
      last: null,
      runs: [],
    },
  ])('$name', ({ earliest, now, last, runs }) => {
    expect(drain(daily, restriction(earliest, { catchup: false }), now, last)).toEqual(runs);
  });
});

describe('endDate (restriction.latest)', () => {
  it.each<{ name: string; latest: string; runs: number }>([
    { name: 'no interval may start after endDate; one starting before it may end after it', latest: '2025-01-02T12:00:00Z', runs: 2 },
    { name: 'an interval starting exactly at endDate still runs', latest: '2025-01-02T00:00:00Z', runs: 2 },
    { name: 'endDate before the first aligned interval: no runs', latest: '2024-12-31T00:00:00Z', runs: 0 },
  ])('$name', ({ latest, runs }) => {
    const got = drain(timetableFor('@daily', 'UTC'), restriction('2025-01-01T00:00:00Z', { latest }), '2025-01-10T00:00:00Z');
    expect(got).toHaveLength(runs);
    if (runs > 0) expect(got[0]).toEqual(['2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z']);
  });

  it('applies without catchup too', () => {
    const r = restriction('2025-01-01T00:00:00Z', { latest: '2025-01-05T00:00:00Z', catchup: false });
    expect(drain(timetableFor('@daily', 'UTC'), r, '2025-01-10T00:00:00Z')).toEqual([]);
  });
});

describe('OnceTimetable (@once)', () => {
  const once = timetableFor('@once', 'UTC');
  it.each<{ name: string; r: TimeRestriction; now: string; last: Pair | null; expected: Pair | null }>([
    {
      name: 'one run at startDate',
      r: restriction('2025-01-01T00:00:00Z'),
      now: '2025-01-02T00:00:00Z',
      last: null,
      expected: ['2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
    },
    {
      name: 'catchup does not matter',
      r: restriction('2025-01-01T00:00:00Z', { catchup: false }),
      now: '2025-01-09T00:00:00Z',
      last: null,
      expected: ['2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
    },
    {
      name: 'never again after an automated run',
      r: restriction('2025-01-01T00:00:00Z'),
      now: '2025-01-02T00:00:00Z',
      last: ['2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z'],
      expected: null,
    },
    {
      name: 'announced before startDate, due at startDate',
      r: restriction('2025-01-05T00:00:00Z'),
      now: '2025-01-02T00:00:00Z',
      last: null,
      expected: ['2025-01-05T00:00:00.000Z', '2025-01-05T00:00:00.000Z'],
    },
    { name: 'no startDate: never', r: restriction(null), now: '2025-01-02T00:00:00Z', last: null, expected: null },
    {
      name: 'endDate before startDate: never',
      r: restriction('2025-01-01T00:00:00Z', { latest: '2024-12-31T00:00:00Z' }),
      now: '2025-01-02T00:00:00Z',
      last: null,
      expected: null,
    },
  ])('$name', ({ r, now, last, expected }) => {
    const info = once.nextDagRunInfo({ lastAutomatedDataInterval: last && interval(last), restriction: r, now: T(now) });
    expect(info && pair(info.dataInterval)).toEqual(expected);
    if (info) expect(iso(info.runAfter)).toBe(iso(info.dataInterval.start));
  });
});

describe('DeltaDataIntervalTimetable', () => {
  const every6h = new DeltaDataIntervalTimetable(6 * HOUR);
  it.each<{ name: string; r: TimeRestriction; now: string; last: Pair | null; runs: Pair[] }>([
    {
      name: 'catchup: intervals anchored at startDate',
      r: restriction('2025-01-01T01:30:00Z'),
      now: '2025-01-01T20:00:00Z',
      last: null,
      runs: [
        ['2025-01-01T01:30:00.000Z', '2025-01-01T07:30:00.000Z'],
        ['2025-01-01T07:30:00.000Z', '2025-01-01T13:30:00.000Z'],
        ['2025-01-01T13:30:00.000Z', '2025-01-01T19:30:00.000Z'],
      ],
    },
    {
      name: 'no catchup: the latest complete interval on the startDate grid',
      r: restriction('2025-01-01T01:30:00Z', { catchup: false }),
      now: '2025-01-01T20:00:00Z',
      last: null,
      runs: [['2025-01-01T13:30:00.000Z', '2025-01-01T19:30:00.000Z']],
    },
    {
      name: 'no catchup after a pause: skips to the latest complete interval',
      r: restriction('2025-01-01T01:30:00Z', { catchup: false }),
      now: '2025-01-02T02:00:00Z',
      last: ['2025-01-01T01:30:00Z', '2025-01-01T07:30:00Z'],
      runs: [['2025-01-01T19:30:00.000Z', '2025-01-02T01:30:00.000Z']],
    },
    {
      name: 'no catchup, startDate in the future: nothing',
      r: restriction('2025-01-03T00:00:00Z', { catchup: false }),
      now: '2025-01-01T20:00:00Z',
      last: null,
      runs: [],
    },
    {
      name: 'endDate: no interval starts after it',
      r: restriction('2025-01-01T00:00:00Z', { latest: '2025-01-01T06:00:00Z' }),
      now: '2025-01-02T00:00:00Z',
      last: null,
      runs: [
        ['2025-01-01T00:00:00.000Z', '2025-01-01T06:00:00.000Z'],
        ['2025-01-01T06:00:00.000Z', '2025-01-01T12:00:00.000Z'],
      ],
    },
  ])('$name', ({ r, now, last, runs }) => {
    expect(drain(every6h, r, now, last)).toEqual(runs);
  });

  it('ignores DST: a fixed duration is a fixed number of milliseconds', () => {
    const day = new DeltaDataIntervalTimetable(24 * HOUR);
    expect(drain(day, restriction('2025-03-29T00:30:00Z'), '2025-04-01T00:00:00Z').map(([s]) => s)).toEqual([
      '2025-03-29T00:30:00.000Z',
      '2025-03-30T00:30:00.000Z',
    ]);
  });
});

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
