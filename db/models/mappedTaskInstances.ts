import type { Knex } from 'knex';
import type { TaskInstanceRow } from '../rows.ts';

/**
 * One page of an expanded mapped task's instances in a run (Airflow's "Mapped
 * tasks" list), by map index. A range of the (dag_id, run_id, task_id, map_index)
 * unique index: rows come in index order, so a page far into 10,000 instances
 * reads no more than its offset plus its rows, and none are sorted or loaded.
 */
export async function mappedTaskInstancesPage(
  knex: Knex,
  key: { dagId: string; runId: string; taskId: string },
  limit: number,
  offset: number,
): Promise<{ rows: TaskInstanceRow[]; total: number }> {
  const query = mappedTaskInstances(knex, key);
  const [counted] = await query.clone().count({ n: '*' });
  const rows = (await query.clone().orderBy('map_index').limit(limit).offset(offset).select('*')) as TaskInstanceRow[];
  return { rows, total: Number(counted?.n ?? 0) };
}

/** The instances (map index 0 and up) of a task in a run. */
export function mappedTaskInstances(knex: Knex, key: { dagId: string; runId: string; taskId: string }): Knex.QueryBuilder {
  return knex('task_instance').where({ dag_id: key.dagId, run_id: key.runId, task_id: key.taskId }).where('map_index', '>=', 0);
}
