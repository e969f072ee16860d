import { wallClockFormatter } from './timetables/wallClock.ts';
/** ISO 8601 with milliseconds and an explicit offset, as Airflow prints dates: 2025-01-01T00:00:00.000+00:00. */
export function isoWithOffset(date: Date): string {
  return date.toISOString().replace('Z', '+00:00');
}

/** The same for nullable columns. */
export function isoOrNull(date: Date | null | undefined): string | null {
  return date ? isoWithOffset(date) : null;
}

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO 8601 date or date-time, or null. Without an offset it is wall-clock time in
 * `timeZone` (a bare date: midnight there), as Airflow reads naive dates in its default
 * timezone; never in the machine's zone, which would make the date depend on the host.
 */
export function parseIsoDate(text: string, timeZone = 'UTC'): Date | null {
  const match = ISO_DATE.exec(text.trim());
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate() || hour > 23 || minute > 59 || second > 59) return null;
  const wall = utcMs(year, month, day, hour, minute, second, Number((match[7] ?? '.0').slice(1, 4).padEnd(3, '0')));
  const given = match[8]?.toUpperCase();
  if (given === 'Z') return new Date(wall);
  if (given) {
    const [, sign, hours, minutes] = /^([+-])(\d{2}):?(\d{2})$/.exec(given)!;
    return new Date(wall - (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes)) * 60_000);
  }
  if (timeZone === 'UTC') return new Date(wall);
  // The zone's offsets a day either side (real zones change at most once in that span): the wall time
  // read with each, kept where the zone really has that offset then. Twice in a fall-back hour: the
  // earlier; never (skipped by a spring-forward): read with the offset before the change, so later.
  const offsets = [zoneOffsetMs(wall - DAY_MS, timeZone), zoneOffsetMs(wall + DAY_MS, timeZone)];
  const fits = offsets.map((offset) => wall - offset).filter((utc, i) => zoneOffsetMs(utc, timeZone) === offsets[i]);
  return new Date(fits.length ? Math.min(...fits) : wall - Math.min(...offsets));
}

/** Date.UTC without its mapping of years 0-99 to 1900-1999. */
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.setUTCHours(hour, minute, second, ms);
}

/** How far `timeZone`'s wall clock is ahead of UTC at the instant `at` (ms since the epoch). */
function zoneOffsetMs(at: number, timeZone: string): number {
  const format = wallClockFormatter(timeZone);
  const part = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, Number(p.value)]));
  const whole = Math.floor(at / 1000) * 1000;
  return utcMs(part.year!, part.month!, part.day!, part.hour!, part.minute!, part.second!, 0) - whole;
}
