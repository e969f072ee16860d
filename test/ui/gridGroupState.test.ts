// A task group's square in the grid: the most urgent state of its tasks, in Airflow's order (State.state_priority).
import { describe, expect, it } from 'vitest';
import type { TiState } from '../../core/state.ts';
import { worstState } from '../../webserver/ui/gridModel.ts';

const MOST_URGENT_FIRST: TiState[] = [
  'failed',
  'upstream_failed',
  'up_for_retry',
  'up_for_reschedule',
  'queued',
  'scheduled',
  'deferred',
  'running',
  'restarting',
  null,
  'removed',
  'skipped',
  'success',
];

describe('worstState', () => {
  it('picks each state over every state after it in the order, whatever the input order', () => {
    MOST_URGENT_FIRST.forEach((state, i) => {
      for (const later of MOST_URGENT_FIRST.slice(i + 1)) {
        expect(worstState([later, state]), `${state} over ${later}`).toBe(state);
        expect(worstState([state, later, 'success'])).toBe(state);
      }
    });
    expect(worstState(['success'])).toBe('success');
  });
});
