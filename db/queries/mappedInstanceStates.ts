import type { Knex } from 'knex';
import type { TiState } from '../../core/state.ts';

/**
 * The states of the mapped instances (map index >= 0) of `taskIds` in one dag run, per task in
 * map-index order. Tasks of a mapped task group are decided per map index (ADR 0018): instance i
 * waits for instance i of the group's tasks before it, so the scheduler needs each instance's state
 * where, for other mapped tasks, per-state counts do (taskInstancesToSchedule).
 *
 * Params: the run (dag id, run id) and the tasks of its mapped groups; read only for DAGs that have them.
 *
 * Locks nothing: it runs in the scheduling pass's transaction, which holds the run's row lock, so no
 * other scheduler decides the run meanwhile; a worker may finish an instance in between, which only
 * moves it forward (the next pass sees it).
 */
export async function mappedInstanceStates(trx: Knex.Transaction, dagId: string, runId: string, taskIds: readonly string[]): Promise<Map<string, TiState[]>> {
  const rows: { task_id: string; state: TiState }[] = await trx('task_instance')
    .where({ dag_id: dagId, run_id: runId })
    .whereIn('task_id', [...taskIds])
    .where('map_index', '>=', 0)
    .orderBy([{ column: 'task_id' }, { column: 'map_index' }])
    .select('task_id', 'state');
  const byTask = new Map<string, TiState[]>();
  for (const r of rows) {
    const states = byTask.get(r.task_id);
    if (states) states.push(r.state);
    else byTask.set(r.task_id, [r.state]);
  }
  return byTask;
}
