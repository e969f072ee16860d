import { isoOrNull } from '../../../core/isoDate.ts';
import type { SerializedDag } from '../../../core/serialize.ts';
import { fileToken } from '../../../db/models/dagCode.ts';

/** Airflow's DAG object. */
export function dagJson(row: Record<string, any>) {
  return {
    dag_id: row.dag_id,
    dag_display_name: row.dag_id,
    root_dag_id: null,
    is_paused: row.is_paused,
    is_active: row.is_active,
    is_subdag: false,
    last_parsed_time: isoOrNull(row.last_parsed_time),
    last_pickled: null,
    last_expired: null,
    scheduler_lock: null,
    pickle_id: null,
    default_view: 'grid',
    fileloc: row.fileloc,
    file_token: fileToken(row.fileloc),
    owners: String(row.owners ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    description: row.description,
    schedule_interval: scheduleInterval(row.schedule),
    timetable_description: row.timetable_summary,
    tags: (row.tags as string[]).map((name) => ({ name })),
    max_active_tasks: row.max_active_tasks,
    max_active_runs: row.max_active_runs,
    has_task_concurrency_limits: false,
    has_import_errors: row.has_import_errors,
    next_dagrun: isoOrNull(row.next_dagrun),
    next_dagrun_data_interval_start: isoOrNull(row.next_dagrun_data_interval_start),
    next_dagrun_data_interval_end: isoOrNull(row.next_dagrun_data_interval_end),
    next_dagrun_create_after: isoOrNull(row.next_dagrun_create_after),
  };
}

/** Airflow's ScheduleInterval: a cron expression or a TimeDelta, tagged with __type. */
function scheduleInterval(schedule: SerializedDag['schedule']) {
  if (schedule === null || schedule === undefined) return null;
  if (typeof schedule === 'string') return { __type: 'CronExpression', value: schedule };
  const seconds = Math.floor(schedule.everyMs / 1000);
  return { __type: 'TimeDelta', days: Math.floor(seconds / 86_400), seconds: seconds % 86_400, microseconds: (schedule.everyMs % 1000) * 1000 };
}
