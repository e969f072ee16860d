/**
 * Dynamic task mapping (Airflow's expand()): what a mapped task expands over,
 * as written in the serialized DAG, and the pure rules the scheduler applies
 * when it expands one (ADR 0016). The scheduler never runs user code: the
 * values are a literal list from the DAG file or an upstream task's XCom.
 */
import { FINISHED_TI_STATES, type TaskInstanceState, type TiState } from './state.ts';

/** A mapped task's input: a literal list, or the XCom of an upstream task. */
export type SerializedExpandInput = { literal: unknown[] } | { xcomArg: { taskId: string; key: string } };

/** Airflow's default core.max_map_length. */
export const DEFAULT_MAX_MAP_LENGTH = 1024;

export type Expansion = { to: 'expand'; length: number } | { to: 'skipped' | 'failed'; reason: string };

/** What to do with an unexpanded mapped task given the values it maps over (undefined: no XCom was pushed). */
export function expansionOf(taskId: string, input: SerializedExpandInput, values: unknown, maxMapLength: number): Expansion {
  const from = 'literal' in input ? 'its literal list' : `the output of task '${input.xcomArg.taskId}'`;
  if (!Array.isArray(values)) {
    const got = values === undefined ? 'nothing (no XCom was pushed)' : values === null ? 'null' : typeof values;
    return { to: 'failed', reason: `cannot expand mapped task '${taskId}': ${from} must be a list, got ${got}` };
  }
  if (values.length === 0) return { to: 'skipped', reason: `mapped task '${taskId}' skipped: ${from} is empty` };
  if (values.length > maxMapLength) {
    return {
      to: 'failed',
      reason: `cannot expand mapped task '${taskId}': ${from} has ${values.length} elements, over core.maxMapLength (${maxMapLength})`,
    };
  }
  return { to: 'expand', length: values.length };
}

const MOVING_ORDER: readonly TiState[] = ['running', 'queued', 'scheduled', 'up_for_retry', 'up_for_reschedule', 'deferred', 'restarting', null];

/**
 * One state standing for all instances of an expanded task, for what looks at
 * a task as a whole (the run's outcome, deadlock): unfinished while any
 * instance is, then failed > upstream_failed > success > skipped.
 */
export function aggregateMappedState(states: readonly TiState[]): TiState {
  const unfinished = states.filter((s) => !FINISHED_TI_STATES.has(s as TaskInstanceState));
  if (unfinished.length > 0) return MOVING_ORDER.find((s) => unfinished.includes(s)) ?? unfinished[0]!;
  for (const s of ['failed', 'upstream_failed', 'success', 'removed'] as const) if (states.includes(s)) return s;
  return 'skipped';
}
