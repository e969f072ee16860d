import os from 'node:os';
import { isoOrNull } from '../../../core/isoDate.ts';
import type { TaskInstanceWithDate } from '../../../db/models/taskInstanceListing.ts';

let unixname: string | null = null;
/** Who runs the tasks: runners are started by the scheduler as the same OS user the webserver runs as. */
function unixName(): string {
  if (unixname === null) {
    try {
      unixname = os.userInfo().username;
    } catch {
      unixname = 'airflow';
    }
  }
  return unixname;
}

/** Airflow's TaskInstance object. */
export function taskInstanceJson(ti: TaskInstanceWithDate) {
  return {
    task_id: ti.task_id,
    task_display_name: ti.task_id,
    dag_id: ti.dag_id,
    dag_run_id: ti.run_id,
    execution_date: isoOrNull(ti.execution_date),
    start_date: isoOrNull(ti.start_date),
    end_date: isoOrNull(ti.end_date),
    duration: ti.duration,
    state: ti.state,
    try_number: ti.try_number,
    map_index: ti.map_index,
    max_tries: ti.max_tries,
    hostname: ti.hostname ?? '',
    unixname: unixName(),
    pool: ti.pool,
    pool_slots: ti.pool_slots,
    queue: ti.queue,
    priority_weight: ti.priority_weight,
    operator: ti.operator,
    queued_when: isoOrNull(ti.queued_dttm),
    pid: ti.pid,
    executor: null,
    executor_config: JSON.stringify(ti.executor_config ?? {}),
    sla_miss: null,
    rendered_map_index: null,
    rendered_fields: {},
    trigger: null,
    triggerer_job: null,
    note: ti.note,
  };
}

/** Airflow's TaskInstanceReference: what clear and mark return. */
export function taskInstanceReference(ti: { task_id: string; dag_id: string; run_id: string; execution_date: Date }) {
  return { task_id: ti.task_id, dag_id: ti.dag_id, execution_date: isoOrNull(ti.execution_date), dag_run_id: ti.run_id };
}
