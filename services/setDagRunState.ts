import type { Knex } from 'knex';
import type { SerializedDag } from '../core/serialize.ts';
import type { TiState } from '../core/state.ts';
import { getDagRunById, lockDagRuns, nextClearNumber } from '../db/models/dagRun.ts';
import { lockUnfinishedTaskInstancesOfRun } from '../db/models/taskInstance.ts';
import { notifyScheduler } from '../db/notifications.ts';
import { transitionDagRunOrThrow, transitionTaskInstances } from '../db/transitions.ts';
import type { DagRunRow, TaskInstanceRow } from '../db/rows.ts';
import { clearTaskInstances } from './clearTaskInstances.ts';

export type MarkableDagRunState = 'success' | 'failed' | 'queued';

export interface SetDagRunStateRequest {
  dagId: string;
  runId: string;
  state: MarkableDagRunState;
  /** Needed for 'queued' (the clear uses the DAG's tasks and retries). */
  dag: SerializedDag;
  now: Date;
}

/** Task instances that are executing (or about to resume): marking their run failed fails them, as in Airflow. */
const EXECUTING: readonly TiState[] = ['running', 'deferred', 'up_for_reschedule', 'restarting'];

/**
 * Airflow's "mark dag run" (REST PATCH dagRuns/{id}, the UI's mark buttons),
 * in one transaction, every state change through db/transitions.ts:
 * - success: the run's unfinished task instances become success, then the run;
 * - failed: executing task instances become failed, the other unfinished ones
 *   skipped, then the run (Airflow's set_dag_run_state_to_failed);
 * - queued: the run's task instances are cleared and the run goes back to
 *   queued, so the scheduler runs it again.
 * A runner whose task is marked notices at its next heartbeat and stops.
 * Marking a run with the state it already has changes nothing.
 * Returns null when the run does not exist.
 */
export async function setDagRunState(knex: Knex, request: SetDagRunStateRequest): Promise<{ run: DagRunRow; changed: TaskInstanceRow[] } | null> {
  const { now } = request;
  return knex.transaction(async (trx) => {
    // The run first, then its task instances (ADR 0011).
    const [run] = await lockDagRuns(trx, request.dagId, { runIds: [request.runId] });
    if (!run) return null;
    if (run.state === request.state) return { run, changed: [] };
    if (request.state === 'queued') return requeue(trx, run, request.dag, now);
    const unfinished = await lockUnfinishedTaskInstancesOfRun(trx, run.dag_id, run.run_id);
    const changed: TaskInstanceRow[] = [];
    if (request.state === 'success') {
      changed.push(...(await transitionTaskInstances(trx, ids(unfinished), { to: 'success', now })));
    } else {
      const executing = unfinished.filter((ti) => EXECUTING.includes(ti.state));
      const pending = unfinished.filter((ti) => !EXECUTING.includes(ti.state));
      changed.push(...(await transitionTaskInstances(trx, ids(executing), { to: 'failed', now })));
      changed.push(...(await transitionTaskInstances(trx, ids(pending), { to: 'skipped', now })));
    }
    const marked = await transitionDagRunOrThrow(trx, run.id, { to: request.state, now });
    // Other queued runs of the DAG may now start (max_active_runs).
    await notifyScheduler(trx, `marked ${run.dag_id} ${run.run_id} ${request.state}`);
    return { run: marked, changed };
  });
}

async function requeue(trx: Knex.Transaction, run: DagRunRow, dag: SerializedDag, now: Date) {
  // The clear re-queues a finished run itself; a running one is re-queued here.
  const changed = await clearTaskInstances(trx, { dag, runIds: [run.run_id], taskIds: dag.tasks.map((t) => t.taskId), now });
  const current = (await getDagRunById(trx, run.id))!;
  const requeued =
    current.state === 'queued'
      ? current
      : await transitionDagRunOrThrow(trx, run.id, { to: 'queued', now, set: { clear_number: nextClearNumber(trx) as never } });
  await notifyScheduler(trx, `re-queued ${run.dag_id} ${run.run_id}`);
  return { run: requeued, changed };
}

function ids(rows: readonly TaskInstanceRow[]): number[] {
  return rows.map((r) => r.id);
}
