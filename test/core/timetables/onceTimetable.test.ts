import { describe, expect, it } from 'vitest';
import { timetableFor, type TimeRestriction } from '../../../core/timetables/index.ts';
import { T, iso, type Pair, pair, interval, restriction } from '../../helpers/timetables.ts';

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
