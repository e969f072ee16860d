import type { Knex } from 'knex';
import type { Logger } from '../core/logger.ts';
import type { SerializedDag } from '../core/serialize.ts';
import { failTaskInstance } from '../db/failTaskInstance.ts';
import { transitionTaskInstances, type TaskInstanceRow } from '../db/transitions.ts';
import type { ExecutorEvent } from '../executors/base.ts';

/**
 * Applies what executors report. The task runner records a try's outcome
 * itself, so an exited process normally finds its task instance finished. If
 * it is still queued or running, the runner died before recording anything
 * (killed, out of memory, could not start): that try failed, and is retried
 * if tries are left — Airflow's "Executor reports task instance finished
 * (failed) although the task says it's running".
 */
export async function applyExecutorEvents(knex: Knex, events: ExecutorEvent[], options: { now: Date; logger: Logger }): Promise<number> {
  let failed = 0;
  for (const event of events) {
    const ti: TaskInstanceRow | undefined = await knex('task_instance').where('id', event.tiId).first();
    if (ti?.state === 'restarting') {
      // Cleared while it ran and its process is gone: schedule it afresh.
      await transitionTaskInstances(knex, [ti.id], { to: null, from: ['restarting'], now: options.now });
      continue;
    }
    if (!ti || (ti.state !== 'queued' && ti.state !== 'running')) continue;
    const dag = (await knex('serialized_dag').where('dag_id', ti.dag_id).first('data'))?.data as SerializedDag | undefined;
    const task = dag?.tasks.find((t) => t.taskId === ti.task_id) ?? null;
    const row = await failTaskInstance(knex, ti, { policy: task, allowRetry: true, from: [ti.state], now: options.now });
    if (row) {
      failed += 1;
      options.logger.error(`task instance ${ti.dag_id}.${ti.task_id} (${ti.run_id}, try ${ti.try_number}) ended without recording a result; marked ${row.state}: ${event.info}`, {
        dagId: ti.dag_id,
        taskId: ti.task_id,
        runId: ti.run_id,
      });
    }
  }
  return failed;
}

/**
 * Running task instances whose runner stopped heartbeating (the machine died,
 * the process hangs): fail the try like Airflow's zombie detection.
 */
export async function failZombies(knex: Knex, options: { now: Date; thresholdMs: number; logger: Logger }): Promise<number> {
  const cutoff = new Date(options.now.getTime() - options.thresholdMs);
  const zombies: TaskInstanceRow[] = await knex('task_instance').where('state', 'running').andWhere('last_heartbeat_at', '<', cutoff);
  for (const ti of zombies) {
    await applyExecutorEvents(knex, [{ tiId: ti.id, outcome: 'failed', info: `no heartbeat since ${ti.last_heartbeat_at?.toISOString()} (zombie)` }], options);
  }
  return zombies.length;
}
