/** ISO 8601 with milliseconds and an explicit offset, as Airflow prints dates: 2025-01-01T00:00:00.000+00:00. */
export function isoWithOffset(date: Date): string {
  return date.toISOString().replace('Z', '+00:00');
}

/** The same for nullable columns. */
export function isoOrNull(date: Date | null | undefined): string | null {
  return date ? isoWithOffset(date) : null;
}
