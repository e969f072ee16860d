import type { Knex } from 'knex';
import { relativeTaskIds } from '../core/relatives.ts';
import type { SerializedDag } from '../core/serialize.ts';
import { notifyScheduler } from '../db/notifications.ts';
import { lockDagRuns } from '../db/models/dagRun.ts';
import { clearXComs } from '../db/models/xcom.ts';
import { transitionDagRun, transitionTaskInstances } from '../db/transitions.ts';
import type { TaskInstanceRow } from '../db/rows.ts';

export interface ClearRequest {
  dag: SerializedDag;
  runIds: readonly string[];
  taskIds: readonly string[];
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
    let query = trx('task_instance')
      .where('dag_id', request.dag.dagId)
      .whereIn(
        'run_id',
        runs.map((r) => r.run_id),
      )
      .whereIn('task_id', [...taskIds])
      .orderBy('id')
      .forUpdate();
    if (request.onlyStates) {
      const states = request.onlyStates.filter((s): s is string => s !== null);
      const withNull = request.onlyStates.includes(null);
      query = query.where((q) => {
        q.whereIn('state', states);
        if (withNull) q.orWhereNull('state');
      });
    }
    const tis: TaskInstanceRow[] = await query;
    if (request.dryRun || tis.length === 0) return tis;
    const { now } = request;
    const retries = JSON.stringify(Object.fromEntries(request.dag.tasks.map((t) => [t.taskId, t.retries])));
    await transitionTaskInstances(
      trx,
      tis.filter((ti) => ti.state === 'running').map((ti) => ti.id),
      { to: 'restarting', now },
    );
    await transitionTaskInstances(
      trx,
      tis.filter((ti) => ti.state !== 'running' && ti.state !== null).map((ti) => ti.id),
      { to: null, now, set: { max_tries: trx.raw('ti.try_number + COALESCE((?::jsonb ->> ti.task_id)::int, 0)', [retries]) as never, next_retry_at: null } },
    );
    for (const run of runs) {
      const cleared = tis.filter((t) => t.run_id === run.run_id).map((t) => t.task_id);
      if (cleared.length === 0) continue;
      await clearXComs(trx, run.id, cleared);
      if (run.state !== 'queued' && run.state !== 'running') {
        await transitionDagRun(trx, run.id, { to: 'queued', now, set: { clear_number: trx.raw('clear_number + 1') as never } });
      }
    }
    await notifyScheduler(trx, `cleared ${tis.length} task instance(s) of ${request.dag.dagId}`);
    return tis;
  });
}
