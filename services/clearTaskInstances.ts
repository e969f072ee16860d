import type { Knex } from 'knex';
import { relativeTaskIds } from '../core/relatives.ts';
import type { SerializedDag } from '../core/serialize.ts';
import { notifyScheduler } from '../db/notifications.ts';
import { lockDagRuns, nextClearNumber } from '../db/models/dagRun.ts';
import { lockTaskInstances, maxTriesAfterClear } from '../db/models/taskInstance.ts';
import { clearXComs } from '../db/models/xcom.ts';
import { transitionDagRun, transitionTaskInstances } from '../db/transitions.ts';
import type { TaskInstanceRow } from '../db/rows.ts';

export interface ClearRequest {
  dag: SerializedDag;
  runIds: readonly string[];
  taskIds: readonly string[];
  /** Only this map index of the named tasks (default: every map index); their upstream / downstream tasks at every map index. */
  mapIndex?: number;
  /** Also clear everything downstream / upstream of the named tasks. */
  downstream?: boolean;
  upstream?: boolean;
  /** Only task instances in these states (e.g. failed, upstream_failed). */
  onlyStates?: readonly (string | null)[];
  dryRun?: boolean;
  now: Date;
}

/**
 * Airflow's clear: the chosen task instances go back to none (running ones to
 * restarting, so their runner stops and the try is retried), get their
 * retries back (max_tries = try_number + retries), lose their XComs, and
 * their dag runs go back to queued so the scheduler picks them up again.
 * One transaction; the runs are locked before their task instances (ADR 0011),
 * and each kind of move is one statement, not one per row. Returns the task
 * instances cleared (or that would be, on a dry run).
 */
export async function clearTaskInstances(knex: Knex, request: ClearRequest): Promise<TaskInstanceRow[]> {
  const taskIds = relativeTaskIds(request.dag.tasks, request.taskIds, request);
  return knex.transaction(async (trx) => {
    const runs = await lockDagRuns(trx, request.dag.dagId, { runIds: request.runIds });
    if (runs.length === 0) return [];
    const tis = await lockTaskInstances(trx, {
      dagId: request.dag.dagId,
      runIds: runs.map((r) => r.run_id),
      taskIds: [...taskIds],
      states: request.onlyStates,
      mapIndex: request.mapIndex,
      mapIndexOf: request.taskIds,
    });
    if (request.dryRun || tis.length === 0) return tis;
    const { now } = request;
    const retries = Object.fromEntries(request.dag.tasks.map((t) => [t.taskId, t.retries]));
    await transitionTaskInstances(
      trx,
      tis.filter((ti) => ti.state === 'running').map((ti) => ti.id),
      { to: 'restarting', now },
    );
    await transitionTaskInstances(
      trx,
      tis.filter((ti) => ti.state !== 'running' && ti.state !== null).map((ti) => ti.id),
      { to: null, now, set: { max_tries: maxTriesAfterClear(trx, retries) as never, next_retry_at: null } },
    );
    for (const run of runs) {
      const cleared = tis.filter((t) => t.run_id === run.run_id).map((t) => ({ taskId: t.task_id, mapIndex: t.map_index }));
      if (cleared.length === 0) continue;
      await clearXComs(trx, run.id, cleared);
      if (run.state !== 'queued' && run.state !== 'running') {
        await transitionDagRun(trx, run.id, { to: 'queued', now, set: { clear_number: nextClearNumber(trx) as never } });
      }
    }
    await notifyScheduler(trx, `cleared ${tis.length} task instance(s) of ${request.dag.dagId}`);
    return tis;
  });
}
