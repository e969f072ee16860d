import os from 'node:os';
import type { Knex } from 'knex';
import type { SerializedDag } from '../core/serialize.ts';
import type { TiState } from '../core/state.ts';
import { claimScheduledTaskInstances } from '../db/queries/claimScheduledTaskInstances.ts';
import { transitionTaskInstances, type DagRunRow, type TaskInstanceRow } from '../db/transitions.ts';
import { clearXComs } from '../db/xcom.ts';
import { decideTaskInstances } from '../scheduler/deps/taskInstanceDecisions.ts';

/**
 * Airflow's "mini scheduler", run by a worker inside the transaction that
 * records a task's success: decide the finished task's downstream tasks, then
 * take the run's next scheduled task instance for this worker (queued and
 * running at once) so it starts without a round trip through the scheduler.
 * A hop between dependent tasks then costs about one commit.
 *
 * The run row is locked FOR UPDATE SKIP LOCKED: if the scheduler (or another
 * worker) is deciding this run right now, the decisions are left to it. The
 * claim goes through the same capped, locked query as the scheduler's
 * (ADR 0003); the worker gives up one slot and takes one, so parallelism holds.
 */
export async function scheduleAfterSuccess(
  trx: Knex.Transaction,
  args: {
    run: DagRunRow;
    dag: SerializedDag;
    finishedTaskId: string;
    now: () => Date;
    jobId: number | null;
    maxActiveTasksPerDag: number;
    /** Workers sharing the backlog (core.parallelism): the worker reserves its fair share, up to 16. */
    parallelism: number;
    /** False while the worker still holds reservations: it only decides the downstream tasks. */
    claim: boolean;
  },
): Promise<TaskInstanceRow[]> {
  const { run, dag } = args;
  const finished = dag.tasks.find((t) => t.taskId === args.finishedTaskId);
  if (finished && finished.downstreamTaskIds.length > 0) await decideRun(trx, run, dag, args.now());
  if (!args.claim) return [];
  return claimScheduledTaskInstances(trx, {
    slots: 16,
    fairShareAmong: args.parallelism,
    maxActiveTasksPerDag: args.maxActiveTasksPerDag,
    jobId: args.jobId,
    now: args.now(),
    dagIds: [run.dag_id],
    runId: run.run_id,
    runIdsIgnoringPause: [run.run_id],
  });
}

/**
 * Starts the next task instance a worker reserved (queued → running) inside
 * the transaction that recorded its previous task. Returns null if someone
 * else moved it meanwhile (cleared, marked), so the worker skips it.
 */
export async function startReserved(trx: Knex.Transaction, ti: TaskInstanceRow, now: Date): Promise<TaskInstanceRow | null> {
  // The clock is read here, not when the previous task ended: the hop between tasks shows in start_date.
  const [running] = await transitionTaskInstances(trx, [ti.id], { to: 'running', from: ['queued'], now, set: { hostname: os.hostname(), pid: process.pid } });
  // XComs of an earlier try of this task instance go (Airflow clears them when a try starts); a first try has none.
  if (running && running.try_number > 1) {
    const run = await trx('dag_run').where({ dag_id: ti.dag_id, run_id: ti.run_id }).first('id');
    await clearXComs(trx, run.id, [running.task_id], running.map_index);
  }
  return running ?? null;
}

async function decideRun(trx: Knex.Transaction, run: DagRunRow, dag: SerializedDag, now: Date): Promise<void> {
  // The run's task instances, only if we get the run's row lock (one round trip; none if it is taken).
  const { rows: tis } = (await trx.raw(
    `SELECT id, task_id, state, next_retry_at FROM task_instance
      WHERE dag_id = ? AND run_id = ? AND map_index = -1
        AND EXISTS (SELECT 1 FROM (SELECT id FROM dag_run WHERE id = ? AND state = 'running' FOR UPDATE SKIP LOCKED) locked)`,
    [run.dag_id, run.run_id, run.id],
  )) as { rows: Pick<TaskInstanceRow, 'id' | 'task_id' | 'state' | 'next_retry_at'>[] };
  if (tis.length === 0) return;
  const idOf = new Map(tis.map((ti) => [ti.task_id, ti.id]));
  // Whether a dependsOnPast task may start needs the previous run's states: left to the scheduler.
  const pastDependent = new Set(dag.tasks.filter((t) => t.dependsOnPast).map((t) => t.taskId));
  const decisions = decideTaskInstances({
    tasks: dag.tasks.filter((t) => idOf.has(t.taskId)),
    states: new Map<string, TiState>(tis.map((ti) => [ti.task_id, ti.state])),
    retryAt: new Map(tis.map((ti) => [ti.task_id, ti.next_retry_at])),
    previousRunStates: null,
    now,
  });
  for (const to of ['scheduled', 'skipped', 'upstream_failed'] as const) {
    const ids = decisions.filter((d) => d.to === to && !(to === 'scheduled' && pastDependent.has(d.taskId))).map((d) => idOf.get(d.taskId)!);
    await transitionTaskInstances(trx, ids, { to, now });
  }
}
