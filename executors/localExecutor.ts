import os from 'node:os';
import type { Logger } from '../core/logger.ts';
import type { TaskWorkload } from '../db/taskWorkload.ts';
import type { AdoptionContext, Executor, ExecutorEvent } from './base.ts';
import { EventQueue } from './eventQueue.ts';
import { TaskProcess, WarmWorker, type Slot, type SlotEvents } from './workerProcess.ts';

export interface LocalExecutorOptions {
  /** 'LocalExecutor', or 'SequentialExecutor' for the one-slot variant. */
  name?: 'LocalExecutor' | 'SequentialExecutor';
  /** Most tasks running at once (core.parallelism; 1 for the SequentialExecutor). */
  parallelism: number;
  /** One fresh `airflow tasks run` process per task instead of warm workers (core.executeTasksNewProcess). */
  newProcessPerTask: boolean;
  /** Environment of the task processes: database URL, config path, AIRFLOW_HOME. */
  env: NodeJS.ProcessEnv;
  /** The database URL the task processes use (it names their tries' marks, runner/tryProcesses.ts). */
  databaseUrl: string;
  /** scheduler.zombieTaskThreshold: a warm worker silent (event loop blocked) for half of it is killed. */
  zombieThresholdMs: number;
  logger: Logger;
}

/**
 * Airflow's LocalExecutor: up to `parallelism` task instances at once, each
 * in an OS process of its own on this machine. By default the processes are
 * warm workers that stay up between tasks (one per CPU started up front, more
 * on demand, replaced when they die or after core.workerMaxTasks tasks); a
 * crash or leak in a task takes down its worker, never the scheduler, and
 * fails only that try.
 */
export class LocalExecutor implements Executor {
  readonly name: string;
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly waiting: TaskWorkload[] = [];
  private readonly events = new EventQueue();
  private env: NodeJS.ProcessEnv;
  private stopping = false;

  constructor(private readonly options: LocalExecutorOptions) {
    this.name = options.name ?? 'LocalExecutor';
    this.env = options.env;
  }

  async start(context: { jobId: number | null }): Promise<void> {
    this.env = { ...this.options.env, AIRFLOW_TS_SCHEDULER_JOB_ID: context.jobId === null ? '' : String(context.jobId) };
    if (this.options.newProcessPerTask) return;
    // A worker per CPU (up to parallelism) up front, so the first tasks do not wait for a Node start-up; more start on demand.
    const slots = Array.from({ length: Math.min(this.options.parallelism, os.availableParallelism()) }, () => this.addSlot());
    await Promise.all(slots.map((slot) => slot.ready.catch((error: unknown) => this.options.logger.error(`could not start a worker: ${String(error)}`))));
  }

  slotsAvailable(): number {
    if (this.stopping) return 0;
    const busy = [...this.slots].filter((s) => s.current !== null).length;
    return Math.max(0, this.options.parallelism - busy - this.waiting.length);
  }

  queue(workload: TaskWorkload): void {
    this.waiting.push(workload);
    this.dispatch();
  }

  drainEvents(): ExecutorEvent[] {
    return this.events.drain();
  }

  onEvent(listener: () => void): void {
    this.events.onEvent(listener);
  }

  async heartbeat(): Promise<void> {}

  /** Processes of another scheduler cannot be taken over: they report to it, not to us. */
  async adopt(workloads: TaskWorkload[], _context: AdoptionContext): Promise<TaskWorkload[]> {
    return workloads;
  }

  async end(): Promise<void> {
    this.stopping = true;
    this.waiting.length = 0;
    await Promise.all([...this.slots].map((slot) => slot.stop(false)));
  }

  async terminate(): Promise<void> {
    this.stopping = true;
    this.waiting.length = 0;
    await Promise.all([...this.slots].map((slot) => slot.stop(true)));
  }

  private dispatch(): void {
    while (this.waiting.length > 0 && !this.stopping) {
      const slot = this.idleSlot() ?? (this.slots.size < this.options.parallelism ? this.addSlot() : null);
      if (!slot) return;
      if (slot instanceof WarmWorker && !this.isReady(slot)) return; // it joins `idle` when ready
      slot.run(this.waiting.shift()!);
    }
  }

  private readonly readySlots = new WeakSet<Slot>();

  /** An idle slot that still takes work; a retiring or broken one is dropped here and replaced when it exits. */
  private idleSlot(): Slot | undefined {
    for (let slot = this.idle.pop(); slot; slot = this.idle.pop()) if (slot.accepting) return slot;
    return undefined;
  }

  private isReady(slot: Slot): boolean {
    return this.readySlots.has(slot);
  }

  private addSlot(): Slot {
    const slot = this.options.newProcessPerTask
      ? new TaskProcess(this.env, this.options.databaseUrl, this.slotEvents)
      : new WarmWorker(this.env, this.options.databaseUrl, this.options.zombieThresholdMs / 2, this.slotEvents);
    this.slots.add(slot);
    if (slot instanceof TaskProcess) {
      this.readySlots.add(slot);
      return slot;
    }
    slot.ready.then(
      () => {
        this.readySlots.add(slot);
        this.idle.push(slot);
        this.dispatch();
      },
      (error: unknown) => this.options.logger.error(`a worker failed to start: ${String(error)}`),
    );
    return slot;
  }

  private readonly slotEvents: SlotEvents = {
    chained: () => {},
    done: (slot, tiId, outcome, info, wake, tryNumber) => {
      if (slot.current === null && slot.accepting && this.readySlots.has(slot) && slot instanceof WarmWorker && !this.idle.includes(slot)) this.idle.push(slot);
      this.events.push({ tiId, outcome, info, ...(tryNumber === undefined ? {} : { tryNumber }) }, wake);
      this.dispatch();
    },
    // A spare joins `idle` when it is ready; until the old worker exits there is one process more than
    // parallelism, never one task more (slotsAvailable counts busy slots, and the spare is not busy).
    retiringSoon: () => {
      if (!this.stopping) this.addSlot();
    },
    exited: (slot) => {
      this.slots.delete(slot);
      const at = this.idle.indexOf(slot);
      if (at >= 0) this.idle.splice(at, 1);
      this.dispatch();
    },
  };
}
