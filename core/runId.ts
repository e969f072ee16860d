/** Dag run types, as Airflow's DagRunType. */
export type RunType = 'scheduled' | 'manual' | 'backfill';

/**
 * Airflow's run id: `<run_type>__<logical date in Python isoformat>`, e.g.
 * `scheduled__2025-01-01T00:00:00+00:00` or `manual__2025-01-01T10:30:00.123000+00:00`.
 */
export function runIdFor(runType: RunType, logicalDate: Date): string {
  return `${runType}__${pythonIsoFormat(logicalDate)}`;
}

/** Python's datetime.isoformat() for a UTC instant: microseconds only when non-zero, offset +00:00. */
export function pythonIsoFormat(date: Date): string {
  const iso = date.toISOString(); // 2025-01-01T00:00:00.000Z
  const ms = date.getUTCMilliseconds();
  return `${iso.slice(0, 19)}${ms ? `.${String(ms).padStart(3, '0')}000` : ''}+00:00`;
}
