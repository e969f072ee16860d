import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import type { Logger } from '../../core/logger.ts';
import { getSerializedDagCached } from '../../db/models/serializedDag.ts';
import type { DagRunRow } from '../../db/rows.ts';
import type { DagCallbackRequest } from './dagCallbackChild.ts';

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));
const CHILD = fileURLToPath(new URL('./dagCallbackChild.ts', import.meta.url));

export interface DagCallbackRunnerOptions {
  knex: Knex;
  /** The environment of the callback processes (config/childProcessEnv.ts): same home, database and Fernet key. */
  env: NodeJS.ProcessEnv;
  /** How long one callback process may take, its DAG file's import included; then it is killed. */
  timeoutMs: number;
  logger: Logger;
}

/**
 * Runs DAG-level callbacks (a DAG's onSuccessCallback / onFailureCallback) for the runs the scheduler
 * finishes, as Airflow's scheduler hands DagCallbackRequests to its DAG processor: the scheduler never runs
 * user code (ADR 0001, 0022). Each request gets a process of its own (dagCallbackChild.ts), one at a time,
 * in its own process group, killed after `timeoutMs`. Requests live in memory: a scheduler that dies before
 * a callback ran loses it (ADR 0022).
 */
export class DagCallbackRunner {
  private readonly queue: DagCallbackRequest[] = [];
  /** Requests still being checked (does the DAG have that callback?) before they join the queue. */
  private readonly checking = new Set<Promise<void>>();
  private draining: Promise<void> | null = null;
  private current: { pid: number | undefined } | null = null;
  private stopped = false;

  constructor(private readonly options: DagCallbackRunnerOptions) {}

  /** Called with each run the scheduler finished (success or failed): queues its callback if the DAG has one. */
  runFinished(run: Pick<DagRunRow, 'dag_id' | 'run_id' | 'state'>): void {
    if (this.stopped || (run.state !== 'success' && run.state !== 'failed')) return;
    const check = this.enqueue(run, run.state).finally(() => this.checking.delete(check));
    this.checking.add(check);
  }

  /** Resolves when every queued callback has run (tests wait on this). */
  async idle(): Promise<void> {
    while (this.checking.size > 0 || this.draining) await Promise.all([...this.checking, this.draining]);
  }

  /** Stops: the running callback process is killed and queued ones are dropped (with a warning naming them). */
  async stop(): Promise<void> {
    this.stopped = true;
    const dropped = this.queue.splice(0);
    if (dropped.length)
      this.options.logger.warn(`dropping ${dropped.length} DAG callback(s) not run: ${dropped.map((r) => `${r.dagId}/${r.runId}`).join(', ')}`);
    if (this.current?.pid) killGroup(this.current.pid);
    await this.draining;
  }

  private async enqueue(run: Pick<DagRunRow, 'dag_id' | 'run_id'>, state: 'success' | 'failed'): Promise<void> {
    try {
      const dag = await getSerializedDagCached(this.options.knex, run.dag_id);
      if (!(state === 'success' ? dag?.callbacks?.onSuccess : dag?.callbacks?.onFailure)) return;
    } catch (error) {
      this.options.logger.error(`could not read DAG '${run.dag_id}' for its ${state} callback: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.queue.push({ dagId: run.dag_id, runId: run.run_id, state, reason: state === 'success' ? 'success' : 'task_failure' });
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
    });
  }

  private async drain(): Promise<void> {
    for (let request = this.queue.shift(); request && !this.stopped; request = this.queue.shift()) await this.runOne(request);
  }

  private runOne(request: DagCallbackRequest): Promise<void> {
    const { logger, env, timeoutMs } = this.options;
    const scoped = logger.child({ dagId: request.dagId, runId: request.runId });
    return new Promise((resolve) => {
      // Its own process group (detached): a callback signalling its group does not reach the scheduler (ADR 0012).
      const child = spawn(process.execPath, [RUN_TS, CHILD, JSON.stringify(request)], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      this.current = { pid: child.pid };
      let output = '';
      const keep = (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-4_000));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      const timer = setTimeout(() => {
        scoped.error(`the ${request.state} callback took longer than ${timeoutMs / 1000} s: killed`);
        if (child.pid) killGroup(child.pid);
      }, timeoutMs);
      child.on('error', (error) => scoped.error(`could not start the ${request.state} callback process: ${error.message}`));
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        this.current = null;
        if (code === 0) scoped.info(`ran the ${request.state} callback in process ${child.pid}`);
        else scoped.error(`the ${request.state} callback process ${child.pid} ended with ${signal ?? `code ${code}`}`, { output });
        resolve();
      });
    });
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL'); // its whole group: what the callback started dies with it
  } catch {
    // already gone
  }
}
