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
  args: { run: DagRunRow; dag: SerializedDag; finishedTaskId: string; now: Date; jobId: number | null; maxActiveTasksPerDag: number },
): Promise<TaskInstanceRow | null> {
  const { run, dag, now } = args;
  const finished = dag.tasks.find((t) => t.taskId === args.finishedTaskId);
  if (finished && finished.downstreamTaskIds.length > 0) {
    const locked = await trx('dag_run').where({ id: run.id, state: 'running' }).forUpdate().skipLocked().first('id');
    if (locked) await decideRun(trx, run, dag, now);
  }
  const [next] = await claimScheduledTaskInstances(trx, {
    slots: 1,
    maxActiveTasksPerDag: args.maxActiveTasksPerDag,
    jobId: args.jobId,
    now,
    dagIds: [run.dag_id],
    runId: run.run_id,
    runIdsIgnoringPause: [run.run_id],
  });
  if (!next) return null;
  const [running] = await transitionTaskInstances(trx, [next.id], { to: 'running', from: ['queued'], now, set: { hostname: os.hostname(), pid: process.pid } });
  if (running) await clearXComs(trx, run.id, [running.task_id], running.map_index);
  return running ?? null;
}

async function decideRun(trx: Knex.Transaction, run: DagRunRow, dag: SerializedDag, now: Date): Promise<void> {
  const tis: Pick<TaskInstanceRow, 'id' | 'task_id' | 'state' | 'next_retry_at'>[] = await trx('task_instance')
    .where({ dag_id: run.dag_id, run_id: run.run_id, map_index: -1 })
    .select('id', 'task_id', 'state', 'next_retry_at');
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
