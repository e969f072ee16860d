/**
 * The DAG: a named set of tasks plus when to run them. Constructing one
 * checks its options (core/dagOptions.ts); `validate()` checks what needs all
 * edges (cycles). Pure: no database, no I/O.
 */
import type { BaseOperator, TaskCallback } from './baseOperator.ts';
import { checkDagOptions, type DagOptions, type Schedule, type TaskDefaults } from './dagOptions.ts';
import { registerCreatedDag } from './dagRegistry.ts';
import { callerLocation, constructorFrames, type DefinedAt } from './definitionSite.ts';
import { DagCycleError, DagDefinitionError } from './errors.ts';
import type { TaskGroup } from './taskGroup.ts';

const DAG_BRAND: unique symbol = Symbol.for('airflow-ts.dag');

export class DAG {
  readonly [DAG_BRAND] = true;
  readonly dagId: string;
  readonly schedule: Schedule;
  readonly startDate: Date | null;
  readonly endDate: Date | null;
  readonly catchup: boolean | undefined;
  readonly timezone: string;
  readonly defaultArgs: TaskDefaults;
  readonly params: Record<string, unknown>;
  readonly tags: string[];
  readonly description: string | null;
  readonly maxActiveRuns: number | null;
  readonly maxActiveTasks: number | null;
  readonly dagrunTimeoutMs: number | null;
  readonly isPausedUponCreation: boolean | undefined;
  readonly doc: string | null;
  /** DAG-level callbacks: run in the DAG processor when a run ends (ADR 0022). */
  readonly onSuccessCallback: TaskCallback | null;
  readonly onFailureCallback: TaskCallback | null;
  readonly definedAt: DefinedAt;
  private readonly taskMap = new Map<string, BaseOperator>();
  private readonly groupMap = new Map<string, TaskGroup>();

  constructor(options: DagOptions) {
    const fields = checkDagOptions(options);
    this.dagId = fields.dagId;
    this.schedule = fields.schedule;
    this.startDate = fields.startDate;
    this.endDate = fields.endDate;
    this.catchup = fields.catchup;
    this.timezone = fields.timezone;
    this.defaultArgs = fields.defaultArgs;
    this.params = fields.params;
    this.tags = fields.tags;
    this.description = fields.description;
    this.maxActiveRuns = fields.maxActiveRuns;
    this.maxActiveTasks = fields.maxActiveTasks;
    this.dagrunTimeoutMs = fields.dagrunTimeoutMs;
    this.isPausedUponCreation = fields.isPausedUponCreation;
    this.doc = fields.doc;
    this.onSuccessCallback = fields.onSuccessCallback;
    this.onFailureCallback = fields.onFailureCallback;
    this.definedAt = callerLocation(constructorFrames(new.target));
    registerCreatedDag(this);
  }

  /** Tasks in the order they were created. */
  get tasks(): BaseOperator[] {
    return [...this.taskMap.values()];
  }

  get taskIds(): string[] {
    return [...this.taskMap.keys()];
  }

  get taskDict(): ReadonlyMap<string, BaseOperator> {
    return this.taskMap;
  }

  /** Every task group, nested ones too, by group id, in the order they were created (Airflow's task_group_dict). */
  get taskGroupDict(): ReadonlyMap<string, TaskGroup> {
    return this.groupMap;
  }

  hasTask(taskId: string): boolean {
    return this.taskMap.has(taskId);
  }

  getTask(taskId: string): BaseOperator {
    const task = this.taskMap.get(taskId);
    if (!task) {
      throw new DagDefinitionError(`DAG '${this.dagId}' has no task '${taskId}'; its tasks are: ${this.taskIds.join(', ') || '(none)'}`, this.dagId, taskId);
    }
    return task;
  }

  /** Tasks without upstream tasks. */
  get roots(): BaseOperator[] {
    return this.tasks.filter((t) => t.upstreamTaskIds.size === 0);
  }

  /** Tasks without downstream tasks. */
  get leaves(): BaseOperator[] {
    return this.tasks.filter((t) => t.downstreamTaskIds.size === 0);
  }

  /** Called by the BaseOperator constructor; authors create tasks with `new XOperator({ dag, ... })`. */
  addTask(task: BaseOperator): void {
    if (task.dag !== this) {
      throw new DagDefinitionError(`task '${task.taskId}' belongs to DAG '${task.dag.dagId}', not '${this.dagId}'`, this.dagId, task.taskId);
    }
    if (this.taskMap.has(task.taskId)) {
      throw new DagDefinitionError(
        `Task id '${task.taskId}' is already used in DAG '${this.dagId}'; task ids must be unique within a DAG`,
        this.dagId,
        task.taskId,
      );
    }
    const group = this.groupMap.get(task.taskId);
    if (group) {
      throw new DagDefinitionError(
        `Task id '${task.taskId}' in DAG '${this.dagId}' is already the id of the TaskGroup defined at ${where(group)}; task and group ids must be unique together`,
        this.dagId,
        task.taskId,
      );
    }
    this.taskMap.set(task.taskId, task);
  }

  /** Called by the TaskGroup constructor: group ids share one namespace with task ids, as in Airflow. */
  addTaskGroup(group: TaskGroup): void {
    if (group.dag !== this) {
      throw new DagDefinitionError(`TaskGroup '${group.groupId}' belongs to DAG '${group.dag.dagId}', not '${this.dagId}'`, this.dagId);
    }
    const other = this.groupMap.get(group.groupId) ?? this.taskMap.get(group.groupId);
    if (other) {
      const what = this.groupMap.has(group.groupId) ? 'another TaskGroup' : 'a task';
      throw new DagDefinitionError(
        `Group id '${group.groupId}' in DAG '${this.dagId}' is already used by ${what} (defined at ${where(other)}); task and group ids must be unique together`,
        this.dagId,
      );
    }
    this.groupMap.set(group.groupId, group);
  }

  /** Whole-DAG checks that need every edge in place. Throws DagCycleError on a cycle. */
  validate(): void {
    const cycle = this.findCycle();
    if (cycle) throw new DagCycleError(this.dagId, cycle);
  }

  /**
   * Task ids with every task after all its upstreams. Deterministic: among
   * tasks that are ready, the one created first goes first.
   */
  topologicalOrder(): string[] {
    const ids = this.taskIds;
    const index = new Map(ids.map((id, i) => [id, i]));
    const waiting = new Map(this.tasks.map((t) => [t.taskId, t.upstreamTaskIds.size]));
    // Ready tasks as insertion indexes, kept sorted; fine for DAGs of thousands of tasks.
    const ready = ids.flatMap((id, i) => (waiting.get(id) === 0 ? [i] : []));
    const order: string[] = [];
    for (let i = ready.shift(); i !== undefined; i = ready.shift()) {
      const task = this.getTask(ids[i] as string);
      order.push(task.taskId);
      for (const down of task.downstreamTaskIds) {
        const left = (waiting.get(down) ?? 0) - 1;
        waiting.set(down, left);
        if (left === 0) insertSorted(ready, index.get(down) as number);
      }
    }
    if (order.length < ids.length) this.validate(); // throws with the cycle path
    return order;
  }

  /** Depth-first search in creation order; returns the first cycle found as [a, b, ..., a]. */
  private findCycle(): string[] | null {
    const state = new Map<string, 'open' | 'done'>();
    for (const start of this.taskMap.keys()) {
      if (state.has(start)) continue;
      const path = [start];
      const pending = [this.getTask(start).downstreamTaskIds.values()];
      state.set(start, 'open');
      // Iterative, so a long chain of tasks cannot overflow the call stack.
      while (pending.length > 0) {
        const step = pending[pending.length - 1]?.next();
        if (!step || step.done) {
          state.set(path.pop() as string, 'done');
          pending.pop();
          continue;
        }
        const id = step.value;
        const seen = state.get(id);
        if (seen === 'open') return [...path.slice(path.indexOf(id)), id];
        if (seen === undefined) {
          state.set(id, 'open');
          path.push(id);
          pending.push(this.getTask(id).downstreamTaskIds.values());
        }
      }
    }
    return null;
  }
}

/** Brand check rather than instanceof: a DAG file may get its own copy of this module. */
export function isDag(x: unknown): x is DAG {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[DAG_BRAND] === true;
}

/**
 * Where an earlier task or group was written: 'line N of file'. Not 'file:N', which the parser would
 * take for the line of the error itself (the later definition, found in the stack).
 */
function where(node: { definedAt: DefinedAt }): string {
  return node.definedAt.line === null ? node.definedAt.file : `line ${node.definedAt.line} of ${node.definedAt.file}`;
}

function insertSorted(sorted: number[], value: number): void {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  sorted.splice(lo, 0, value);
}
