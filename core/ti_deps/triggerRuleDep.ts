import { FINISHED_TI_STATES, type TiState } from '../state.ts';
import type { TriggerRule } from '../triggerRule.ts';

/**
 * Trigger-rule evaluation, as Airflow 2's TriggerRuleDep with
 * flag_upstream_failed on (the scheduler's mode): given the states of a task's
 * DIRECT upstream tasks, what the scheduler does with a task that has no state
 * yet — run it, keep waiting, or settle it as skipped / upstream_failed.
 */

/** How many direct upstream task instances are in each finished state; `done` is all finished ones. */
export interface UpstreamCounts {
  success: number;
  skipped: number;
  failed: number;
  upstreamFailed: number;
  removed: number;
  done: number;
}

export interface TriggerRuleInput {
  rule: TriggerRule;
  /** Number of direct upstream tasks, finished or not. */
  upstreamCount: number;
  counts: UpstreamCounts;
}

export type TriggerDecision = 'run' | 'wait' | 'skip' | 'upstream_failed';

export interface TriggerRuleResult {
  decision: TriggerDecision;
  reason: string;
}

/** Counts the states of a task's direct upstream task instances. */
export function countUpstreamStates(states: Iterable<TiState>): UpstreamCounts {
  const counts: UpstreamCounts = { success: 0, skipped: 0, failed: 0, upstreamFailed: 0, removed: 0, done: 0 };
  for (const state of states) {
    if (state === 'success') counts.success++;
    else if (state === 'skipped') counts.skipped++;
    else if (state === 'failed') counts.failed++;
    else if (state === 'upstream_failed') counts.upstreamFailed++;
    else if (state === 'removed') counts.removed++;
    if (state !== null && FINISHED_TI_STATES.has(state)) counts.done++;
  }
  return counts;
}

/**
 * Decides what happens to a task whose state is none. A settled outcome
 * (skip / upstream_failed) wins over run, as in Airflow, where the state is set
 * before the rule is checked.
 *
 * Removed upstreams neither satisfy nor block: they are left out of both the
 * upstream count and `done`. Airflow drops a removed task from the DAG (so from
 * upstream_task_ids) and subtracts removed mapped instances the same way.
 */
export function evaluateTriggerRule(input: TriggerRuleInput): TriggerRuleResult {
  const { rule, upstreamCount, counts } = input;
  checkCounts(upstreamCount, counts);
  if (upstreamCount === 0) return run('the task has no upstream tasks');
  if (rule === 'always') return run("trigger rule 'always' does not wait for upstream tasks");

  const upstream = upstreamCount - counts.removed;
  if (upstream === 0) return run('all upstream tasks were removed from the DAG');
  const { success, skipped, failed, upstreamFailed } = counts;
  const done = counts.done - counts.removed;
  const allDone = done >= upstream;
  const failures = failed + upstreamFailed;
  const states = `${upstream} upstream: ${success} success, ${skipped} skipped, ${failed} failed, ${upstreamFailed} upstream_failed, ${upstream - done} not done`;
  const because = (decision: TriggerDecision, why: string): TriggerRuleResult => ({ decision, reason: `${rule}: ${why} (${states})` });

  switch (rule) {
    case 'all_success':
      if (failures > 0) return because('upstream_failed', 'an upstream task failed');
      if (skipped > 0) return because('skip', 'an upstream task was skipped');
      return success === upstream ? because('run', 'all upstream tasks succeeded') : because('wait', 'waiting for all upstream tasks to succeed');
    case 'all_failed':
      if (success > 0 || skipped > 0) return because('skip', 'an upstream task succeeded or was skipped');
      return failures === upstream ? because('run', 'all upstream tasks failed') : because('wait', 'waiting for all upstream tasks to fail');
    case 'all_done':
      return allDone ? because('run', 'all upstream tasks are done') : because('wait', 'waiting for all upstream tasks to finish');
    case 'one_success':
      // Runs on the first success, without waiting for the rest.
      if (success > 0) return because('run', 'an upstream task succeeded');
      if (allDone && done === skipped) return because('skip', 'all upstream tasks were skipped');
      if (allDone) return because('upstream_failed', 'all upstream tasks are done and none succeeded');
      return because('wait', 'waiting for an upstream task to succeed');
    case 'one_failed':
      // Runs on the first failure (upstream_failed counts), without waiting for the rest.
      if (failures > 0) return because('run', 'an upstream task failed');
      if (allDone) return because('skip', 'all upstream tasks are done and none failed');
      return because('wait', 'waiting for an upstream task to fail');
    case 'one_done':
      // Only success and failed count as "done" here; upstream_failed and skipped do not.
      if (success + failed > 0) return because('run', 'an upstream task succeeded or failed');
      if (allDone) return because('skip', 'all upstream tasks are done and none succeeded or failed');
      return because('wait', 'waiting for an upstream task to succeed or fail');
    case 'none_failed':
      if (failures > 0) return because('upstream_failed', 'an upstream task failed');
      return success + skipped === upstream
        ? because('run', 'all upstream tasks succeeded or were skipped')
        : because('wait', 'waiting for upstream tasks to finish');
    case 'none_failed_min_one_success':
      if (failures > 0) return because('upstream_failed', 'an upstream task failed');
      if (skipped === upstream) return because('skip', 'all upstream tasks were skipped');
      return success + skipped === upstream
        ? because('run', 'no upstream task failed and at least one succeeded')
        : because('wait', 'waiting for upstream tasks to finish');
    case 'none_skipped':
      if (skipped > 0) return because('skip', 'an upstream task was skipped');
      return allDone ? because('run', 'all upstream tasks are done and none was skipped') : because('wait', 'waiting for upstream tasks to finish');
    case 'all_skipped':
      if (success > 0 || failures > 0) return because('skip', 'an upstream task did not skip');
      return skipped === upstream ? because('run', 'all upstream tasks were skipped') : because('wait', 'waiting for all upstream tasks to be skipped');
  }
}

function run(reason: string): TriggerRuleResult {
  return { decision: 'run', reason };
}

/** Counts that cannot come from real upstream states are a bug in the caller. */
function checkCounts(upstreamCount: number, counts: UpstreamCounts): void {
  const values = [upstreamCount, ...Object.values(counts)];
  if (!values.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new RangeError(`Upstream counts must be non-negative integers: upstreamCount=${upstreamCount}, ${JSON.stringify(counts)}`);
  }
  const finished = counts.success + counts.skipped + counts.failed + counts.upstreamFailed + counts.removed;
  if (counts.done !== finished || counts.done > upstreamCount) {
    throw new RangeError(
      `Inconsistent upstream counts: done must equal success+skipped+failed+upstreamFailed+removed (${finished}) and be at most upstreamCount (${upstreamCount}); got ${JSON.stringify(counts)}`,
    );
  }
}
