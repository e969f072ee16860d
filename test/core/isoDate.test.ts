import { describe, expect, it } from 'vitest';
import { parseIsoDate } from '../../core/isoDate.ts';

const iso = (text: string, timeZone?: string) => parseIsoDate(text, timeZone)?.toISOString() ?? null;

describe('parseIsoDate', () => {
  it.each([
    ['2025-01-31T06:00', undefined, '2025-01-31T06:00:00.000Z'],
    ['2025-01-31', undefined, '2025-01-31T00:00:00.000Z'],
    ['2025-01-31 06:00:07.29', undefined, '2025-01-31T06:00:07.290Z'],
    ['2025-01-31T06:00', 'Asia/Tokyo', '2025-01-30T21:00:00.000Z'],
    ['2025-01-31', 'America/New_York', '2025-01-31T05:00:00.000Z'],
    ['2025-07-01T06:00', 'America/New_York', '2025-07-01T10:00:00.000Z'],
    ['2025-01-31T06:00Z', 'Asia/Tokyo', '2025-01-31T06:00:00.000Z'],
    ['2025-01-31T06:00+0530', 'Asia/Tokyo', '2025-01-31T00:30:00.000Z'],
    ['2025-01-31T06:00-02:00', undefined, '2025-01-31T08:00:00.000Z'],
    ['0050-01-01T00:00Z', undefined, '0050-01-01T00:00:00.000Z'],
  ])('%s in %s is %s', (text, timeZone, expected) => {
    expect(iso(text, timeZone)).toBe(expected);
  });

  it('a wall time a spring-forward skips moves forward; one a fall-back repeats is the earlier', () => {
    expect(iso('2025-03-09T02:30', 'America/New_York')).toBe('2025-03-09T07:30:00.000Z'); // 03:30 EDT
    expect(iso('2025-03-30T02:30', 'Europe/Berlin')).toBe('2025-03-30T01:30:00.000Z'); // 03:30 CEST
    expect(iso('2025-11-02T01:30', 'America/New_York')).toBe('2025-11-02T05:30:00.000Z'); // 01:30 EDT
    expect(iso('2025-10-26T02:30', 'Europe/Berlin')).toBe('2025-10-26T00:30:00.000Z'); // 02:30 CEST
  });

  it.each(['nope', '2025-02-30', '2025-13-01', '2025-01-31T24:00', '2025-01-31T06:60', '31/01/2025', 'Jan 31 2025'])('%s is not a date', (text) => {
    expect(parseIsoDate(text)).toBeNull();
  });
});
