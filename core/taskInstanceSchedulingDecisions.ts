import { aggregateMappedState } from './expandInput.ts';
import type { SerializedTask } from './serialize.ts';
import type { TiState } from './state.ts';
import { notInRetryPeriod } from './ti_deps/notInRetryPeriodDep.ts';
import { prevDagrunSatisfied } from './ti_deps/prevDagrunDep.ts';
import { readyToReschedule } from './ti_deps/readyToRescheduleDep.ts';
import { countUpstreamStates, evaluateTriggerRule } from './ti_deps/triggerRuleDep.ts';

/** What the scheduler does with one task instance in this pass, and why. */
export interface Decision {
  taskId: string;
  /** Set when one instance of an expanded task is decided on its own (a task in a mapped group, ADR 0018); absent: all its instances. */
  mapIndex?: number;
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
  /** Reschedule date of up_for_reschedule task instances; one missing here waits (the mini scheduler does not read them). */
  rescheduleAt?: ReadonlyMap<string, Date | null>;
  /** State of each task in the previous run of the DAG (for dependsOnPast); missing = no previous run. */
  previousRunStates: ReadonlyMap<string, TiState> | null;
  now: Date;
  /**
   * Expanded mapped tasks: the states of their instances (map index 0..N-1). Such a task is decided once
   * for all its schedulable instances (the caller applies the decision to each, retry period included),
   * and a downstream's trigger rule counts each instance.
   */
  expanded?: ReadonlyMap<string, readonly TiState[]>;
}

/** States the scheduler may move a task instance out of: none yet, or waiting to try again. */
export const SCHEDULABLE: ReadonlySet<TiState> = new Set<TiState>([null, 'up_for_retry', 'up_for_reschedule']);

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
  const expanded = new Map(run.expanded ?? []);
  const schedulable = (taskId: string) => {
    const instances = expanded.get(taskId);
    return instances ? instances.some((s) => SCHEDULABLE.has(s)) : SCHEDULABLE.has(states.get(taskId) ?? null);
  };
  const decisions: Decision[] = [];
  const decided = new Set<string>();
  const byId = new Map(run.tasks.map((t) => [t.taskId, t]));
  let changed = true;
  while (changed) {
    changed = false;
    for (const task of run.tasks) {
      if (decidedPerIndex(task, expanded, byId)) {
        // Instance i waits for instance i of the group's tasks it depends on: each is decided on its own.
        expanded.get(task.taskId)!.forEach((state, i) => {
          const key = `${task.taskId}[${i}]`;
          if (decided.has(key) || !SCHEDULABLE.has(state)) return;
          const decision = decide(task, states, expanded, byId, run, i);
          if (decision.to === null) return;
          decisions.push(decision);
          decided.add(key);
          if (decision.to === 'scheduled') return;
          const instances = [...expanded.get(task.taskId)!];
          instances[i] = decision.to;
          expanded.set(task.taskId, instances);
          states.set(task.taskId, aggregateMappedState(instances));
          changed = true;
        });
        continue;
      }
      if (decided.has(task.taskId) || !schedulable(task.taskId)) continue;
      const decision = decide(task, states, expanded, byId, run);
      if (decision.to === null) continue;
      decisions.push(decision);
      decided.add(task.taskId);
      states.set(task.taskId, decision.to);
      const instances = expanded.get(task.taskId);
      if (instances && decision.to !== 'scheduled') {
        expanded.set(
          task.taskId,
          instances.map((s) => (SCHEDULABLE.has(s) ? decision.to : s)),
        );
      }
      if (decision.to !== 'scheduled') changed = true; // downstream tasks may now be settled too
    }
  }
  // What is left waits; say why.
  for (const task of run.tasks) {
    if (decidedPerIndex(task, expanded, byId)) {
      expanded.get(task.taskId)!.forEach((state, i) => {
        if (!decided.has(`${task.taskId}[${i}]`) && SCHEDULABLE.has(state)) decisions.push(decide(task, states, expanded, byId, run, i));
      });
    } else if (!decided.has(task.taskId) && schedulable(task.taskId)) decisions.push(decide(task, states, expanded, byId, run));
  }
  return decisions;
}

/** Whether `upstreamId` is in the same mapped task group as `task`: then instance i of the task depends on instance i of it. */
function inSameMappedGroup(task: SerializedTask, upstreamId: string, byId: ReadonlyMap<string, SerializedTask>): boolean {
  return task.mappedGroupId !== undefined && byId.get(upstreamId)?.mappedGroupId === task.mappedGroupId;
}

/** An expanded task of a mapped group with an expanded upstream in the group: its instances are decided one by one. */
function decidedPerIndex(task: SerializedTask, expanded: ReadonlyMap<string, readonly TiState[]>, byId: ReadonlyMap<string, SerializedTask>): boolean {
  return expanded.has(task.taskId) && task.upstreamTaskIds.some((id) => expanded.has(id) && inSameMappedGroup(task, id, byId));
}

function decide(
  task: SerializedTask,
  states: Map<string, TiState>,
  expanded: Map<string, readonly TiState[]>,
  byId: Map<string, SerializedTask>,
  run: RunSnapshot,
  /** The one instance decided (decidedPerIndex); undefined: the task as a whole. */
  mapIndex?: number,
): Decision {
  const id = { taskId: task.taskId, ...(mapIndex === undefined ? {} : { mapIndex }) };
  const wait = (reason: string): Decision => ({ ...id, to: null, reason });
  const state = mapIndex === undefined ? (states.get(task.taskId) ?? null) : (expanded.get(task.taskId)![mapIndex] ?? null);
  // Airflow counts every instance of a mapped upstream, but of an expanded upstream in the same mapped group
  // only the instance with the same map index: none before this task is expanded (its instances decide then).
  const upstream = task.upstreamTaskIds
    .filter((up) => byId.has(up))
    .flatMap((up) => {
      const instances = expanded.get(up);
      if (instances && inSameMappedGroup(task, up, byId))
        return mapIndex === undefined ? [] : [mapIndex < instances.length ? (instances[mapIndex] as TiState) : 'removed'];
      return instances ?? [states.get(up) ?? null];
    });
  const rule = evaluateTriggerRule({ rule: task.triggerRule, upstreamCount: upstream.length, counts: countUpstreamStates(upstream) });
  if (rule.decision === 'skip') return { ...id, to: 'skipped', reason: rule.reason };
  if (rule.decision === 'upstream_failed') return { ...id, to: 'upstream_failed', reason: rule.reason };
  if (rule.decision === 'wait') return wait(rule.reason);
  const retryWait = notInRetryPeriod(state, run.retryAt.get(task.taskId), run.now);
  if (retryWait !== null) return wait(retryWait);
  // An expanded task's instances are checked one by one when the decision is applied (decideMappedInstances).
  const rescheduleWait = expanded.has(task.taskId) ? null : readyToReschedule(state, run.rescheduleAt?.get(task.taskId), run.now);
  if (rescheduleWait !== null) return wait(rescheduleWait);
  const pastWait = prevDagrunSatisfied(task, run.previousRunStates);
  if (pastWait !== null) return { ...wait(pastWait), waitingOnPast: true };
  return { ...id, to: 'scheduled', reason: rule.reason };
}

/** A task instance as the schedulers read it. */
export interface SchedulingTi {
  id: number;
  task_id: string;
  map_index: number;
  state: TiState;
  next_retry_at: Date | null;
  /** Of an up_for_reschedule instance, when the scheduler read it (taskInstancesToSchedule); absent when not read. */
  reschedule_date?: Date | null;
}

/** A run's task instances arranged for decideTaskInstances: unexpanded ones by task, expanded ones by task. */
export interface RunTaskInstances {
  /** The DAG's tasks that have task instances in the run. */
  tasks: SerializedTask[];
  /** Id of each task's map index -1 instance (unmapped tasks, and mapped ones not yet expanded). */
  idOf: Map<string, number>;
  /** State per task: of its -1 instance, or for an expanded task one state for all (aggregateMappedState). */
  states: Map<string, TiState>;
  retryAt: Map<string, Date | null>;
  /** Reschedule dates of the -1 instances, where they were read. */
  rescheduleAt: Map<string, Date | null>;
  /**
   * Instances (map index >= 0) of each expanded task given, in map-index order: all of them, or with
   * mappedCounts only those read (the scheduler reads the ones it may move).
   */
  expanded: Map<string, SchedulingTi[]>;
  /** The state of every instance of each expanded task (from mappedCounts when given), for RunSnapshot.expanded. */
  instanceStates: Map<string, TiState[]>;
}

/**
 * `mappedCounts`: how many instances each expanded task has in each state, when `tis` holds only some
 * of its instances (db/models/taskInstance.ts taskInstancesToSchedule); without it, `tis` holds them all.
 */
export function arrangeRunTaskInstances(
  dagTasks: readonly SerializedTask[],
  tis: readonly SchedulingTi[],
  mappedCounts?: readonly { task_id: string; state: TiState; n: number }[],
): RunTaskInstances {
  const idOf = new Map<string, number>();
  const states = new Map<string, TiState>();
  const retryAt = new Map<string, Date | null>();
  const rescheduleAt = new Map<string, Date | null>();
  const expanded = new Map<string, SchedulingTi[]>();
  for (const ti of tis) {
    if (ti.map_index < 0) {
      idOf.set(ti.task_id, ti.id);
      states.set(ti.task_id, ti.state);
      retryAt.set(ti.task_id, ti.next_retry_at);
      if (ti.reschedule_date !== undefined) rescheduleAt.set(ti.task_id, ti.reschedule_date);
    } else {
      // Appended in place: copying the list per instance made a run of N mapped instances cost O(N²).
      const instances = expanded.get(ti.task_id);
      if (instances) instances.push(ti);
      else expanded.set(ti.task_id, [ti]);
    }
  }
  for (const instances of expanded.values()) instances.sort((a, b) => a.map_index - b.map_index);
  const instanceStates = new Map<string, TiState[]>();
  if (mappedCounts) {
    for (const { task_id: taskId, state, n } of mappedCounts) {
      if (!expanded.has(taskId)) expanded.set(taskId, []);
      const all = instanceStates.get(taskId) ?? [];
      for (let i = 0; i < n; i++) all.push(state);
      instanceStates.set(taskId, all);
    }
  } else
    for (const [taskId, instances] of expanded)
      instanceStates.set(
        taskId,
        instances.map((ti) => ti.state),
      );
  for (const [taskId, all] of instanceStates) states.set(taskId, aggregateMappedState(all));
  return { tasks: dagTasks.filter((t) => idOf.has(t.taskId) || expanded.has(t.taskId)), idOf, states, retryAt, rescheduleAt, expanded, instanceStates };
}

/** States of each expanded task's instances, for RunSnapshot.expanded. */
export function expandedStates(expanded: ReadonlyMap<string, readonly SchedulingTi[]>): Map<string, TiState[]> {
  return new Map([...expanded].map(([taskId, tis]) => [taskId, tis.map((ti) => ti.state)]));
}
