/**
 * What a running task receives (Airflow's template/execution context). Only
 * the members DAG authors already use are declared; the runner fills in more.
 */
export interface TaskContext {
  [key: string]: unknown;
  ti: {
    xcomPull(args: { taskIds: string | string[]; key?: string }): Promise<unknown>;
    xcomPush(key: string, value: unknown): Promise<void>;
  };
  params: Record<string, unknown>;
  /** The logical date as YYYY-MM-DD. */
  ds: string;
  logicalDate: Date;
  runId: string;
}
