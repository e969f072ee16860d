import { afterEach, describe, expect, it, vi } from 'vitest';
import { CronDataIntervalTimetable, timetableFor } from '../../../core/timetables/index.ts';
import { HOUR, T, iso, type Pair, pair, interval, restriction, drain } from '../../helpers/timetables.ts';

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
      name: "'30 1 * * *' New York, fall back: 01:30 happens twice, runs once at the second (EST), as Airflow",
      schedule: '30 1 * * *',
      tz: 'America/New_York',
      earliest: '2025-11-01T05:30:00Z',
      now: '2025-11-04T00:00:00Z',
      runs: [
        ['2025-11-01T05:30:00.000Z', '2025-11-02T06:30:00.000Z'], // 01:30 EDT -> second 01:30 (EST), 25h
        ['2025-11-02T06:30:00.000Z', '2025-11-03T06:30:00.000Z'], // -> 01:30 EST
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
      name: "'30 2 * * *' Berlin, spring forward: 02:30 does not exist, runs moved forward by the gap (03:30 CEST), as Airflow",
      schedule: '30 2 * * *',
      tz: 'Europe/Berlin',
      earliest: '2025-03-29T01:30:00Z',
      now: '2025-04-01T00:00:00Z',
      runs: [
        ['2025-03-29T01:30:00.000Z', '2025-03-30T01:30:00.000Z'], // 02:30 CET -> 03:30 CEST (24h)
        ['2025-03-30T01:30:00.000Z', '2025-03-31T00:30:00.000Z'], // -> 02:30 CEST (23h)
      ],
    },
    {
      name: "'30 2 * * *' Berlin, fall back: 02:30 happens twice, runs once at the second (CET), as Airflow",
      schedule: '30 2 * * *',
      tz: 'Europe/Berlin',
      earliest: '2025-10-25T00:30:00Z',
      now: '2025-10-28T00:00:00Z',
      runs: [
        ['2025-10-25T00:30:00.000Z', '2025-10-26T01:30:00.000Z'], // 02:30 CEST -> second 02:30 (CET), 25h
        ['2025-10-26T01:30:00.000Z', '2025-10-27T01:30:00.000Z'], // -> 02:30 CET
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

/** Airflow's TestCronIntervalDst cases: Europe/Zurich, fall back 2023-10-29 03:00 CEST -> 02:00 CET, spring forward 2023-03-26 02:00 CET -> 03:00 CEST. */
describe('CronDataIntervalTimetable in Europe/Zurich: the intervals Airflow picks around DST', () => {
  const zurich = (schedule: string) => new CronDataIntervalTimetable(schedule, 'Europe/Zurich');

  it.each<{ name: string; schedule: string; earliest: string; now: string; runs: Pair[] }>([
    {
      name: "'0 2 * * *' from 2023-10-27: the fold day runs at the second 02:00 (CET), none skipped",
      schedule: '0 2 * * *',
      earliest: '2023-10-27T00:00:00+02:00',
      now: '2023-10-31T00:00:00Z',
      runs: [
        ['2023-10-27T00:00:00.000Z', '2023-10-28T00:00:00.000Z'], // 02:00 CEST -> 02:00 CEST
        ['2023-10-28T00:00:00.000Z', '2023-10-29T01:00:00.000Z'], // -> second 02:00 (CET), 25h
        ['2023-10-29T01:00:00.000Z', '2023-10-30T01:00:00.000Z'], // CET -> CET
      ],
    },
    {
      name: "'0 2 * * *' spring forward: 02:00 does not exist on 2023-03-26, runs at 03:00 CEST",
      schedule: '0 2 * * *',
      earliest: '2023-03-25T01:00:00Z', // 02:00 CET
      now: '2023-03-27T23:59:59Z',
      runs: [
        ['2023-03-25T01:00:00.000Z', '2023-03-26T01:00:00.000Z'], // -> 03:00 CEST (24h)
        ['2023-03-26T01:00:00.000Z', '2023-03-27T00:00:00.000Z'], // -> 02:00 CEST (23h)
      ],
    },
    {
      name: "'30 2 * * *' spring forward: 02:30 does not exist on 2023-03-26, runs at 03:30 CEST",
      schedule: '30 2 * * *',
      earliest: '2023-03-25T01:30:00Z', // 02:30 CET
      now: '2023-03-28T00:00:00Z',
      runs: [
        ['2023-03-25T01:30:00.000Z', '2023-03-26T01:30:00.000Z'], // -> 03:30 CEST (24h)
        ['2023-03-26T01:30:00.000Z', '2023-03-27T00:30:00.000Z'], // -> 02:30 CEST (23h)
      ],
    },
    {
      name: "'30 * * * *' across the fold: 02:30 runs twice (CEST, then CET), every interval 1h",
      schedule: '30 * * * *',
      earliest: '2023-10-28T23:30:00Z', // 01:30 CEST
      now: '2023-10-29T02:30:00Z',
      runs: [
        ['2023-10-28T23:30:00.000Z', '2023-10-29T00:30:00.000Z'], // 01:30 CEST -> 02:30 CEST
        ['2023-10-29T00:30:00.000Z', '2023-10-29T01:30:00.000Z'], // -> 02:30 CET
        ['2023-10-29T01:30:00.000Z', '2023-10-29T02:30:00.000Z'], // -> 03:30 CET
      ],
    },
    {
      name: "'30 * * * *' across the gap: 02:30 does not exist, every interval 1h",
      schedule: '30 * * * *',
      earliest: '2023-03-26T00:30:00Z', // 01:30 CET
      now: '2023-03-26T02:30:00Z',
      runs: [
        ['2023-03-26T00:30:00.000Z', '2023-03-26T01:30:00.000Z'], // 01:30 CET -> 03:30 CEST
        ['2023-03-26T01:30:00.000Z', '2023-03-26T02:30:00.000Z'], // -> 04:30 CEST
      ],
    },
  ])('$name', ({ schedule, earliest, now, runs }) => {
    expect(drain(zurich(schedule), restriction(earliest), now)).toEqual(runs);
  });

  /** The local wall clock of an instant in Zurich, e.g. '2023-10-29 02:00'. */
  const local = (iso: string) => new Date(iso).toLocaleString('sv-SE', { timeZone: 'Europe/Zurich' }).slice(0, 16);
  const days = (from: string, count: number) =>
    Array.from({ length: count }, (_, i) => new Date(Date.parse(`${from}T12:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));

  it.each<{ name: string; earliest: string; now: string; firstEnd: string; count: number }>([
    { name: 'fall back (2023-10-29)', earliest: '2023-10-01T00:00:00Z', now: '2023-11-30T12:00:00Z', firstEnd: '2023-10-02', count: 60 },
    { name: 'spring forward (2023-03-26)', earliest: '2023-03-01T01:00:00Z', now: '2023-04-30T12:00:00Z', firstEnd: '2023-03-02', count: 60 },
  ])("catch-up of '0 2 * * *' across $name: one run per local day, no duplicate, none missing", ({ earliest, now, firstEnd, count }) => {
    const runs = drain(zurich('0 2 * * *'), restriction(earliest), now);
    runs.slice(1).forEach(([start], i) => expect(start).toBe(runs[i]![1])); // contiguous
    const expectedEnds = days(firstEnd, count).map((d) => (d === '2023-03-26' ? `${d} 03:00` : `${d} 02:00`));
    expect(runs.map(([, end]) => local(end))).toEqual(expectedEnds);
  });

  it("catch-up of '0 * * * *' over the fold day: 25 hourly runs, each exactly 1h", () => {
    const runs = drain(zurich('0 * * * *'), restriction('2023-10-28T22:00:00Z'), '2023-10-29T23:00:00Z'); // local midnight to midnight
    expect(runs).toHaveLength(25);
    for (const [start, end] of runs) expect(Date.parse(end) - Date.parse(start)).toBe(HOUR);
    expect(runs.map(([, end]) => local(end)).filter((l) => l === '2023-10-29 02:00')).toHaveLength(2);
  });

  it('without catchup, the fold-day interval is due only at the second 02:00', () => {
    const r = restriction('2023-10-27T00:00:00+02:00', { catchup: false });
    const last: Pair = ['2023-10-27T00:00:00Z', '2023-10-28T00:00:00Z'];
    expect(drain(zurich('0 2 * * *'), r, '2023-10-29T00:30:00Z', last)).toEqual([]); // the first 02:00 has passed
    expect(drain(zurich('0 2 * * *'), r, '2023-10-29T01:00:00Z', last)).toEqual([['2023-10-28T00:00:00.000Z', '2023-10-29T01:00:00.000Z']]);
  });

  it('a backfill over the fold (intervalsBetween) gives the same intervals as the scheduler', () => {
    const got = zurich('0 2 * * *').intervalsBetween(T('2023-10-28T00:00:00Z'), T('2023-10-30T01:00:00Z')).map(pair);
    expect(got).toEqual([
      ['2023-10-28T00:00:00.000Z', '2023-10-29T01:00:00.000Z'],
      ['2023-10-29T01:00:00.000Z', '2023-10-30T01:00:00.000Z'],
    ]);
  });

  it.each<{ runAfter: string; expected: Pair }>([
    { runAfter: '2023-10-29T00:30:00Z', expected: ['2023-10-27T00:00:00.000Z', '2023-10-28T00:00:00.000Z'] }, // first 02:30: before the fire time
    { runAfter: '2023-10-29T01:30:00Z', expected: ['2023-10-28T00:00:00.000Z', '2023-10-29T01:00:00.000Z'] }, // second 02:30
  ])('a manual run at $runAfter on the fold day covers $expected', ({ runAfter, expected }) => {
    expect(pair(zurich('0 2 * * *').inferManualDataInterval(T(runAfter)))).toEqual(expected);
  });
});
