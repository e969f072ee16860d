import type { TiState } from '../state.ts';

/**
 * Airflow's NotInRetryPeriodDep: a task instance up for retry waits until its
 * next_retry_at. Returns why it waits, or null when it may go on.
 */
export function notInRetryPeriod(state: TiState, retryAt: Date | null | undefined, now: Date): string | null {
  if (state !== 'up_for_retry') return null;
  if (retryAt && retryAt.getTime() > now.getTime()) return `in its retry period until ${retryAt.toISOString()}`;
  return null;
}
