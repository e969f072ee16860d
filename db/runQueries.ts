import type { Knex } from 'knex';
import type { DagRunRow, TaskInstanceRow } from './rows.ts';

/** Reads of runs and task instances shared by the CLI, the REST API and the UI. */

export function listDagRuns(knex: Knex, dagId: string, options: { state?: string; limit?: number } = {}): Promise<DagRunRow[]> {
  const query = knex<DagRunRow>('dag_run').where('dag_id', dagId).orderBy('logical_date', 'desc');
  if (options.state) query.where('state', options.state);
  if (options.limit) query.limit(options.limit);
  return query;
}

export function taskInstancesOfRun(knex: Knex, dagId: string, runId: string): Promise<TaskInstanceRow[]> {
  return knex<TaskInstanceRow>('task_instance').where({ dag_id: dagId, run_id: runId }).orderBy(['start_date', 'task_id', 'map_index']);
}

/** Airflow's field names for a dag run (CLI JSON and REST). */
export function dagRunFields(run: DagRunRow) {
  return {
    dag_id: run.dag_id,
    run_id: run.run_id,
    state: run.state,
    run_type: run.run_type,
    logical_date: run.logical_date,
    data_interval_start: run.data_interval_start,
    data_interval_end: run.data_interval_end,
    start_date: run.start_date,
    end_date: run.end_date,
    conf: run.conf,
  };
}

/** Airflow's field names for a task instance (CLI JSON and REST). */
export function taskInstanceFields(ti: TaskInstanceRow) {
  return {
    dag_id: ti.dag_id,
    run_id: ti.run_id,
    task_id: ti.task_id,
    map_index: ti.map_index,
    state: ti.state,
    try_number: ti.try_number,
    start_date: ti.start_date,
    end_date: ti.end_date,
    duration: ti.duration,
  };
}
