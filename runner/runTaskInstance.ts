import os from 'node:os';
import type { Knex } from 'knex';
import type { ResolvedConfig } from '../config/schema.ts';
import type { BaseOperator } from '../core/baseOperator.ts';
import { fernetFor } from '../core/crypto/fernetKey.ts';
import { AirflowFailException, AirflowRescheduleException, AirflowSkipException, TaskDeferred, TaskDidNotStopError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { maskOnRead, secretsMasker } from '../core/secretsMasker.ts';
import type { SerializedDag } from '../core/serialize.ts';
import { buildTaskContext, type TaskContext } from '../core/taskContext.ts';
import type { TiState } from '../core/state.ts';
import { dagRunInfo, getDagRun, dagRunIdAt } from '../db/models/dagRun.ts';
import { saveRenderedFields } from '../db/models/renderedTaskInstanceFields.ts';
import { failTaskInstance, heartbeatTaskInstance, stateAndTryOfTaskInstance, stateOfTaskInstance, taskInstanceIdsOfTasks } from '../db/models/taskInstance.ts';
import { taskInstanceState } from '../db/models/taskInstanceListing.ts';
import { getSerializedDagCached } from '../db/models/serializedDag.ts';
import { recordSuccess } from '../db/queries/recordSuccess.ts';
import { retryWhileUnavailable } from '../db/retryWhileUnavailable.ts';
import { startTaskInstance, type StartedTry } from '../db/queries/startTaskInstance.ts';
import { transitionTaskInstances } from '../db/transitions.ts';
import type { DagRunRow, TaskInstanceRow } from '../db/rows.ts';
import { openConfigObjects, storedSecrets } from '../db/metastoreBackend.ts';
import { pushXCom, RETURN_VALUE, xcomJson, xcomsOfTasks } from '../db/models/xcom.ts';
import { xcomListCache } from './xcomListCache.ts';
import { rescheduleTaskInstance, taskReschedulesOf } from '../db/models/taskReschedule.ts';
import { dagRunClient } from './dagRunClient.ts';
import { deferTry } from './deferTry.ts';
import { runTaskCallbacks } from './taskCallbacks.ts';
import { executeTask } from './executeTask.ts';
import { loadDagFile, loadTask } from './loadTask.ts';
import { claimForWorker, decideRun, decidesDownstream, startNextReserved } from './miniScheduler.ts';
import { TaskLog, taskLogPath } from '../logging/fileTaskHandler.ts';
import { databaseIdentity, killTryProcesses, oneTry, otherTries, tryMark, withTryMark } from './tryProcesses.ts';

export interface RunnerContext {
  knex: Knex;
  config: ResolvedConfig;
  logger: Logger;
  now?: () => Date;
}

export interface RunTaskInstanceOptions extends RunnerContext {
  dagId: string;
  taskId: string;
  runId: string;
  mapIndex: number;
}

/** How a try ended, as recorded (or 'not_run' when the task instance was not queued for us). */
export type TryOutcome = 'success' | 'skipped' | 'failed' | 'up_for_retry' | 'up_for_reschedule' | 'deferred' | 'not_run' | 'discarded';

/**
 * `airflow tasks run`: one try of one queued task instance, recorded in the
 * database (startTry, then executeTry).
 */
export async function runTaskInstance(options: RunTaskInstanceOptions): Promise<TryOutcome> {
  await importDagFile(options, options.dagId);
  const started = await startTry(options, options);
  if (!started) return 'not_run';
  return (await executeTry(options, started, { chain: false })).outcome;
}

/**
 * Imports the DAG file before the task is taken (queued → running), as Airflow's task runner parses
 * the DAG file before it marks its task running: a try's start_date and duration then do not include
 * the import, and a worker's first task is timed like the ones it chains. A file that does not import
 * is reported inside the try (executeTry imports it again), so the failure is recorded there.
 */
export async function importDagFile(ctx: RunnerContext, dagId: string): Promise<void> {
  const dag = await getSerializedDagCached(ctx.knex, dagId);
  if (dag) await loadDagFile(dag.fileloc).catch(() => {});
}

/**
 * Takes a queued task instance to running (only one runner can: the UPDATE
 * names the state it leaves), forgets the XComs of its earlier tries and
 * reads the variables and connections for its context, in one statement.
 * Returns null if it was not queued.
 */
export async function startTry(ctx: RunnerContext, key: { dagId: string; taskId: string; runId: string; mapIndex: number }): Promise<StartedTry | null> {
  const now = ctx.now ?? (() => new Date());
  const started = await startTaskInstance(ctx.knex, { dag_id: key.dagId, run_id: key.runId, task_id: key.taskId, map_index: key.mapIndex }, now());
  if (started) return started;
  const ti = await taskInstanceState(ctx.knex, key);
  if (!ti) throw new Error(`No task instance ${key.dagId}.${key.taskId} in run '${key.runId}' (map index ${key.mapIndex})`);
  ctx.logger.warn(`task instance ${key.dagId}.${key.taskId} (${key.runId}) is ${ti.state ?? 'none'}, not queued: not running it`);
  return null;
}

/**
 * Executes one try of a running task instance: heartbeats while it runs (and
 * stops the task if someone clears or marks it meanwhile), writes the try's
 * log file, and records the outcome with its XCom and downstream skips in one
 * transaction. With `chain`, a success also runs the mini scheduler in that
 * transaction and returns the next task instance this worker should run
 * (already running), if any.
 */
export async function executeTry(
  ctx: RunnerContext,
  start: StartedTry,
  options: {
    chain: boolean;
    jobId?: number | null;
    /** The run and DAG of the previous task, when the worker chains within one run. */
    same?: { run: DagRunRow; dag: SerializedDag };
    /** The worker's reserved (queued) task instances; chaining starts the first and may add more. */
    reserved?: TaskInstanceRow[];
    /** Called as the body starts, with its executionTimeout (a warm worker tells its executor, which kills it if it hangs). */
    onBody?: (executionTimeoutMs: number | null) => void;
  },
): Promise<{ outcome: TryOutcome; next: StartedTry | null; run: DagRunRow; dag: SerializedDag }> {
  const { knex, config } = ctx;
  const started = start.ti;
  const now = ctx.now ?? (() => new Date());
  const { dag_id: dagId, task_id: taskId, run_id: runId, map_index: mapIndex } = started;
  // Bookkeeping waits out a database restart rather than fail a try whose body may have done its work:
  // up to the zombie threshold, after which the scheduler fails the try anyway.
  const retry = <T>(what: string, write: () => Promise<T>) =>
    retryWhileUnavailable(`${dagId}.${taskId} (${runId}, try ${started.try_number}): ${what}`, write, {
      logger: ctx.logger,
      giveUpAfterMs: config.scheduler.zombieTaskThreshold * 1000,
    });
  const reuse = options.same && options.same.run.dag_id === dagId && options.same.run.run_id === runId ? options.same : null;
  const run: DagRunRow = reuse?.run ?? (await retry('reading its dag run', () => getDagRun(knex, dagId, runId)))!;
  const dag = reuse?.dag ?? (await retry('reading its DAG', () => getSerializedDagCached(knex, dagId)))!;
  const policy = dag.tasks.find((t) => t.taskId === taskId) ?? null;
  const log = new TaskLog(taskLogPath(config.logging.baseLogFolder, { dagId, runId, taskId, mapIndex, tryNumber: started.try_number }));
  log.info(`Starting attempt ${started.try_number} of ${started.max_tries + 1} of ${dagId}.${taskId} (${runId}) on ${os.hostname()}, pid ${process.pid}`);
  // A new try never overlaps an old one: what an earlier try left running on this host (its runner was
  // killed with its parent, say) is killed first. Their processes carry the try's mark (tryProcesses.ts).
  const mark = tryMark(databaseIdentity(config), started.id, started.try_number);
  if (started.try_number > 1) {
    const killed = killTryProcesses(otherTries(databaseIdentity(config), started.id, started.try_number));
    if (killed > 0) log.error(`Killed ${killed} process(es) an earlier try of this task instance left running on this host`);
  }
  const abort = new AbortController();
  const heartbeat = startHeartbeat(knex, started.id, config.scheduler.jobHeartbeatSec * 1000, (state) => {
    log.error(`Task instance state changed externally to ${state ?? 'none'}; stopping the task`);
    abort.abort(new Error(`state changed externally to ${state ?? 'none'}`));
  });

  let context: TaskContext | null = null;
  let task: BaseOperator | null = null;
  let outcome: TryOutcome;
  let next: StartedTry | null = null;
  try {
    const loaded = await loadTask(dag.fileloc, dagId, taskId);
    task = loaded.task;
    const fernet = () => fernetFor(config, ctx.logger);
    // The masker knows every password and sensitive variable from the start (a secret can also come in
    // through an upstream's XCom), and learns what else the task reads (values of sensitive extra keys).
    for (const { value, name } of storedSecrets(start, fernet)) secretsMasker.add(value, name);
    const { variables, connections } = openConfigObjects(start, fernet, maskOnRead(secretsMasker));
    // A reschedule-mode sensor times out from its first poke: the first try since the last clear (Airflow's rule).
    const firstTry = started.max_tries - task.retries + 1;
    const taskReschedules = task.reschedule
      ? await retry('reading its reschedules', () => taskReschedulesOf(knex, started.id, firstTry, started.try_number))
      : undefined;
    context = buildTaskContext({
      dag: loaded.dag,
      task,
      dagRun: dagRunInfo(run),
      tryNumber: started.try_number,
      mapIndex,
      xcom: {
        pull: async ({ dagId: from, taskIds, key, mapIndexes }) =>
          xcomsOfTasks(knex, from === dagId ? run.id : await runIdAtSameDate(knex, from, run), taskIds, key, mapIndexes),
        push: (key, value) => pushXCom(knex, { dagRunId: run.id, dagId, runId, taskId, mapIndex }, key, value, config.core.xcomMaxSize),
        listElement: ({ taskId: from, key, index }) => xcomListCache.element(knex, run.id, from, key, index),
      },
      variables,
      connections,
      log: (line) => log.raw(line),
      signal: abort.signal,
      taskReschedules,
      dagRuns: dagRunClient(knex, now),
    });
    options.onBody?.(task.executionTimeoutMs);
    const result = await withTryMark(mark, () => executeTask(task!, context!, abort, (rendered) => keepRenderedFields(knex, started, rendered), started));
    const skip = context.task.tasksToSkip(result) ?? []; // context.task: a mapped instance's own operator
    const xcom = result === undefined ? null : xcomJson(taskId, RETURN_VALUE, result, config.core.xcomMaxSize);
    ({ outcome, next } = await recordTrySuccessRetrying(ctx, { ti: started, run, dag, xcom, skip, log, ...options }, retry));
    if (result !== undefined) log.info(`Returned value (XCom return_value): ${preview(secretsMasker.redact(result))}`);
  } catch (error) {
    // A cancelled try (timeout, state changed) ends with everything it started, before a retry can be scheduled.
    if (abort.signal.aborted) killTryProcesses(oneTry(databaseIdentity(config), started.id, started.try_number));
    if (error instanceof TaskDidNotStopError) {
      // Its body still runs in this process: not recorded here; the process ends and its executor reports the try failed.
      log.error(error.message);
      log.close();
      throw error;
    }
    if (context) context.exception = error; // for onFailureCallback / onRetryCallback, as in Airflow
    outcome = await retry('recording its failure', () => recordFailure(knex, started, policy, error, now(), log));
  } finally {
    heartbeat.stop();
  }
  if (outcome === 'discarded') {
    log.error('The task instance was changed by someone else while it ran; its result was not recorded');
    await retry('resetting it', () => resetIfRestarting(knex, started.id, now()));
  }
  log.info(`Task exited with outcome ${outcome}`);
  if (context && task) await runTaskCallbacks(task, outcome, context, log, { tryNumber: started.try_number, maxTries: started.max_tries });
  log.close();
  return { outcome, next, run, dag };
}

async function recordFailure(
  knex: Knex,
  ti: TaskInstanceRow,
  policy: SerializedDag['tasks'][number] | null,
  error: unknown,
  at: Date,
  log: TaskLog,
): Promise<TryOutcome> {
  if (error instanceof AirflowRescheduleException) {
    const row = await knex.transaction((trx) => rescheduleTaskInstance(trx, ti, error.rescheduleDate, at));
    if (!row) return 'discarded';
    log.info(`Rescheduling task, marking task as UP_FOR_RESCHEDULE; next poke at ${error.rescheduleDate.toISOString()}`);
    return 'up_for_reschedule';
  }
  const deferred = error instanceof TaskDeferred ? await deferTry(knex, ti, error, at, log) : null;
  if (deferred) return deferred instanceof Error ? recordFailure(knex, ti, policy, deferred, at, log) : deferred;
  if (error instanceof AirflowSkipException) {
    log.info(`Skipping: ${error.message}`);
    const [row] = await transitionTaskInstances(knex, [ti.id], { to: 'skipped', from: ['running'], now: at });
    return row ? 'skipped' : 'discarded';
  }
  log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  const row = await failTaskInstance(knex, ti, { policy, allowRetry: !(error instanceof AirflowFailException), from: ['running'], now: at });
  if (!row) return 'discarded';
  log.info(row.state === 'up_for_retry' ? `Marked up_for_retry; next try after ${row.next_retry_at?.toISOString()}` : 'Marked failed');
  return row.state as 'failed' | 'up_for_retry';
}

/**
 * Keeps what the template fields rendered to, for the task instance page
 * (Airflow's rendered_task_instance_fields), with secrets masked: the values the
 * task read so far and anything under a sensitive name. Operators without
 * template content (EmptyOperator, a function without opKwargs) write nothing.
 */
async function keepRenderedFields(knex: Knex, ti: TaskInstanceRow, rendered: Record<string, unknown>): Promise<void> {
  const meaningful = Object.values(rendered).some((v) => v !== null && v !== undefined && !(typeof v === 'object' && Object.keys(v as object).length === 0));
  if (!meaningful) return;
  await saveRenderedFields(knex, ti, secretsMasker.redact(rendered));
}

/**
 * recordTrySuccess, retried while the database is unavailable. An attempt whose commit went through but
 * whose reply was lost (the connection broke just then) makes the next attempt find the row no longer
 * running: when it is this try's success, that is our own write.
 */
async function recordTrySuccessRetrying(
  ctx: RunnerContext,
  args: Parameters<typeof recordTrySuccess>[1],
  retry: <T>(what: string, write: () => Promise<T>) => Promise<T>,
): Promise<{ outcome: 'success' | 'discarded'; next: StartedTry | null }> {
  let attempts = 0;
  const recorded = await retry('recording its success', () => {
    attempts += 1;
    return recordTrySuccess(ctx, args);
  });
  if (recorded.outcome === 'discarded' && attempts > 1) {
    const row = await retry('reading its state', () => stateAndTryOfTaskInstance(ctx.knex, args.ti.id));
    if (row?.state === 'success' && row.try_number === args.ti.try_number) return { outcome: 'success', next: null };
  }
  return recorded;
}

/** A success was not recorded: someone else moved the task instance while it ran. */
class Discarded extends Error {}

/**
 * Records a success with its XCom and downstream skips, atomically. With `chain`, the mini scheduler
 * (miniScheduler.ts) decides the run and reserves work in the same transaction, and the worker's next
 * reservation is started: the result's `next`. Most tasks of a busy run need neither decisions (no
 * downstream tasks) nor a claim (reservations left): then one statement does it all.
 */
async function recordTrySuccess(
  ctx: RunnerContext,
  args: {
    ti: TaskInstanceRow;
    run: DagRunRow;
    dag: SerializedDag;
    xcom: string | null;
    skip: readonly string[];
    log: TaskLog;
    chain: boolean;
    jobId?: number | null;
    reserved?: TaskInstanceRow[];
  },
): Promise<{ outcome: 'success' | 'discarded'; next: StartedTry | null }> {
  const { knex, config } = ctx;
  const now = ctx.now ?? (() => new Date());
  const { ti, run, dag, chain } = args;
  const reserved = args.reserved ?? [];
  const decide = chain && (await decidesDownstream(knex, dag, ti));
  const claim = chain && reserved.length === 0;
  if (args.skip.length === 0 && !decide && !claim) {
    const first = chain ? reserved[0]! : null;
    const recorded = await recordSuccess(knex, { ti, dagRunId: run.id, now: now(), xcomJson: args.xcom, start: first });
    if (first) reserved.shift(); // running now, or moved by someone else: not ours to hand back either way
    // A reservation someone else moved meanwhile is dropped; the next one is started on its own.
    const next = recorded.started ?? (chain ? await startNextReserved(knex, reserved, now) : null);
    return { outcome: recorded.recorded ? 'success' : 'discarded', next };
  }
  let skipped: string[] = [];
  // What the worker holds if the transaction fails: its claims and starts are rolled back with it.
  const held = [...reserved];
  try {
    const next = await knex.transaction(async (trx) => {
      if (args.skip.length) {
        const ids = await taskInstanceIdsOfTasks(trx, ti.dag_id, ti.run_id, args.skip);
        skipped = (await transitionTaskInstances(trx, ids, { to: 'skipped', from: [null, 'scheduled'], now: now() })).map((t) => t.task_id);
      }
      const recorded = await recordSuccess(trx, {
        ti,
        dagRunId: run.id,
        now: now(),
        xcomJson: args.xcom,
        decideRunId: decide ? run.id : null,
        claimLock: claim,
      });
      if (!recorded.recorded) throw new Discarded(); // nothing of this try is kept
      if (recorded.runTis) await decideRun(trx, dag, recorded.runTis, now());
      const jobId = args.jobId ?? null;
      if (claim)
        reserved.push(
          ...(await claimForWorker(trx, {
            run,
            now: now(),
            jobId,
            maxActiveTasksPerDag: config.core.maxActiveTasksPerDag,
            parallelism: config.core.parallelism,
          })),
        );
      return chain ? startNextReserved(trx, reserved, now) : null;
    });
    if (args.skip.length) args.log.info(`Skipping downstream tasks: ${skipped.join(', ') || '(none left to skip)'}`);
    return { outcome: 'success', next };
  } catch (error) {
    reserved.splice(0, reserved.length, ...held);
    if (error instanceof Discarded) return { outcome: 'discarded', next: null };
    throw error;
  }
}

/** A task cleared while it ran (restarting) is scheduled afresh once its runner has stopped. */
async function resetIfRestarting(knex: Knex, id: number, at: Date): Promise<void> {
  await transitionTaskInstances(knex, [id], { to: null, from: ['restarting'], now: at });
}

/**
 * Updates last_heartbeat_at (by the database's clock) while the task runs. If the row is no longer
 * running (cleared, marked, timed out by the scheduler), calls `onLost`.
 */
function startHeartbeat(knex: Knex, id: number, everyMs: number, onLost: (state: TiState) => void) {
  const timer = setInterval(async () => {
    try {
      if (!(await heartbeatTaskInstance(knex, id))) {
        clearInterval(timer);
        onLost((await stateOfTaskInstance(knex, id))?.state ?? null);
      }
    } catch {
      // A missed heartbeat is harmless; the zombie threshold is many heartbeats long.
    }
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

async function runIdAtSameDate(knex: Knex, dagId: string, run: DagRunRow): Promise<number> {
  const other = await dagRunIdAt(knex, dagId, run.logical_date);
  return other?.id ?? -1;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
