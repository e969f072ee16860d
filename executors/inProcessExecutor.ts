import type { Knex } from 'knex';
import type { ResolvedConfig } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import { runTaskInstance } from '../runner/runTaskInstance.ts';
import type { TaskWorkload } from '../db/taskWorkload.ts';
import type { AdoptionContext, Executor, ExecutorEvent } from './base.ts';
import { EventQueue } from './eventQueue.ts';

/**
 * Runs tasks one at a time inside this process (Airflow's DebugExecutor),
 * for `airflow dags test`: breakpoints and console output work, nothing is
 * spawned. Never used by the scheduler daemon, which must not run user code.
 */
export class InProcessExecutor implements Executor {
  readonly name = 'InProcessExecutor';
  private readonly waiting: TaskWorkload[] = [];
  private readonly events = new EventQueue();
  private running: Promise<void> | null = null;

  constructor(private readonly options: { knex: Knex; config: ResolvedConfig; logger: Logger }) {}

  async start(_context: { jobId: number | null }): Promise<void> {}

  slotsAvailable(): number {
    return this.running || this.waiting.length ? 0 : 1;
  }

  queue(workload: TaskWorkload): void {
    this.waiting.push(workload);
    this.running ??= this.drain();
  }

  drainEvents(): ExecutorEvent[] {
    return this.events.drain();
  }

  onEvent(listener: () => void): void {
    this.events.onEvent(listener);
  }

  async heartbeat(): Promise<void> {}

  async adopt(workloads: TaskWorkload[], _context: AdoptionContext): Promise<TaskWorkload[]> {
    return workloads;
  }

  async end(): Promise<void> {
    await this.running;
  }

  async terminate(): Promise<void> {
    this.waiting.length = 0;
    await this.running;
  }

  private async drain(): Promise<void> {
    for (let workload = this.waiting.shift(); workload; workload = this.waiting.shift()) {
      let event: ExecutorEvent;
      try {
        const outcome = await runTaskInstance({
          ...this.options,
          dagId: workload.dagId,
          taskId: workload.taskId,
          runId: workload.runId,
          mapIndex: workload.mapIndex,
        });
        event = {
          tiId: workload.tiId,
          outcome: outcome === 'failed' || outcome === 'up_for_retry' ? 'failed' : 'success',
          info: outcome,
          tryNumber: workload.tryNumber,
        };
      } catch (error) {
        event = { tiId: workload.tiId, outcome: 'failed', info: error instanceof Error ? error.message : String(error), tryNumber: workload.tryNumber };
      }
      this.events.push(event);
    }
    this.running = null;
  }
}
