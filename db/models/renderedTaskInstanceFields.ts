import type { Knex } from 'knex';
import type { TaskInstanceRow } from '../rows.ts';

/** The `rendered_task_instance_fields` table (Airflow's RenderedTaskInstanceFields): the task runner writes it, the task instance page reads it. */

/** The template fields a task instance's latest try rendered (Airflow's rendered_task_instance_fields), or null before it ran. */
export async function renderedFieldsOf(
  knex: Knex,
  key: { dagId: string; runId: string; taskId: string; mapIndex: number },
): Promise<Record<string, unknown> | null> {
  const row = await knex('rendered_task_instance_fields')
    .where({ dag_id: key.dagId, run_id: key.runId, task_id: key.taskId, map_index: key.mapIndex })
    .first('rendered_fields');
  return (row?.rendered_fields ?? null) as Record<string, unknown> | null;
}

/**
 * Stores (or replaces) what a task instance's template fields rendered to; `rendered` must already be masked.
 * One statement committed without waiting for its WAL flush (synchronous_commit off for this transaction
 * only): the rows are for display, a crash may lose the latest ones and the next try writes them again,
 * and a mapped task writes one per instance, where a flushed commit each cost more than the task body.
 * Takes `knex`, never a transaction: the setting would cover the caller's whole transaction.
 */
export async function saveRenderedFields(
  knex: Knex,
  ti: Pick<TaskInstanceRow, 'dag_id' | 'run_id' | 'task_id' | 'map_index'>,
  rendered: unknown,
): Promise<void> {
  if (knex.isTransaction) throw new Error('saveRenderedFields runs in its own transaction');
  await knex.raw(
    `INSERT INTO rendered_task_instance_fields (dag_id, run_id, task_id, map_index, rendered_fields)
     SELECT ?, ?, ?, ?, ?::jsonb FROM (SELECT set_config('synchronous_commit', 'off', true)) AS lazily
     ON CONFLICT (dag_id, run_id, task_id, map_index) DO UPDATE SET rendered_fields = EXCLUDED.rendered_fields`,
    [ti.dag_id, ti.run_id, ti.task_id, ti.map_index, JSON.stringify(rendered)],
  );
}
