import os from 'node:os';
import { isoOrNull } from '../../../core/isoDate.ts';
import type { TaskInstanceWithDate } from '../../../db/models/taskInstanceListing.ts';
import type { TriggererJobRow, TriggerRow } from '../../../db/models/trigger.ts';

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

/** Airflow's TaskInstance object; `deferral`: a deferred task instance's trigger and the triggerer holding it. */
export function taskInstanceJson(ti: TaskInstanceWithDate, deferral?: { trigger: TriggerRow; job: TriggererJobRow | null }) {
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
    trigger: deferral ? triggerJson(deferral.trigger) : null,
    triggerer_job: deferral?.job ? jobJson(deferral.job) : null,
    note: ti.note,
  };
}

/** Airflow's TaskInstanceReference: what clear and mark return. */
export function taskInstanceReference(ti: { task_id: string; dag_id: string; run_id: string; execution_date: Date }) {
  return { task_id: ti.task_id, dag_id: ti.dag_id, execution_date: isoOrNull(ti.execution_date), dag_run_id: ti.run_id };
}

/** Airflow's Trigger object (kwargs as text, as Airflow's schema has it; they hold connection ids, never a secret). */
function triggerJson(trigger: TriggerRow) {
  return {
    id: trigger.id,
    classpath: trigger.classpath,
    kwargs: JSON.stringify(trigger.kwargs),
    created_date: isoOrNull(trigger.created_date),
    triggerer_id: trigger.triggerer_id,
  };
}

/** Airflow's Job object, for the triggerer holding a trigger. */
function jobJson(job: TriggererJobRow) {
  return {
    id: job.id,
    dag_id: null,
    state: job.state,
    job_type: job.job_type,
    start_date: isoOrNull(job.start_date),
    end_date: isoOrNull(job.end_date),
    latest_heartbeat: isoOrNull(job.latest_heartbeat),
    executor_class: job.executor_class,
    hostname: job.hostname,
    unixname: unixName(),
  };
}
