import type { Knex } from 'knex';

/** The `rendered_task_instance_fields` table (Airflow's RenderedTaskInstanceFields). runner/runTaskInstance.ts writes it. */

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
