/**
 * TaskFlow (Airflow's @task): wrap a function once, call it like a function
 * to add a task. Outputs flow into other tasks' arguments as XComArgs, which
 * also draws the edges:
 *
 *   const extract = task({ dag }, function extract() { return [1, 2, 3]; });
 *   const total = task({ dag }, function total(xs: number[]) { return xs.reduce((a, b) => a + b, 0); });
 *   total(extract()); // extract -> total
 */
import type { BaseOperatorOptions } from '../core/baseOperator.ts';
import { isDag, type DAG } from '../core/dag.ts';
import { DagDefinitionError } from '../core/errors.ts';
import { isTaskGroup, type TaskGroup } from '../core/taskGroup.ts';
import type { XComArg } from '../core/xcomArg.ts';
import { TaskFlowOperator } from './taskFlowOperator.ts';

/** Task options as for any operator; taskId defaults to the function's name. */
export type TaskFlowOptions = Omit<BaseOperatorOptions, 'taskId'> & { taskId?: string };

/** An argument as written in the DAG file: the value, or an XComArg standing for it, at any depth. */
export type ArgOrXComArg<T> = T | XComArg | (T extends object ? { [K in keyof T]: ArgOrXComArg<T[K]> } : never);

export interface TaskFlowTask<A extends unknown[]> {
  /** Adds a task to the DAG that will call the function with these arguments; returns its output. */
  (...args: { [K in keyof A]: ArgOrXComArg<A[K]> }): XComArg;
  /** The same function with some options replaced, e.g. `.override({ taskId: 'load_eu', retries: 3 })`. */
  override(options: Partial<TaskFlowOptions>): TaskFlowTask<A>;
}

export function task<A extends unknown[]>(options: TaskFlowOptions, fn: (...args: A) => unknown): TaskFlowTask<A> {
  if (typeof fn !== 'function') throw new DagDefinitionError(`task(): the second argument must be the task function, got ${typeof fn}`, options?.dag?.dagId);
  const call = (...args: unknown[]): XComArg => {
    const taskId = options.taskId ?? fn.name;
    if (!taskId) throw new DagDefinitionError('task(): the function has no name; use a named function or pass taskId', options.dag?.dagId);
    const operator = new TaskFlowOperator({
      ...options,
      taskId: uniqueTaskId(options.dag, taskId, options.taskGroup),
      fn: fn as (...a: never[]) => unknown,
      args,
    });
    return operator.output;
  };
  return Object.assign(call, { override: (more: Partial<TaskFlowOptions>) => task({ ...options, ...more }, fn) }) as TaskFlowTask<A>;
}

/**
 * Airflow's rule: a repeated id gets '__1', '__2', ... (one more than the highest suffix in use).
 * Ids are compared as the DAG will hold them, prefixed by the task's group; the label is returned.
 */
function uniqueTaskId(dag: DAG, taskId: string, group: TaskGroup | undefined): string {
  const inDag = (label: string) => (isTaskGroup(group) ? group.childId(label) : label);
  if (!isDag(dag) || !dag.hasTask(inDag(taskId))) return taskId; // a bad dag option is reported by the operator
  const core = taskId.replace(/__\d+$/, '');
  const pattern = new RegExp(`^${inDag(core).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}__(\\d+)$`);
  const used = dag.taskIds.flatMap((id) => {
    const m = pattern.exec(id);
    return m ? [Number(m[1])] : [];
  });
  return `${core}__${Math.max(0, ...used) + 1}`;
}
