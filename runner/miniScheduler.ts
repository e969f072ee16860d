import type { Knex } from 'knex';
import type { SerializedDag } from '../core/serialize.ts';
import { claimScheduledTaskInstances } from '../db/queries/claimScheduledTaskInstances.ts';
import type { RunTi } from '../db/queries/recordSuccess.ts';
import { startTaskInstance, type StartedTry } from '../db/queries/startTaskInstance.ts';
import { hasUnfinishedMappedSibling } from '../db/models/taskInstance.ts';
import { transitionTaskInstances } from '../db/transitions.ts';
import { WAITS_FOR_UNFINISHED_UPSTREAM } from '../core/triggerRule.ts';
import type { DagRunRow, TaskInstanceRow } from '../db/rows.ts';
import { arrangeRunTaskInstances, decideTaskInstances, expandedStates } from '../core/taskInstanceSchedulingDecisions.ts';

/**
 * Airflow's "mini scheduler", run by a worker inside the transaction that
 * records a task's success (runTaskInstance.ts): decide the finished task's
 * downstream tasks, then take the run's next scheduled task instances for
 * this worker (queued, and the first one running at once) so they start
 * without a round trip through the scheduler. A hop between dependent tasks
 * then costs about one commit.
 *
 * The run row is locked FOR UPDATE SKIP LOCKED by the statement that records
 * the success (db/queries/recordSuccess.ts): if the scheduler (or another
 * worker) is deciding this run right now, the decisions are left to it. The
 * claim goes through the same capped, locked query as the scheduler's
 * (ADR 0003); the worker gives up one slot and takes one, so parallelism holds.
 */

/**
 * Whether the success of `ti` calls for the mini scheduler's decisions: it has downstream tasks and,
 * for a mapped instance, one of them could move now. A reduce (unmapped, with a rule in
 * WAITS_FOR_UNFINISHED_UPSTREAM) cannot while a sibling instance is unfinished: then a cheap probe
 * replaces locking the run and reading its every instance (O(N) per instance, O(N²) per run). The
 * last sibling's success decides it; if two last ones finish together, each sees the other running
 * and the scheduler decides it, as when the run's lock is held by someone else.
 */
export async function decidesDownstream(
  db: Knex,
  dag: SerializedDag,
  ti: Pick<TaskInstanceRow, 'id' | 'dag_id' | 'run_id' | 'task_id' | 'map_index'>,
): Promise<boolean> {
  const downstream = dag.tasks.find((t) => t.taskId === ti.task_id)?.downstreamTaskIds ?? [];
  if (downstream.length === 0) return false;
  if (ti.map_index < 0) return true;
  const waiting = downstream.every((id) => {
    const task = dag.tasks.find((t) => t.taskId === id);
    return task !== undefined && !task.expandInput && WAITS_FOR_UNFINISHED_UPSTREAM.has(task.triggerRule);
  });
  return !waiting || !(await hasUnfinishedMappedSibling(db, ti));
}

/**
 * Decides the run's task instances, `tis` as the success left them (read under the run's lock).
 * Expanding a mapped task and scheduling mapped instances is the scheduler's (ADR 0016): an
 * unexpanded mapped task is never scheduled here, and a downstream counts every mapped instance.
 */
export async function decideRun(trx: Knex.Transaction, dag: SerializedDag, tis: readonly RunTi[], now: Date): Promise<void> {
  if (tis.length === 0) return;
  // Expanded tasks are decided too (a downstream counts their instances) but only the scheduler moves them.
  const { tasks, idOf, states, retryAt, expanded } = arrangeRunTaskInstances(dag.tasks, tis);
  // Whether a dependsOnPast task may start needs the previous run's states: left to the scheduler, as is expanding.
  const leftToScheduler = new Set(dag.tasks.filter((t) => t.dependsOnPast || t.expandInput).map((t) => t.taskId));
  const decisions = decideTaskInstances({ tasks, states, retryAt, previousRunStates: null, now, expanded: expandedStates(expanded) });
  for (const to of ['scheduled', 'skipped', 'upstream_failed'] as const) {
    const ids = decisions
      .filter((d) => d.to === to && idOf.has(d.taskId) && !(to === 'scheduled' && leftToScheduler.has(d.taskId)))
      .map((d) => idOf.get(d.taskId)!);
    await transitionTaskInstances(trx, ids, { to, now });
  }
}

/**
 * Reserves the worker's fair share of its run's scheduled task instances (`candidates / parallelism`,
 * 1..16): queued, to be started one by one. The caller's transaction holds the claim lock already.
 */
export async function claimForWorker(
  trx: Knex.Transaction | Knex,
  args: { run: DagRunRow; now: Date; jobId: number | null; maxActiveTasksPerDag: number; parallelism: number },
): Promise<TaskInstanceRow[]> {
  // Given knex rather than a transaction (a worker whose task deferred: no success transaction to claim in),
  // the claim opens its own transaction and takes the claim lock there.
  return claimScheduledTaskInstances(trx, {
    slots: 16,
    fairShareAmong: args.parallelism,
    maxActiveTasksPerDag: args.maxActiveTasksPerDag,
    jobId: args.jobId,
    now: args.now,
    dagIds: [args.run.dag_id],
    runId: args.run.run_id,
    runIdsIgnoringPause: [args.run.run_id],
    lockHeld: trx.isTransaction,
  });
}

/**
 * Starts the first reserved task instance that is still queued (dropping those someone else moved:
 * cleared, marked). Each start is one statement: inside the caller's transaction or on its own.
 */
export async function startNextReserved(db: Knex | Knex.Transaction, reserved: TaskInstanceRow[], now: () => Date): Promise<StartedTry | null> {
  while (reserved.length > 0) {
    // The clock is read here, not when the previous task ended: the hop between tasks shows in start_date.
    const started = await startTaskInstance(db, reserved[0]!, now());
    reserved.shift(); // only once the statement ran: a reservation is never dropped by an error
    if (started) return started;
  }
  return null;
}
