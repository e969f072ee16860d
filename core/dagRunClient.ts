/**
 * What an operator may ask of other DAGs' runs while it runs in a worker: trigger one, reset one, read
 * the states of runs and task instances (Airflow's trigger_dag, DagRun.find and the ExternalTaskSensor's
 * queries). The task runner supplies it in the context (runner/dagRunClient.ts) through services/ and
 * db/, so a DAG file never touches the database itself.
 */
import type { BaseOperator } from './baseOperator.ts';
import { AirflowError } from './errors.ts';
import type { TaskContext } from './taskContext.ts';

export interface TriggeredRun {
  runId: string;
  logicalDate: Date;
}

export interface TriggerRunRequest {
  dagId: string;
  /** Default: Airflow's `manual__<logical date>`. */
  runId?: string;
  /** Default: now. */
  logicalDate?: Date;
  conf: Record<string, unknown>;
}

/** One task instance of another DAG, at one of the logical dates asked about. */
export interface ExternalTaskState {
  logicalDate: Date;
  taskId: string;
  mapIndex: number;
  state: string | null;
}

export interface DagRunClient {
  /** Creates a manual run (conf checked against the DAG's params); throws DagRunAlreadyExistsError when its run id or logical date is taken. */
  trigger(request: TriggerRunRequest): Promise<TriggeredRun>;
  /**
   * Clears every task instance of the DAG's run with this run id, or else at this logical date, so the run
   * goes back to queued and runs again (Airflow's resetDagRun: `dag.clear()` of that date). Returns that run.
   */
  reset(dagId: string, runId: string, logicalDate: Date): Promise<TriggeredRun>;
  /** The run's state, or null when it does not exist. */
  runState(dagId: string, runId: string): Promise<string | null>;
  /** The DAG's runs at these logical dates, with their states. */
  runStatesAt(dagId: string, logicalDates: readonly Date[]): Promise<{ logicalDate: Date; state: string }[]>;
  /** The task instances of these tasks in the DAG's runs at these logical dates. */
  taskStatesAt(dagId: string, taskIds: readonly string[], logicalDates: readonly Date[]): Promise<ExternalTaskState[]>;
  /** The DAG's tasks as last parsed (id and task group), or null when no such DAG is known. */
  tasksOf(dagId: string): Promise<{ taskId: string; taskGroupId?: string }[] | null>;
}

/** The context's client for other DAGs' runs; a clear error where the context has none (no task runner). */
export function dagRunsOf(context: TaskContext, task: BaseOperator): DagRunClient {
  if (!context.dagRuns) throw new AirflowError(`${task.operatorName} '${task.taskId}' needs the task runner's access to dag runs, which this context lacks`);
  return context.dagRuns;
}
