/**
 * Cron presets (Airflow's `airflow.utils.dates.cron_presets`, plus '@annually'
 * as cron spells it). '@once' and None are not presets: they have their own
 * timetables.
 */
export const CRON_PRESETS: Readonly<Record<string, string>> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@quarterly': '0 0 1 */3 *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

/** The cron expression for a preset, or the expression itself when it is not one. */
export function expandCronPreset(expression: string): string {
  return CRON_PRESETS[expression] ?? expression;
}
