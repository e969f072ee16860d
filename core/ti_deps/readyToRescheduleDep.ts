import type { TiState } from '../state.ts';

/**
 * Airflow's ReadyToRescheduleDep: a sensor up for reschedule waits until the reschedule date of its try
 * (its latest task_reschedule row). `rescheduleAt` undefined means the caller did not read it (the mini
 * scheduler): then only the scheduler, which reads it, may schedule the sensor. Returns why it waits, or
 * null when it may go on.
 */
export function readyToReschedule(state: TiState, rescheduleAt: Date | null | undefined, now: Date): string | null {
  if (state !== 'up_for_reschedule') return null;
  if (rescheduleAt === undefined) return 'up for reschedule; the scheduler reads its reschedule date';
  if (rescheduleAt && rescheduleAt.getTime() > now.getTime()) return `up for reschedule until ${rescheduleAt.toISOString()}`;
  return null;
}
