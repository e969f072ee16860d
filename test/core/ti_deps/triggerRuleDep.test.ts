import { describe, expect, it } from 'vitest';
import { countUpstreamStates, evaluateTriggerRule, type TriggerDecision, type UpstreamCounts } from '../../../core/ti_deps/triggerRuleDep.ts';
import { TRIGGER_RULES, type TriggerRule } from '../../../core/triggerRule.ts';

type Finished = Partial<Omit<UpstreamCounts, 'done'>>;

/** Counts for `upstream` direct upstreams, of which the given ones finished; `done` is derived. */
function decide(rule: TriggerRule, upstream: number, finished: Finished): TriggerDecision {
  const counts = { success: 0, skipped: 0, failed: 0, upstreamFailed: 0, removed: 0, ...finished, done: 0 };
  counts.done = counts.success + counts.skipped + counts.failed + counts.upstreamFailed + counts.removed;
  return evaluateTriggerRule({ rule, upstreamCount: upstream, counts }).decision;
}

// The shared scenarios, all with 3 direct upstream tasks.
const ALL_SUCCESS: Finished = { success: 3 };
const MIXED: Finished = { success: 1, failed: 1, skipped: 1 };
const STILL_RUNNING: Finished = { success: 1 }; // 2 not finished
const ALL_FAILED: Finished = { failed: 3 };
const ALL_SKIPPED: Finished = { skipped: 3 };
const WITH_UPSTREAM_FAILED: Finished = { success: 2, upstreamFailed: 1 };
const ONE_REMOVED: Finished = { success: 2, removed: 1 };

type Row = [scenario: string, finished: Finished, expected: TriggerDecision];

/** Expected outcomes per rule, from Airflow 2's TriggerRuleDep (flag_upstream_failed=True) and the trigger-rule docs. */
const TABLE: Record<TriggerRule, Row[]> = {
  // "All upstream tasks have succeeded"; a failure propagates as upstream_failed, a skip as skipped, immediately.
  all_success: [
    ['all success -> run', ALL_SUCCESS, 'run'],
    ['mixed -> upstream_failed (failure beats skip)', MIXED, 'upstream_failed'],
    ['some still running -> wait', STILL_RUNNING, 'wait'],
    ['all failed -> upstream_failed', ALL_FAILED, 'upstream_failed'],
    ['all skipped -> skip', ALL_SKIPPED, 'skip'],
    ['an upstream_failed -> upstream_failed', WITH_UPSTREAM_FAILED, 'upstream_failed'],
    ['removed upstream is ignored -> run', ONE_REMOVED, 'run'],
    ['a skip with others running -> skip without waiting', { success: 1, skipped: 1 }, 'skip'],
    ['a failure with others running -> upstream_failed without waiting', { failed: 1 }, 'upstream_failed'],
  ],
  // "All upstream tasks are in a failed or upstream_failed state"; any success or skip -> skipped.
  all_failed: [
    ['all success -> skip', ALL_SUCCESS, 'skip'],
    ['mixed -> skip', MIXED, 'skip'],
    ['some still running, one succeeded -> skip already', STILL_RUNNING, 'skip'],
    ['all failed -> run', ALL_FAILED, 'run'],
    ['all skipped -> skip', ALL_SKIPPED, 'skip'],
    ['successes beside the upstream_failed -> skip', WITH_UPSTREAM_FAILED, 'skip'],
    ['removed upstream is ignored (the rest succeeded) -> skip', ONE_REMOVED, 'skip'],
    ['failed + upstream_failed -> run', { failed: 2, upstreamFailed: 1 }, 'run'],
    ['one failed, others running -> wait', { failed: 1 }, 'wait'],
  ],
  // "All upstream tasks are done with their execution", whatever the outcome; never skipped.
  all_done: [
    ['all success -> run', ALL_SUCCESS, 'run'],
    ['mixed -> run', MIXED, 'run'],
    ['some still running -> wait', STILL_RUNNING, 'wait'],
    ['all failed -> run', ALL_FAILED, 'run'],
    ['all skipped -> run', ALL_SKIPPED, 'run'],
    ['with upstream_failed -> run', WITH_UPSTREAM_FAILED, 'run'],
    ['removed upstream is ignored -> run', ONE_REMOVED, 'run'],
    ['every upstream removed -> run, like a root', { removed: 3 }, 'run'],
  ],
  // "At least one upstream task has succeeded (does not wait for all)"; all done, none succeeded ->
  // upstream_failed, unless every upstream was skipped -> skipped.
  one_success: [
    ['all success -> run', ALL_SUCCESS, 'run'],
    ['mixed -> run', MIXED, 'run'],
    ['one succeeded, others running -> run without waiting', STILL_RUNNING, 'run'],
    ['all failed -> upstream_failed', ALL_FAILED, 'upstream_failed'],
    ['all skipped -> skip', ALL_SKIPPED, 'skip'],
    ['with upstream_failed -> run (2 succeeded)', WITH_UPSTREAM_FAILED, 'run'],
    ['removed upstream is ignored -> run', ONE_REMOVED, 'run'],
    ['failed + skipped, all done -> upstream_failed', { failed: 1, skipped: 2 }, 'upstream_failed'],
    ['one failed, others running -> wait', { failed: 1 }, 'wait'],
    ['the rest skipped beside a removed one -> skip', { skipped: 2, removed: 1 }, 'skip'],
  ],
  // "At least one upstream task has failed (does not wait for all)"; upstream_failed counts;
  // all done and none failed -> skipped.
  one_failed: [
    ['all success -> skip', ALL_SUCCESS, 'skip'],
    ['mixed -> run', MIXED, 'run'],
    ['one succeeded, others running -> wait', STILL_RUNNING, 'wait'],
    ['all failed -> run', ALL_FAILED, 'run'],
    ['all skipped -> skip', ALL_SKIPPED, 'skip'],
    ['an upstream_failed counts as a failure -> run', WITH_UPSTREAM_FAILED, 'run'],
    ['removed upstream is ignored, the rest succeeded -> skip', ONE_REMOVED, 'skip'],
    ['one failed, others running -> run without waiting', { failed: 1 }, 'run'],
  ],
  // "At least one upstream task succeeded or failed"; only success/failed count (not
  // upstream_failed, not skipped); all done with neither -> skipped.
  one_done: [
    ['all success -> run', ALL_SUCCESS, 'run'],
    ['mixed -> run', MIXED, 'run'],
    ['one succeeded, others running -> run without waiting', STILL_RUNNING, 'run'],
    ['all failed -> run', ALL_FAILED, 'run'],
    ['all skipped -> skip', ALL_SKIPPED, 'skip'],
    ['with upstream_failed (2 succeeded) -> run', WITH_UPSTREAM_FAILED, 'run'],
    ['removed upstream is ignored -> run', ONE_REMOVED, 'run'],
    ['all upstream_failed -> skip (upstream_failed is not "done" here)', { upstreamFailed: 3 }, 'skip'],
    ['skipped + upstream_failed, all done -> skip', { skipped: 2, upstreamFailed: 1 }, 'skip'],
    ['one skipped, others running -> wait', { skipped: 1 }, 'wait'],
  ],
  // "All upstream tasks have not failed or upstream_failed - succeeded or been skipped".
  none_failed: [
    ['all success -> run', ALL_SUCCESS, 'run'],
    ['mixed -> upstream_failed', MIXED, 'upstream_failed'],
    ['some still running -> wait', STILL_RUNNING, 'wait'],
    ['all failed -> upstream_failed', ALL_FAILED, 'upstream_failed'],
    ['all skipped -> run (skips are fine)', ALL_SKIPPED, 'run'],
    ['with upstream_failed -> upstream_failed', WITH_UPSTREAM_FAILED, 'upstream_failed'],
    ['removed upstream is ignored -> run', ONE_REMOVED, 'run'],
    ['success + skipped -> run', { success: 1, skipped: 2 }, 'run'],
    ['a failure with others running -> upstream_failed without waiting', { failed: 1 }, 'upstream_failed'],
  ],
  // Like none_failed, but at least one upstream must have succeeded: all skipped -> skipped.
  none_failed_min_one_success: [
    ['all success -> run', ALL_SUCCESS, 'run'],
    ['mixed -> upstream_failed', MIXED, 'upstream_failed'],
    ['some still running -> wait', STILL_RUNNING, 'wait'],
    ['all failed -> upstream_failed', ALL_FAILED, 'upstream_failed'],
    ['all skipped -> skip', ALL_SKIPPED, 'skip'],
    ['with upstream_failed -> upstream_failed', WITH_UPSTREAM_FAILED, 'upstream_failed'],
    ['removed upstream is ignored -> run', ONE_REMOVED, 'run'],
    ['one success, rest skipped (the branch join) -> run', { success: 1, skipped: 2 }, 'run'],
    ['two skipped, one running -> wait', { skipped: 2 }, 'wait'],
  ],
  // "No upstream task is in a skipped state - all are success, failed or upstream_failed".
  none_skipped: [
    ['all success -> run', ALL_SUCCESS, 'run'],
    ['mixed -> skip', MIXED, 'skip'],
    ['some still running -> wait', STILL_RUNNING, 'wait'],
    ['all failed -> run (failures are fine)', ALL_FAILED, 'run'],
    ['all skipped -> skip', ALL_SKIPPED, 'skip'],
    ['with upstream_failed -> run', WITH_UPSTREAM_FAILED, 'run'],
    ['removed upstream is ignored -> run', ONE_REMOVED, 'run'],
    ['a skip with others running -> skip without waiting', { skipped: 1 }, 'skip'],
  ],
  // "All upstream tasks are in a skipped state"; any success/failed/upstream_failed -> skipped.
  all_skipped: [
    ['all success -> skip', ALL_SUCCESS, 'skip'],
    ['mixed -> skip', MIXED, 'skip'],
    ['one succeeded, others running -> skip already', STILL_RUNNING, 'skip'],
    ['all failed -> skip', ALL_FAILED, 'skip'],
    ['all skipped -> run', ALL_SKIPPED, 'run'],
    ['with upstream_failed -> skip', WITH_UPSTREAM_FAILED, 'skip'],
    ['removed upstream is ignored, the rest succeeded -> skip', ONE_REMOVED, 'skip'],
    ['two skipped, one running -> wait', { skipped: 2 }, 'wait'],
    ['the rest skipped beside a removed one -> run', { skipped: 2, removed: 1 }, 'run'],
  ],
  // "No dependencies at all, run this task at any time".
  always: [
    ['all success -> run', ALL_SUCCESS, 'run'],
    ['mixed -> run', MIXED, 'run'],
    ['some still running -> run', STILL_RUNNING, 'run'],
    ['all failed -> run', ALL_FAILED, 'run'],
    ['all skipped -> run', ALL_SKIPPED, 'run'],
    ['with upstream_failed -> run', WITH_UPSTREAM_FAILED, 'run'],
    ['removed upstream -> run', ONE_REMOVED, 'run'],
    ['nothing finished -> run', {}, 'run'],
  ],
};

describe('evaluateTriggerRule', () => {
  for (const rule of TRIGGER_RULES) {
    describe(rule, () => {
      it.each(TABLE[rule])('%s', (_scenario, finished, expected) => {
        expect(decide(rule, 3, finished)).toBe(expected);
      });
    });
  }

  it.each(TRIGGER_RULES)('%s: a task with no upstream (a root) always runs', (rule) => {
    expect(decide(rule, 0, {})).toBe('run');
  });

  it.each(TRIGGER_RULES.filter((rule) => rule !== 'always'))('%s: waits while nothing upstream has finished', (rule) => {
    expect(decide(rule, 3, {})).toBe('wait');
  });

  it('explains the decision with the rule and the counts', () => {
    const result = evaluateTriggerRule({
      rule: 'all_success',
      upstreamCount: 3,
      counts: { success: 1, skipped: 0, failed: 1, upstreamFailed: 0, removed: 0, done: 2 },
    });
    expect(result.decision).toBe('upstream_failed');
    expect(result.reason).toMatch(/^all_success: an upstream task failed \(3 upstream: 1 success, 0 skipped, 1 failed, 0 upstream_failed, 1 not done\)$/);
  });

  it.each<[string, number, UpstreamCounts]>([
    ['negative count', 2, { success: -1, skipped: 0, failed: 0, upstreamFailed: 0, removed: 0, done: 0 }],
    ['done not the sum of finished states', 2, { success: 1, skipped: 0, failed: 0, upstreamFailed: 0, removed: 0, done: 2 }],
    ['more finished than upstream', 1, { success: 2, skipped: 0, failed: 0, upstreamFailed: 0, removed: 0, done: 2 }],
    ['fractional upstream count', 1.5, { success: 0, skipped: 0, failed: 0, upstreamFailed: 0, removed: 0, done: 0 }],
  ])('rejects impossible counts: %s', (_name, upstreamCount, counts) => {
    expect(() => evaluateTriggerRule({ rule: 'all_done', upstreamCount, counts })).toThrow(RangeError);
  });
});

describe('countUpstreamStates', () => {
  it('counts finished states; unfinished ones only add to the total the caller knows', () => {
    expect(countUpstreamStates(['success', 'success', 'skipped', 'failed', 'upstream_failed', 'removed', 'running', 'up_for_retry', null])).toEqual({
      success: 2,
      skipped: 1,
      failed: 1,
      upstreamFailed: 1,
      removed: 1,
      done: 6,
    });
  });
});
