import { describe, expect, it } from 'vitest';
import { DeltaDataIntervalTimetable, type TimeRestriction } from '../../../core/timetables/index.ts';
import { HOUR, type Pair, restriction, drain } from '../../helpers/timetables.ts';

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
