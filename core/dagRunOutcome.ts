/**
 * What a dag run's task states mean for the run, as Airflow's DagRun.update_state:
 * finished (success or failed), or stuck for good (deadlocked). Pure: the
 * scheduler applies the outcome.
 */
import type { SerializedTask } from './serialize.ts';
import { FINISHED_TI_STATES, type TaskInstanceState, type TiState } from './state.ts';
import type { Decision } from './taskInstanceSchedulingDecisions.ts';

/**
 * A run's outcome from its task states: success when every leaf succeeded or
 * was skipped, failed when a leaf failed or is upstream_failed, both only once
 * every task is finished; null while anything can still happen.
 */
export function dagRunOutcome(tasks: readonly SerializedTask[], states: ReadonlyMap<string, TiState>): 'success' | 'failed' | null {
  const allFinished = tasks.every((t) => FINISHED_TI_STATES.has(states.get(t.taskId) as TaskInstanceState));
  if (!allFinished) return null;
  const leaves = tasks.filter((t) => t.downstreamTaskIds.length === 0);
  const failedLeaf = leaves.some((t) => {
    const s = states.get(t.taskId);
    return s === 'failed' || s === 'upstream_failed';
  });
  return failedLeaf ? 'failed' : 'success';
}

/**
 * Unfinished task instances that nothing will move any more (Airflow's
 * deadlock, e.g. a failed dependsOnPast chain): the run must fail. `states`
 * and `decisions` are after this pass's decisions were applied.
 */
export function isDeadlocked(tasks: readonly SerializedTask[], states: ReadonlyMap<string, TiState>, decisions: readonly Decision[]): boolean {
  const moving = new Set<TiState>(['scheduled', 'queued', 'running', 'up_for_retry', 'up_for_reschedule', 'deferred', 'restarting']);
  const unfinished = tasks.filter((t) => !FINISHED_TI_STATES.has(states.get(t.taskId) as TaskInstanceState));
  if (unfinished.length === 0 || decisions.some((d) => d.to !== null || d.waitingOnPast)) return false;
  return unfinished.every((t) => !moving.has(states.get(t.taskId) ?? null));
}
