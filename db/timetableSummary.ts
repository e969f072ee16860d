/** A short text for a schedule, for listings: '@daily', '0 6 * * 1-5', 'every 6h', 'None'. */
export function timetableSummary(schedule: string | { everyMs: number } | null): string {
  if (schedule === null) return 'None';
  if (typeof schedule === 'string') return schedule;
  return `every ${formatMs(schedule.everyMs)}`;
}

function formatMs(ms: number): string {
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]];
  const parts = [];
  let rest = ms;
  for (const [unit, size] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}ms`);
  return parts.join('');
}
