import type { BenchDatabase } from './embeddedSystem.ts';
import type { SchedulerProcess } from './schedulerProcess.ts';

export const EXECUTORS = ['LocalExecutor', 'SequentialExecutor'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

/** One figure a scenario reports per run; the table shows its median over the runs. */
export interface Metric {
  key: string;
  label: string;
  unit: 'ms' | 's' | 'MiB' | 'TI/s' | 'x';
  /** The target, for the executors it applies to. */
  target?: { op: '<=' | '>='; value: number; executors: readonly ExecutorName[] };
}

/** How a scenario runs with one executor; anything that differs from the setup is said in `note`. */
export interface Plan {
  parallelism: number;
  params: Record<string, number | string>;
  note?: string;
}

/** What a scenario gets for one run: a fresh database, a fresh folder, and a way to start the scheduler on them. */
export interface RunContext {
  executor: ExecutorName;
  db: BenchDatabase;
  home: string;
  dagsFolder: string;
  startScheduler(options?: { readyTimeoutMs?: number; env?: Record<string, string> }): Promise<SchedulerProcess>;
}

/** Command-line choices that change what a scenario runs (and so are stated in its plan). */
export interface BenchOptions {
  /** Cap on fanout400's task count with the SequentialExecutor (one task at a time); null: all 400. */
  sequentialFanoutTasks: number | null;
}

export interface Scenario {
  name: string;
  description: string;
  metrics: readonly Metric[];
  plan(executor: ExecutorName, options: BenchOptions): Plan;
  /** One run; returns a value for every metric key. */
  run(context: RunContext, plan: Plan): Promise<Record<string, number>>;
}
