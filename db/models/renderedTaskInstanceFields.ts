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

/** Stores (or replaces) what a task instance's template fields rendered to; `rendered` must already be masked. */
export async function saveRenderedFields(
  db: Knex | Knex.Transaction,
  ti: Pick<TaskInstanceRow, 'dag_id' | 'run_id' | 'task_id' | 'map_index'>,
  rendered: unknown,
): Promise<void> {
  await db('rendered_task_instance_fields')
    .insert({
      dag_id: ti.dag_id,
      run_id: ti.run_id,
      task_id: ti.task_id,
      map_index: ti.map_index,
      rendered_fields: JSON.stringify(rendered),
    })
    .onConflict(['dag_id', 'run_id', 'task_id', 'map_index'])
    .merge(['rendered_fields']);
}
