import type { Knex } from 'knex';
import type { Logger } from '../core/logger.ts';
import { failTaskInstance, taskInstancesByIds, zombieTaskInstances } from '../db/models/taskInstance.ts';
import { getSerializedDagCached } from '../db/models/serializedDag.ts';
import { transitionTaskInstances } from '../db/transitions.ts';
import type { TaskInstanceRow } from '../db/rows.ts';
import type { ExecutorEvent } from '../executors/base.ts';
import { TaskLog, taskLogPath } from '../logging/fileTaskHandler.ts';

/**
 * Applies what executors report. The task runner records a try's outcome
 * itself, so an exited process normally finds its task instance finished. If
 * it is still queued or running, the runner died before recording anything
 * (killed, out of memory, could not start): that try failed, and is retried
 * if tries are left — Airflow's "Executor reports task instance finished
 * (failed) although the task says it's running".
 */
export async function applyExecutorEvents(
  knex: Knex,
  events: ExecutorEvent[],
  options: { now: Date; logger: Logger; baseLogFolder?: string },
): Promise<{ failed: number; touched: { dag_id: string; run_id: string }[] }> {
  if (events.length === 0) return { failed: 0, touched: [] };
  const tis = await taskInstancesByIds(knex, [...new Set(events.map((e) => e.tiId))]);
  const byId = new Map(tis.map((ti) => [ti.id, ti]));
  let failed = 0;
  for (const event of events) {
    const ti = byId.get(event.tiId);
    // A process of an earlier try that ended late (killed when the retry started) says nothing about this one.
    if (ti && event.tryNumber !== undefined && ti.try_number !== event.tryNumber) continue;
    if (ti?.state === 'restarting') {
      // Cleared while it ran and its process is gone: schedule it afresh.
      await transitionTaskInstances(knex, [ti.id], { to: null, from: ['restarting'], now: options.now });
      continue;
    }
    if (event.outcome === 'requeue') {
      if (ti?.state === 'queued') await transitionTaskInstances(knex, [ti.id], { to: 'scheduled', from: ['queued'], now: options.now });
      continue;
    }
    if (!ti || (ti.state !== 'queued' && ti.state !== 'running') || event.outcome === 'success') continue;
    const dag = await getSerializedDagCached(knex, ti.dag_id);
    const task = dag?.tasks.find((t) => t.taskId === ti.task_id) ?? null;
    const row = await failTaskInstance(knex, ti, { policy: task, allowRetry: true, from: [ti.state], now: options.now });
    if (row) {
      failed += 1;
      options.logger.error(
        `task instance ${ti.dag_id}.${ti.task_id} (${ti.run_id}, try ${ti.try_number}) ended without recording a result; marked ${row.state}: ${event.info}`,
        {
          dagId: ti.dag_id,
          taskId: ti.task_id,
          runId: ti.run_id,
        },
      );
      appendToTryLog(options, ti, `The task's process ended without recording a result; marked ${row.state}. Reason: ${event.info}`);
    }
  }
  const touched = [...new Map(tis.map((ti) => [`${ti.dag_id}\u0000${ti.run_id}`, { dag_id: ti.dag_id, run_id: ti.run_id }])).values()];
  return { failed, touched };
}

/**
 * Says why in the try's own log under `baseLogFolder` (the scheduler passes its own), where the task
 * page looks: its runner, which would have written there, is gone. A log that cannot be written is
 * reported and does not stop the loop.
 */
function appendToTryLog(options: { baseLogFolder?: string; logger: Logger }, ti: TaskInstanceRow, message: string): void {
  if (options.baseLogFolder === undefined) return;
  const key = { dagId: ti.dag_id, runId: ti.run_id, taskId: ti.task_id, mapIndex: ti.map_index, tryNumber: ti.try_number };
  try {
    const log = new TaskLog(taskLogPath(options.baseLogFolder, key));
    log.write('ERROR', 'executor', message);
    log.close();
  } catch (error) {
    options.logger.warn(`could not write to the log of ${ti.dag_id}.${ti.task_id} (${ti.run_id}, try ${ti.try_number}): ${String(error)}`);
  }
}

/**
 * Running task instances whose runner stopped heartbeating (the machine died,
 * the process hangs): fail the try like Airflow's zombie detection. The age of
 * a heartbeat is measured by the database's clock, which also wrote it: a
 * scheduler whose host clock runs ahead must not fail healthy tasks.
 */
export async function failZombies(knex: Knex, options: { now: Date; thresholdMs: number; logger: Logger; baseLogFolder?: string }): Promise<number> {
  const zombies = await zombieTaskInstances(knex, options.thresholdMs);
  for (const ti of zombies) {
    await applyExecutorEvents(knex, [{ tiId: ti.id, outcome: 'failed', info: `no heartbeat since ${ti.last_heartbeat_at?.toISOString()} (zombie)` }], options);
  }
  return zombies.length;
}
