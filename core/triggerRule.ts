/**
 * The names of Airflow's trigger rules: when a task may start, given the
 * states of its upstream tasks (Airflow's utils/trigger_rule.py). Only the
 * names live here; core/ti_deps/triggerRuleDep.ts evaluates them.
 */
export const TRIGGER_RULES = [
  'all_success',
  'all_failed',
  'all_done',
  'one_success',
  'one_failed',
  'one_done',
  'none_failed',
  'none_failed_min_one_success',
  'none_skipped',
  'all_skipped',
  'always',
] as const;

export type TriggerRule = (typeof TRIGGER_RULES)[number];

export function isTriggerRule(value: unknown): value is TriggerRule {
  return typeof value === 'string' && (TRIGGER_RULES as readonly string[]).includes(value);
}

/**
 * Rules under which one more upstream success, while another upstream instance is still unfinished,
 * never moves the task out of waiting (core/ti_deps/triggerRuleDep.ts): the worker of a mapped
 * instance need not decide such a downstream (a reduce) until the last instance finishes.
 * one_success/one_done (run on it), all_failed/all_skipped (skip on it), one_failed and always are not here.
 */
export const WAITS_FOR_UNFINISHED_UPSTREAM: ReadonlySet<TriggerRule> = new Set<TriggerRule>([
  'all_success',
  'all_done',
  'none_failed',
  'none_failed_min_one_success',
  'none_skipped',
]);
