/**
 * A length of time as users write it in DAG files: milliseconds, or an object
 * like `{ minutes: 5 }` (Airflow's timedelta). Everything inside the system
 * works in milliseconds; convert at the edge with `toMs`.
 */
export type Duration = number | { days?: number; hours?: number; minutes?: number; seconds?: number; milliseconds?: number };

const UNIT_MS = { days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1_000, milliseconds: 1 } as const;

/** Converts a Duration to milliseconds; throws a TypeError naming `what` for anything else. */
export function toMs(value: Duration, what = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`${what} must be a non-negative number of milliseconds, got ${value}`);
    return value;
  }
  if (value === null || typeof value !== 'object') {
    throw new TypeError(`${what} must be milliseconds or an object like { minutes: 5 }, got ${JSON.stringify(value)}`);
  }
  let total = 0;
  for (const [unit, amount] of Object.entries(value)) {
    const factor = UNIT_MS[unit as keyof typeof UNIT_MS];
    if (factor === undefined) {
      throw new TypeError(`${what} has unknown unit '${unit}'; use days, hours, minutes, seconds or milliseconds`);
    }
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
      throw new TypeError(`${what}.${unit} must be a non-negative number, got ${JSON.stringify(amount)}`);
    }
    total += amount * factor;
  }
  return total;
}
