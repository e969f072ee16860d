/**
 * Wall-clock time in an IANA timezone, as Airflow's cron timetables see it:
 * cron fields are read on the naive local clock (`make_naive`) and the result
 * is placed back in the timezone (`make_aware`). A naive time is a Date whose
 * UTC fields are the local clock's fields.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A cached formatter of `timezone`'s wall clock (numeric parts, 24-hour): Intl formatters are costly to build. */
export function wallClockFormatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** The local clock in `timezone` at instant `t` (Airflow's make_naive). */
export function toWallClock(t: Date, timezone: string): Date {
  if (timezone === 'UTC') return new Date(t); // most DAGs: no formatting needed
  const p: Record<string, number> = {};
  for (const { type, value } of wallClockFormatter(timezone).formatToParts(t)) p[type] = Number(value);
  return new Date(Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!, t.getUTCMilliseconds()));
}

/** UTC offset of `timezone` at instant `ms`, in ms. */
function offsetAt(ms: number, timezone: string): number {
  return toWallClock(new Date(ms), timezone).getTime() - ms;
}

/**
 * The instant the local clock in `timezone` shows `naive` (Airflow's make_aware,
 * which sets fold=1): a time that occurs twice (fall back) is its second
 * occurrence, after the clocks went back; a time that does not exist (spring
 * forward) is read with the offset before the gap, i.e. moved forward by the
 * gap (02:30 in a 02:00 -> 03:00 gap is 03:30).
 */
export function fromWallClock(naive: Date, timezone: string): Date {
  if (timezone === 'UTC') return new Date(naive);
  const ms = naive.getTime();
  // Offsets a day either side: no zone changes its offset twice within 2 days.
  const before = offsetAt(ms - 86_400_000, timezone);
  const after = offsetAt(ms + 86_400_000, timezone);
  const valid = [ms - before, ms - after].filter((t) => offsetAt(t, timezone) === ms - t);
  if (valid.length === 0) return new Date(ms - before); // in the gap
  return new Date(Math.max(...valid));
}
