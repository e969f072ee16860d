import type { Knex } from 'knex';
import { retryDelayMs, type RetryPolicy } from '../core/retryDelay.ts';
import type { TiState } from '../core/state.ts';
import { transitionTaskInstances } from './transitions.ts';
import type { TaskInstanceRow } from './rows.ts';

/**
 * Ends a try that failed: up_for_retry (with next_retry_at) while tries are
 * left and retrying is allowed, failed otherwise. Shared by the task runner
 * (the task raised), and the scheduler (the runner died, or stopped
 * heartbeating). Returns the updated row, or null if the task instance had
 * already left `from` (someone else settled it first).
 */
export async function failTaskInstance(
  db: Knex | Knex.Transaction,
  ti: Pick<TaskInstanceRow, 'id' | 'dag_id' | 'run_id' | 'task_id' | 'map_index' | 'try_number' | 'max_tries'>,
  options: { policy: RetryPolicy | null; allowRetry: boolean; from: readonly TiState[]; now: Date },
): Promise<TaskInstanceRow | null> {
  const { policy, now } = options;
  const retry = options.allowRetry && policy !== null && ti.try_number <= ti.max_tries;
  if (retry) {
    const key = `${ti.dag_id}#${ti.task_id}#${ti.run_id}#${ti.map_index}`;
    const next = new Date(now.getTime() + retryDelayMs(policy, ti.try_number, key));
    const [row] = await transitionTaskInstances(db, [ti.id], { to: 'up_for_retry', from: options.from, now, set: { next_retry_at: next } });
    return row ?? null;
  }
  const [row] = await transitionTaskInstances(db, [ti.id], { to: 'failed', from: options.from, now });
  return row ?? null;
}
