import type { TaskInstanceRow } from './rows.ts';

/**
 * Everything needed to run one try of one task instance; plain data, never a live DAG. The scheduler
 * hands it to an executor, the LocalExecutor to a warm worker (runner/workerProtocol.ts). It lives
 * here, below both, so that the runner never imports executors.
 */
export interface TaskWorkload {
  tiId: number;
  dagId: string;
  taskId: string;
  runId: string;
  mapIndex: number;
  tryNumber: number;
  queue: string;
  priorityWeight: number;
  executorConfig: Record<string, unknown> | null;
}

export function workloadOf(ti: TaskInstanceRow): TaskWorkload {
  return {
    tiId: ti.id,
    dagId: ti.dag_id,
    taskId: ti.task_id,
    runId: ti.run_id,
    mapIndex: ti.map_index,
    tryNumber: ti.try_number,
    queue: ti.queue,
    priorityWeight: ti.priority_weight,
    executorConfig: ti.executor_config,
  };
}
