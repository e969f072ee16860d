import type { SerializedTask } from '../serialize.ts';
import type { TiState } from '../state.ts';

/**
 * Airflow's PrevDagrunDep (dependsOnPast): the same task in the previous run
 * must have succeeded or been skipped. `previousRunStates` null means there is
 * no previous run (or the caller does not check it). Returns why the task
 * waits, or null when it may go on.
 */
export function prevDagrunSatisfied(task: SerializedTask, previousRunStates: ReadonlyMap<string, TiState> | null): string | null {
  if (!task.dependsOnPast || !previousRunStates) return null;
  const previous = previousRunStates.get(task.taskId);
  if (previous !== undefined && previous !== 'success' && previous !== 'skipped') {
    return `dependsOnPast: the previous run's '${task.taskId}' is ${previous ?? 'none'}, not success or skipped`;
  }
  return null;
}
