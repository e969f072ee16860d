import { CronDataIntervalTimetable } from './cronTimetable.ts';
import { DeltaDataIntervalTimetable } from './deltaTimetable.ts';
import { NullTimetable } from './nullTimetable.ts';
import { OnceTimetable } from './onceTimetable.ts';
import type { Timetable } from './types.ts';

export type { DagRunInfo, DataInterval, TimeRestriction, Timetable } from './types.ts';
export { CRON_PRESETS, expandCronPreset } from './presets.ts';
export { CronDataIntervalTimetable, DeltaDataIntervalTimetable, NullTimetable, OnceTimetable };

/**
 * The timetable for a DAG's `schedule`: null -> manual only, '@once' -> one
 * run, { everyMs } -> fixed duration, any other string -> cron expression or
 * preset in `timezone`. Throws DagDefinitionError for a bad cron, timezone or
 * duration.
 */
export function timetableFor(schedule: string | { everyMs: number } | null, timezone: string): Timetable {
  if (schedule === null) return new NullTimetable();
  if (typeof schedule !== 'string') return new DeltaDataIntervalTimetable(schedule.everyMs);
  if (schedule === '@once') return new OnceTimetable();
  return new CronDataIntervalTimetable(schedule, timezone);
}
