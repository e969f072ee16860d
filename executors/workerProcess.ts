import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerReply, WorkerRequest } from '../runner/workerProtocol.ts';
import { STOP_GRACE_MS } from '../runner/executeTask.ts';
import { TRY_MARK_ENV } from '../core/tryMark.ts';
import { killTryProcesses, oneTry, tryMark } from '../runner/tryProcesses.ts';
import type { TaskWorkload } from '../db/taskWorkload.ts';
import { taskRunArgs } from './base.ts';

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
  done(slot: Slot, tiId: number, outcome: 'success' | 'failed' | 'requeue', info: string, wake: boolean, tryNumber?: number): void;
  /** The process is gone; the slot cannot be used again. */
  exited(slot: Slot): void;
  /** The worker will retire after a few more tasks (core.workerMaxTasks): its replacement may start now. Told once per worker. */
  retiringSoon(slot: Slot): void;
}

export interface Slot {
  /** The workload running now, if any. */
  current: TaskWorkload | null;
  /** False once the process is leaving (retiring, broken, exited): give it no more work. */
  readonly accepting: boolean;
  readonly ready: Promise<void>;
  run(workload: TaskWorkload): void;
  stop(kill: boolean): Promise<void>;
}

/**
 * How long past its executionTimeout a try may run before its worker is killed
 * from outside: the worker's own timeout handling (runner/executeTask.ts)
 * gives the body STOP_GRACE_MS to stop, then ends the process itself; this
 * catches a worker whose event loop is blocked and cannot.
 */
const OUTSIDE_KILL_AFTER_MS = STOP_GRACE_MS + 2_000;

/**
 * A warm worker process (runner/workerMain.ts) that runs workloads one at a
 * time for its whole life. If it dies mid-task, that try's processes are
 * killed (its process group and every process carrying the try's mark) before
 * the try is reported failed with the reason and the last lines it printed, so
 * a retry never overlaps it. Every IPC error ends the worker the same way.
 */
export class WarmWorker implements Slot {
  current: TaskWorkload | null = null;
  /** Queued task instances the worker claimed for itself, to hand back if it dies. */
  private reserved: TaskWorkload[] = [];
  readonly ready: Promise<void>;
  private readonly child: ChildProcess;
  private output = '';
  private readonly exitedPromise: Promise<void>;
  private retiring = false;
  private replacementAsked = false;
  private exited = false;
  /** Why we ended the process, when we did (a broken channel, a try past its timeout). */
  private endReason: string | null = null;
  private deadline: NodeJS.Timeout | undefined;
  /** When the worker last showed that its event loop runs (any message; 'alive' every job heartbeat while busy). */
  private lastHeard = Date.now();
  private readonly blockedCheck: NodeJS.Timeout;

  /**
   * `blockedAfterMs`: a busy worker not heard from for this long has its event loop blocked (a task
   * spinning without executionTimeout) and is killed. The executor passes half the zombie threshold,
   * so the try is failed here, with its processes dead, before the scheduler could call it a zombie
   * and retry it next to the still-spinning body.
   */
  constructor(
    env: NodeJS.ProcessEnv,
    private readonly databaseUrl: string,
    blockedAfterMs: number,
    events: SlotEvents,
  ) {
    // detached: the worker leads a process group of its own, which holds the children its tasks start.
    this.child = spawn(process.execPath, [RUN_TS, WORKER], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-2_000));
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    // Without a listener an 'error' (e.g. EPIPE on a channel the worker closed) would crash the scheduler.
    this.child.on('error', (error) => this.end(`worker process ${this.child.pid}: ${error.message}`));
    this.ready = new Promise((resolve, reject) => {
      this.child.once('message', (reply: WorkerReply) => (reply.type === 'ready' ? resolve() : reject(new Error(`unexpected first message ${reply.type}`))));
      this.child.once('exit', () => reject(new Error(`worker exited during start-up: ${this.output}`)));
    });
    this.ready.catch(() => {}); // observed by the executor; avoid an unhandled rejection here
    this.blockedCheck = setInterval(() => {
      const silentMs = Date.now() - this.lastHeard;
      if (this.current && silentMs > blockedAfterMs)
        this.end(
          `worker ${this.child.pid} gave no sign of life for ${Math.round(silentMs / 1000)} s while running a task (its event loop is blocked); the worker was killed`,
        );
    }, blockedAfterMs / 4);
    this.blockedCheck.unref();
    this.child.on('message', (reply: WorkerReply) => {
      this.lastHeard = Date.now();
      if (reply.type === 'running') this.watchTimeout(reply.executionTimeoutMs);
      if (reply.type === 'done') {
        clearTimeout(this.deadline);
        const tryNumber = this.current?.tiId === reply.tiId ? this.current.tryNumber : undefined;
        this.reserved = reply.reserved;
        this.current = reply.next;
        if (reply.retiring) this.retiring = true;
        if (reply.retiringSoon && !this.replacementAsked) {
          this.replacementAsked = true;
          events.retiringSoon(this);
        }
        if (reply.next) events.chained(this, reply.next);
        const failed = reply.outcome === 'failed' || reply.outcome === 'up_for_retry';
        events.done(this, reply.tiId, failed ? 'failed' : 'success', reply.outcome, failed || !reply.next, tryNumber);
      }
    });
    // At once: the group's processes and the try's marked ones die with the worker (they may hold its output pipes open).
    this.child.once('exit', () => {
      this.exited = true;
      killGroup(this.child);
      this.killTry();
    });
    // 'close' comes after the last message from the worker was handled, so `current` is final here.
    this.exitedPromise = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        clearTimeout(this.deadline);
        clearInterval(this.blockedCheck);
        this.killTry();
        const lost = this.current;
        this.current = null;
        const why = this.endReason ?? `worker process ${this.child.pid} exited with ${signal ?? `code ${code}`}`;
        if (lost)
          events.done(
            this,
            lost.tiId,
            'failed',
            `${why} while running it; its processes were killed. Last output: ${this.output.trim()}`,
            true,
            lost.tryNumber,
          );
        for (const reserved of this.reserved.splice(0))
          events.done(this, reserved.tiId, 'requeue', `reserved by worker ${this.child.pid}, which exited`, true, reserved.tryNumber);
        events.exited(this);
        resolve();
      });
    });
  }

  get accepting(): boolean {
    return !this.retiring && !this.exited && this.endReason === null && this.child.connected;
  }

  run(workload: TaskWorkload): void {
    this.current = workload;
    this.lastHeard = Date.now();
    this.send({ type: 'run', workload });
  }

  async stop(kill: boolean): Promise<void> {
    if (kill) this.end('the executor was terminated');
    else this.send({ type: 'exit' });
    await this.exitedPromise;
  }

  private send(request: WorkerRequest): void {
    if (!this.child.connected) {
      if (request.type === 'run') this.end(`worker ${this.child.pid} had closed its IPC channel`);
      return;
    }
    this.child.send(request, (error) => {
      if (error) this.end(`could not send to worker ${this.child.pid}: ${error.message}`);
    });
  }

  /** Ends the process (its group, with the running try's processes); 'close' then reports what it held, with `reason`. */
  private end(reason: string): void {
    this.endReason ??= reason;
    killGroup(this.child);
  }

  private watchTimeout(executionTimeoutMs: number): void {
    clearTimeout(this.deadline);
    this.deadline = setTimeout(
      () =>
        this.end(
          `the task ran ${(executionTimeoutMs + OUTSIDE_KILL_AFTER_MS) / 1000} s, past its executionTimeout of ${executionTimeoutMs / 1000} s, and its worker did not stop it; the worker was killed`,
        ),
      executionTimeoutMs + OUTSIDE_KILL_AFTER_MS,
    );
    this.deadline.unref();
  }

  private killTry(): void {
    if (this.current) killTryProcesses(oneTry(this.databaseUrl, this.current.tiId, this.current.tryNumber));
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
    private readonly databaseUrl: string,
    private readonly events: SlotEvents,
  ) {}

  get accepting(): boolean {
    return this.child === null;
  }

  run(workload: TaskWorkload): void {
    this.current = workload;
    // detached: the task process leads a process group of its own, which holds the children its task starts.
    // It carries its try's mark itself, so a retry finds and kills it should it hang past its zombie threshold.
    const env = { ...this.env, [TRY_MARK_ENV]: tryMark(this.databaseUrl, workload.tiId, workload.tryNumber) };
    const child = spawn(process.execPath, [AIRFLOW_BIN, ...taskRunArgs(workload)], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
    this.exitedPromise = new Promise((resolve) => {
      let finished = false;
      const finish = (ok: boolean, info: string) => {
        if (finished) return;
        finished = true;
        // The try ends with its process: nothing it started outlives it, so a retry never overlaps it.
        killGroup(child);
        killTryProcesses(oneTry(this.databaseUrl, workload.tiId, workload.tryNumber));
        this.current = null;
        this.events.done(this, workload.tiId, ok ? 'success' : 'failed', info, true, workload.tryNumber);
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
