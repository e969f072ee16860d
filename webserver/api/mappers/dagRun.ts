import { isoOrNull } from '../../../core/isoDate.ts';
import type { DagRunRow } from '../../../db/rows.ts';

/** Airflow's DAGRun object. */
export function dagRunJson(run: DagRunRow) {
  return {
    dag_run_id: run.run_id,
    dag_id: run.dag_id,
    logical_date: isoOrNull(run.logical_date),
    execution_date: isoOrNull(run.logical_date),
    start_date: isoOrNull(run.start_date),
    end_date: isoOrNull(run.end_date),
    data_interval_start: isoOrNull(run.data_interval_start),
    data_interval_end: isoOrNull(run.data_interval_end),
    last_scheduling_decision: isoOrNull(run.last_scheduling_decision),
    run_type: run.run_type,
    state: run.state,
    external_trigger: run.external_trigger,
    conf: run.conf,
    note: run.note,
  };
}
