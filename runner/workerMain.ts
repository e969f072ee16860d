import { resolveConfig } from '../config/resolveConfig.ts';
import { refuseSignalsToParent } from '../core/parentGuard.ts';
import { openDatabase } from '../db/database.ts';
import { retryWhileUnavailable } from '../db/retryWhileUnavailable.ts';
import { workloadOf, type TaskWorkload } from '../db/taskWorkload.ts';
import { createLogger } from '../logging/winstonLogger.ts';
import { transitionTaskInstances } from '../db/transitions.ts';
import type { TaskInstanceRow } from '../db/rows.ts';
import { maskProcessOutput } from './maskProcessOutput.ts';
import { claimForWorker, startNextReserved } from './miniScheduler.ts';
import { executeTry, importDagFile, startTry } from './runTaskInstance.ts';
import type { WorkerReply, WorkerRequest } from './workerProtocol.ts';

/**
 * A warm LocalExecutor worker (started through bin/run-ts.js): the runtime,
 * a database pool and, once used, the DAG files stay loaded, so a task costs
 * its own work plus about one commit instead of a Node start-up and a DAG
 * import. After each success the worker takes the run's next ready task
 * itself (the mini scheduler) and tells the parent with 'chained'.
 */

// A send to a parent that died fails; 'disconnect' below handles that, so the error needs no handling here.
const send = (reply: WorkerReply) => {
  if (process.connected) process.send!(reply, (error: Error | null) => error && logger.warn(`could not report to the executor: ${error.message}`));
};

maskProcessOutput();
// A task or DAG file must not be able to stop the scheduler, this worker's parent (ADR 0012).
refuseSignalsToParent();

if (!process.send) {
  console.error('workerMain must be started with an IPC channel');
  process.exit(2);
}

const config = await resolveConfig();
const logger = createLogger(config.logging.level, { component: 'worker' });
const db = await openDatabase(config, logger, { poolMax: 4 });
const jobId = process.env.AIRFLOW_TS_SCHEDULER_JOB_ID ? Number(process.env.AIRFLOW_TS_SCHEDULER_JOB_ID) : null;
const maxTasks = config.core.workerMaxTasks;
/**
 * Within this many tasks of maxTasks (half its life, at most 250) the worker tells the executor to start
 * its replacement: a Node start takes ~0.5–2 s (more under load), while a mapped run hands a worker a task
 * every few ms (map10000 retired 20 workers, each leaving its slot empty until a cold one came up).
 */
const warmAhead = Math.min(250, Math.ceil(maxTasks / 2));
const retiringSoon = () => tasksRun >= maxTasks - warmAhead;
let tasksRun = 0;
/** Task instances claimed for this worker (queued), run in order after the current one. */
const reserved: TaskInstanceRow[] = [];
let busy = false;
let exitRequested = false;
/** The worker's bookkeeping waits out a database restart (up to the zombie threshold) instead of exiting. */
const retry = <T>(what: string, write: () => Promise<T>) =>
  retryWhileUnavailable(`worker: ${what}`, write, { logger, giveUpAfterMs: config.scheduler.zombieTaskThreshold * 1000 });

process.on('message', (request: WorkerRequest) => {
  if (request.type === 'exit') {
    // Finish the task at hand first: the executor drains before it stops.
    exitRequested = true;
    if (!busy) void shutdown();
  } else void run(request.workload);
});

async function run(workload: TaskWorkload): Promise<void> {
  const ctx = { knex: db.knex, config, logger };
  busy = true;
  try {
    await retry('importing its DAG file', () => importDagFile(ctx, workload.dagId));
    let current = await retry(`starting ${workload.dagId}.${workload.taskId}`, () => startTry(ctx, workload));
    if (!current)
      send({
        type: 'done',
        tiId: workload.tiId,
        outcome: 'not_run',
        next: null,
        reserved: reserved.map(workloadOf),
        retiring: tasksRun >= maxTasks || exitRequested,
        retiringSoon: retiringSoon(),
      });
    let same: Parameters<typeof executeTry>[2]['same'];
    while (current) {
      const tiId = current.ti.id;
      const onBody = (executionTimeoutMs: number | null) => executionTimeoutMs !== null && send({ type: 'running', tiId, executionTimeoutMs });
      const {
        outcome,
        next: chained,
        run,
        dag,
      } = await executeTry(ctx, current, { chain: tasksRun + 1 < maxTasks && !exitRequested, jobId, same, reserved, onBody });
      tasksRun += 1;
      // A deferred task, or a sensor's poke that ended up for reschedule, has no success transaction to claim
      // in: the worker reserves its share of the run's ready tasks in a claim of its own, so a run of deferring
      // tasks or poking sensors does not wait on the scheduler each hop.
      if ((outcome === 'deferred' || outcome === 'up_for_reschedule') && reserved.length === 0 && tasksRun < maxTasks && !exitRequested) {
        const claim = { run, now: new Date(), jobId, maxActiveTasksPerDag: config.core.maxActiveTasksPerDag, parallelism: config.core.parallelism };
        reserved.push(...(await retry(`reserving work after a ${outcome === 'deferred' ? 'deferral' : 'reschedule'}`, () => claimForWorker(db.knex, claim))));
      }
      // After a failure (no chaining), reservations still get run, each started by a statement of its own.
      const next =
        chained ??
        (reserved.length && !exitRequested ? await retry('starting a reserved task', () => startNextReserved(db.knex, reserved, () => new Date())) : null);
      // One message per task: what ended, what runs now, what is held.
      const retiring = !next && (tasksRun >= maxTasks || exitRequested);
      send({
        type: 'done',
        tiId: current.ti.id,
        outcome,
        next: next && workloadOf(next.ti),
        reserved: reserved.map(workloadOf),
        retiring,
        retiringSoon: retiringSoon(),
      });
      current = next;
      same = { run, dag };
    }
  } catch (error) {
    // Bookkeeping failed (e.g. the database went away): the parent reports the try as failed.
    logger.error(`worker could not run ${workload.dagId}.${workload.taskId}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  }
  busy = false;
  if (tasksRun >= maxTasks || exitRequested) await shutdown();
}

async function shutdown(): Promise<void> {
  // Reservations not run are handed back to the scheduler.
  const handBack = reserved.splice(0).map((ti) => ti.id);
  try {
    if (handBack.length)
      await retry('handing back its reservations', () => transitionTaskInstances(db.knex, handBack, { to: 'scheduled', from: ['queued'], now: new Date() }));
  } catch (error) {
    // Still queued under our scheduler's job: the orphan check puts them back once that job is gone.
    logger.error(`worker could not hand back ${handBack.length} reservation(s): ${error instanceof Error ? error.message : String(error)}`);
  }
  await db.close().catch(() => {});
  if (process.connected) process.disconnect();
  process.exit(0);
}

// The executor's process died (even kill -9): finish the task at hand, record it, hand back the
// reservations and exit, rather than live on as an orphan.
process.on('disconnect', () => {
  exitRequested = true;
  if (!busy) void shutdown();
});

setInterval(() => busy && send({ type: 'alive' }), config.scheduler.jobHeartbeatSec * 1000).unref();

// Errors escaping task code after its try ended (stray timers, unhandled promises) are logged, not fatal.
process.on('unhandledRejection', (reason) => logger.warn(`unhandled rejection in task code: ${String(reason)}`));

send({ type: 'ready' });
