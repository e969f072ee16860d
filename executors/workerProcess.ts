import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerReply, WorkerRequest } from '../runner/workerMain.ts';
import { taskRunArgs, type TaskWorkload } from './base.ts';

const RUN_TS = fileURLToPath(new URL('../bin/run-ts.js', import.meta.url));
const WORKER = fileURLToPath(new URL('../runner/workerMain.ts', import.meta.url));
const AIRFLOW_BIN = fileURLToPath(new URL('../bin/airflow.js', import.meta.url));

/** What a slot of the LocalExecutor tells it. */
export interface SlotEvents {
  /** The worker moved on to a task it claimed itself. */
  chained(slot: Slot, workload: TaskWorkload): void;
  /**
   * A workload ended (recorded by the runner, or `failed` because the process died).
   * `wake`: the scheduler has something to do (false when a worker simply went on with the next task).
   */
  done(slot: Slot, tiId: number, outcome: 'success' | 'failed' | 'requeue', info: string, wake: boolean): void;
  /** The process is gone; the slot cannot be used again. */
  exited(slot: Slot): void;
}

export interface Slot {
  /** The workload running now, if any. */
  current: TaskWorkload | null;
  readonly ready: Promise<void>;
  run(workload: TaskWorkload): void;
  stop(kill: boolean): Promise<void>;
}

/**
 * A warm worker process (runner/workerMain.ts) that runs workloads one at a
 * time for its whole life. If it dies mid-task, that task's try is reported
 * failed with the exit reason and the last lines it printed.
 */
export class WarmWorker implements Slot {
  current: TaskWorkload | null = null;
  /** Queued task instances the worker claimed for itself, to hand back if it dies. */
  private reserved: TaskWorkload[] = [];
  readonly ready: Promise<void>;
  private readonly child: ChildProcess;
  private output = '';
  private readonly exitedPromise: Promise<void>;

  constructor(env: NodeJS.ProcessEnv, events: SlotEvents) {
    this.child = spawn(process.execPath, [RUN_TS, WORKER], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-2_000));
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.ready = new Promise((resolve, reject) => {
      this.child.once('message', (reply: WorkerReply) => (reply.type === 'ready' ? resolve() : reject(new Error(`unexpected first message ${reply.type}`))));
      this.child.once('exit', () => reject(new Error(`worker exited during start-up: ${this.output}`)));
    });
    this.ready.catch(() => {}); // observed by the executor; avoid an unhandled rejection here
    this.child.on('message', (reply: WorkerReply) => {
      if (reply.type === 'done') {
        this.reserved = reply.reserved;
        this.current = reply.next;
        if (reply.next) events.chained(this, reply.next);
        const failed = reply.outcome === 'failed' || reply.outcome === 'up_for_retry';
        events.done(this, reply.tiId, failed ? 'failed' : 'success', reply.outcome, failed || !reply.next);
      }
    });
    this.exitedPromise = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        const lost = this.current;
        this.current = null;
        if (lost) events.done(this, lost.tiId, 'failed', `worker process ${this.child.pid} exited with ${signal ?? `code ${code}`} while running it: ${this.output.trim()}`, true);
        for (const reserved of this.reserved.splice(0)) events.done(this, reserved.tiId, 'requeue', `reserved by worker ${this.child.pid}, which exited`, true);
        events.exited(this);
        resolve();
      });
    });
  }

  run(workload: TaskWorkload): void {
    this.current = workload;
    this.send({ type: 'run', workload });
  }

  async stop(kill: boolean): Promise<void> {
    if (kill) killGroup(this.child);
    else this.send({ type: 'exit' });
    await this.exitedPromise;
  }

  private send(request: WorkerRequest): void {
    if (this.child.connected) this.child.send(request);
  }
}

/**
 * Strict isolation: one `airflow tasks run` process per task, as Airflow
 * does (core.executeTasksNewProcess). Each slot runs one task and exits.
 */
export class TaskProcess implements Slot {
  current: TaskWorkload | null = null;
  readonly ready = Promise.resolve();
  private child: ChildProcess | null = null;
  private exitedPromise: Promise<void> = Promise.resolve();

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly events: SlotEvents,
  ) {}

  run(workload: TaskWorkload): void {
    this.current = workload;
    const child = spawn(process.execPath, [AIRFLOW_BIN, ...taskRunArgs(workload)], { env: this.env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
    this.exitedPromise = new Promise((resolve) => {
      const finish = (ok: boolean, info: string) => {
        this.current = null;
        this.events.done(this, workload.tiId, ok ? 'success' : 'failed', info, true);
        this.events.exited(this);
        resolve();
      };
      child.once('error', (error) => finish(false, `could not start the task process: ${error.message}`));
      child.once('exit', (code, signal) => finish(code === 0, code === 0 ? 'exited 0' : `exited with ${signal ?? `code ${code}`}: ${stderr.trim()}`));
    });
  }

  async stop(kill: boolean): Promise<void> {
    if (kill && this.child) killGroup(this.child);
    await this.exitedPromise;
  }
}

/** Task processes may start their own children (bash): signal the whole process group. */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}
