import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../core/logger.ts';
import { taskRunArgs, type Executor, type ExecutorEvent, type TaskWorkload } from './base.ts';

const AIRFLOW_BIN = fileURLToPath(new URL('../bin/airflow.js', import.meta.url));

/**
 * Airflow's SequentialExecutor: one task at a time, each in a fresh
 * `airflow tasks run` process. Slow but simple and fully isolated; the
 * scheduler keeps running while a task runs.
 */
export class SequentialExecutor implements Executor {
  readonly name = 'SequentialExecutor';
  private readonly waiting: TaskWorkload[] = [];
  private readonly events: ExecutorEvent[] = [];
  private readonly listeners: (() => void)[] = [];
  private current: { workload: TaskWorkload; kill: () => void; done: Promise<void> } | null = null;
  private stopping = false;

  constructor(
    private readonly options: {
      /** Environment for the task processes (database URL, config path). */
      env: NodeJS.ProcessEnv;
      logger: Logger;
      /** The command to run; defaults to this installation's bin/airflow.js under the current Node. */
      command?: (workload: TaskWorkload) => { file: string; args: string[] };
    },
  ) {}

  async start(): Promise<void> {}

  slotsAvailable(): number {
    return this.stopping || this.current || this.waiting.length ? 0 : 1;
  }

  queue(workload: TaskWorkload): void {
    this.waiting.push(workload);
    this.runNext();
  }

  drainEvents(): ExecutorEvent[] {
    return this.events.splice(0);
  }

  onEvent(listener: () => void): void {
    this.listeners.push(listener);
  }

  async heartbeat(): Promise<void> {}

  /** A new process cannot take over another process's children. */
  async adopt(workloads: TaskWorkload[]): Promise<TaskWorkload[]> {
    return workloads;
  }

  async end(): Promise<void> {
    this.stopping = true;
    this.waiting.length = 0;
    await this.current?.done;
  }

  async terminate(): Promise<void> {
    this.stopping = true;
    this.waiting.length = 0;
    this.current?.kill();
    await this.current?.done;
  }

  private runNext(): void {
    if (this.current || this.stopping) return;
    const workload = this.waiting.shift();
    if (!workload) return;
    const { file, args } = this.options.command?.(workload) ?? { file: process.execPath, args: [AIRFLOW_BIN, ...taskRunArgs(workload)] };
    const child = spawn(file, args, { env: this.options.env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
    const done = new Promise<void>((resolve) => {
      const finish = (outcome: ExecutorEvent['outcome'], info: string) => {
        this.current = null;
        this.report({ tiId: workload.tiId, outcome, info });
        resolve();
        this.runNext();
      };
      child.once('error', (error) => finish('failed', `could not start the task process: ${error.message}`));
      child.once('exit', (code, signal) => finish(code === 0 ? 'success' : 'failed', code === 0 ? 'exited 0' : `exited with ${signal ?? `code ${code}`}: ${stderr.trim()}`));
    });
    // The task runner may start processes of its own (bash); kill its whole group.
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    this.current = { workload, kill, done };
  }

  private report(event: ExecutorEvent): void {
    this.events.push(event);
    for (const listener of this.listeners) listener();
  }
}
