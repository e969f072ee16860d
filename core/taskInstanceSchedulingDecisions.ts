import type { SerializedTask } from './serialize.ts';
import type { TiState } from './state.ts';
import { notInRetryPeriod } from './ti_deps/notInRetryPeriodDep.ts';
import { prevDagrunSatisfied } from './ti_deps/prevDagrunDep.ts';
import { countUpstreamStates, evaluateTriggerRule } from './ti_deps/triggerRuleDep.ts';

/** What the scheduler does with one task instance in this pass, and why. */
export interface Decision {
  taskId: string;
  /** null: keep waiting. */
  to: 'scheduled' | 'skipped' | 'upstream_failed' | null;
  reason: string;
  /** Waiting for the previous run (dependsOnPast), which may still finish: not a deadlock. */
  waitingOnPast?: boolean;
}

export interface RunSnapshot {
  tasks: readonly SerializedTask[];
  /** Current state per task id. */
  states: ReadonlyMap<string, TiState>;
  /** next_retry_at of up_for_retry task instances. */
  retryAt: ReadonlyMap<string, Date | null>;
  /** State of each task in the previous run of the DAG (for dependsOnPast); missing = no previous run. */
  previousRunStates: ReadonlyMap<string, TiState> | null;
  now: Date;
}

const SCHEDULABLE: ReadonlySet<TiState> = new Set<TiState>([null, 'up_for_retry', 'up_for_reschedule']);

/**
 * Airflow's DagRun.task_instance_scheduling_decisions: the dependency checks
 * (one rule per file in core/ti_deps/) for every schedulable task instance of a run:
 * not in its retry period, dependsOnPast satisfied, trigger rule met.
 * Settled outcomes (skipped, upstream_failed) propagate within the same pass,
 * so a failure at the top of a chain marks the whole chain at once.
 * Returns a decision for every schedulable task instance, waits included
 * (with their reasons). Pure: no I/O, the caller applies the decisions.
 */
export function decideTaskInstances(run: RunSnapshot): Decision[] {
  const states = new Map(run.states);
  const decisions: Decision[] = [];
  const decided = new Set<string>();
  const byId = new Map(run.tasks.map((t) => [t.taskId, t]));
  let changed = true;
  while (changed) {
    changed = false;
    for (const task of run.tasks) {
      if (decided.has(task.taskId) || !SCHEDULABLE.has(states.get(task.taskId) ?? null)) continue;
      const decision = decide(task, states, byId, run);
      if (decision.to === null) continue;
      decisions.push(decision);
      decided.add(task.taskId);
      states.set(task.taskId, decision.to);
      if (decision.to !== 'scheduled') changed = true; // downstream tasks may now be settled too
    }
  }
  // What is left waits; say why.
  for (const task of run.tasks) {
    if (!decided.has(task.taskId) && SCHEDULABLE.has(states.get(task.taskId) ?? null)) decisions.push(decide(task, states, byId, run));
  }
  return decisions;
}

function decide(task: SerializedTask, states: Map<string, TiState>, byId: Map<string, SerializedTask>, run: RunSnapshot): Decision {
  const wait = (reason: string): Decision => ({ taskId: task.taskId, to: null, reason });
  const state = states.get(task.taskId) ?? null;
  const upstream = task.upstreamTaskIds.filter((id) => byId.has(id)).map((id) => states.get(id) ?? null);
  const rule = evaluateTriggerRule({ rule: task.triggerRule, upstreamCount: upstream.length, counts: countUpstreamStates(upstream) });
  if (rule.decision === 'skip') return { taskId: task.taskId, to: 'skipped', reason: rule.reason };
  if (rule.decision === 'upstream_failed') return { taskId: task.taskId, to: 'upstream_failed', reason: rule.reason };
  if (rule.decision === 'wait') return wait(rule.reason);
  const retryWait = notInRetryPeriod(state, run.retryAt.get(task.taskId), run.now);
  if (retryWait !== null) return wait(retryWait);
  const pastWait = prevDagrunSatisfied(task, run.previousRunStates);
  if (pastWait !== null) return { ...wait(pastWait), waitingOnPast: true };
  return { taskId: task.taskId, to: 'scheduled', reason: rule.reason };
}
