import { parseIsoDate } from '../core/isoDate.ts';

/**
 * Parses a date from the command line: ISO 8601, and without an offset in `timeZone`
 * (core.defaultTimezone, as Airflow's CLI does; a bare YYYY-MM-DD is midnight there).
 */
export function parseCliDate(value: string, option: string, timeZone: string): Date {
  const date = parseIsoDate(value, timeZone);
  if (!date) throw new Error(`${option}: '${value}' is not a date; use ISO 8601 like 2025-01-31 or 2025-01-31T06:00:00Z`);
  return date;
}

/** Parses --conf: a JSON object. */
export function parseConf(value: string | undefined): Record<string, unknown> {
  if (value === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new Error(`--conf is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('--conf must be a JSON object, like \'{"key": "value"}\'');
  return parsed as Record<string, unknown>;
}
