import type { DagRunState, TiState } from '../core/state.ts';

/** Rows of the task_instance and dag_run tables, as Postgres returns them (column names as in Airflow). */

export interface TaskInstanceRow {
  id: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  state: TiState;
  try_number: number;
  max_tries: number;
  start_date: Date | null;
  end_date: Date | null;
  duration: number | null;
  hostname: string | null;
  pid: number | null;
  pool: string;
  pool_slots: number;
  /** The task's maxActiveTisPerDag / maxActiveTisPerDagrun, copied at creation for the claim; null: no cap. */
  max_active_tis_per_dag: number | null;
  max_active_tis_per_dagrun: number | null;
  queue: string;
  priority_weight: number;
  operator: string | null;
  queued_dttm: Date | null;
  queued_by_job_id: number | null;
  executor_config: Record<string, unknown> | null;
  next_retry_at: Date | null;
  last_heartbeat_at: Date | null;
  note: string | null;
  /** A deferred task's trigger; how it resumes (method, and the event in next_kwargs.event); until when it may wait. */
  trigger_id: number | null;
  next_method: string | null;
  next_kwargs: Record<string, unknown> | null;
  trigger_timeout: Date | null;
  updated_at: Date;
}

export interface DagRunRow {
  id: number;
  dag_id: string;
  run_id: string;
  logical_date: Date;
  data_interval_start: Date | null;
  data_interval_end: Date | null;
  state: DagRunState;
  run_type: 'scheduled' | 'manual' | 'backfill';
  external_trigger: boolean;
  conf: Record<string, unknown>;
  queued_at: Date | null;
  start_date: Date | null;
  end_date: Date | null;
  last_scheduling_decision: Date | null;
  creating_job_id: number | null;
  clear_number: number;
  note: string | null;
  updated_at: Date;
}
