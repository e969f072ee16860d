/**
 * The contract every executor implements (Airflow's BaseExecutor, narrowed).
 *
 * An executor runs task instances somewhere (this process's children, a pod)
 * and REPORTS what happened to the process it started. It never writes task
 * state: the task runner records the try's outcome itself, and the scheduler
 * applies executor events through db/transitions.ts (ADR 0002) — e.g. a
 * runner that died without recording anything becomes a failed try.
 */

import type { TaskWorkload } from '../db/taskWorkload.ts';

/** What happened to the process that ran a workload. */
export interface ExecutorEvent {
  tiId: number;
  /**
   * 'success' / 'failed': the runner process exited with code 0 / otherwise (or could not start);
   * 'requeue': a task instance a dead worker had reserved but not started, to be scheduled again.
   */
  outcome: 'success' | 'failed' | 'requeue';
  info: string;
  /**
   * The try it is about: an event about an earlier try (a stale process exiting, or the report of a failed
   * try read after its retry was queued) never fails a later one (ADR 0007). Every executor sets it on the
   * events of the tries it ran (test/executors/conformance.test.ts checks); only the scheduler's own zombie
   * check, which reads the current try, leaves it out.
   */
  tryNumber?: number;
}

export interface AdoptionContext {
  liveJobIds: number[];
  isActive(tiId: number, tryNumber: number): boolean;
}

export interface Executor {
  readonly name: string;
  /** `jobId`: the scheduler's job, recorded as queued_by_job_id on what the executor's workers claim themselves. */
  start(context: { jobId: number | null }): Promise<void>;
  /** How many more workloads it accepts now (Airflow's parallelism minus running). */
  slotsAvailable(): number;
  queue(workload: TaskWorkload): void;
  /** Events since the last call, oldest first. */
  drainEvents(): ExecutorEvent[];
  /** Called when an event arrives, so the scheduler can wake up at once instead of on its next tick. */
  onEvent(listener: () => void): void;
  /** Periodic housekeeping (e.g. noticing stuck workers). */
  heartbeat(): Promise<void>;
  /**
   * Takes over task instances a dead scheduler left queued or running, and
   * may clean up what such schedulers left behind (e.g. pods); `liveJobIds`
   * are the schedulers still alive, whose work must not be touched, and
   * `isActive` says whether a try is still queued or running (under any
   * scheduler), so its pod must not be cleaned up. Returns
   * the workloads it cannot adopt: the scheduler resets the queued ones, and
   * leaves running ones to their runner's heartbeat.
   */
  adopt(workloads: TaskWorkload[], context: AdoptionContext): Promise<TaskWorkload[]>;
  /** Stops accepting work and waits for running workloads to finish. */
  end(): Promise<void>;
  /** Stops now, killing running workloads. */
  terminate(): Promise<void>;
}

/** The `airflow tasks run` arguments for a workload (what every executor ultimately runs). */
export function taskRunArgs(workload: TaskWorkload): string[] {
  return ['tasks', 'run', workload.dagId, workload.taskId, workload.runId, '--map-index', String(workload.mapIndex)];
}
