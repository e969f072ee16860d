import type { TaskWorkload } from '../db/taskWorkload.ts';
import type { TryOutcome } from './runTaskInstance.ts';

/**
 * The IPC protocol between the LocalExecutor (executors/workerProcess.ts) and
 * a warm worker (runner/workerMain.ts): the executor sends requests, the
 * worker replies. Types only, so either side imports it without loading the other.
 */
export type WorkerRequest = { type: 'run'; workload: TaskWorkload } | { type: 'exit' };
export type WorkerReply =
  | { type: 'ready' }
  /** A try's body with an executionTimeout starts now; the executor kills the worker if it runs well past it. */
  | { type: 'running'; tiId: number; executionTimeoutMs: number }
  /** Sent every job heartbeat while busy: the worker's event loop runs (a blocked one is killed by the executor). */
  | { type: 'alive' }
  /**
   * A task ended. `next`: the task the worker went on with (it claimed it itself, so the scheduler
   * need not be woken); `reserved`: the queued task instances it holds, handed back if it dies;
   * `retiring`: the worker exits now (core.workerMaxTasks reached, or asked to), so give it no more work;
   * `retiringSoon`: it is within its last tasks before core.workerMaxTasks, so its replacement should start
   * now and be warm when it leaves.
   */
  | { type: 'done'; tiId: number; outcome: TryOutcome; next: TaskWorkload | null; reserved: TaskWorkload[]; retiring: boolean; retiringSoon: boolean };
