/**
 * TaskFlow (Airflow's @task): wrap a function once, call it like a function
 * to add a task. Outputs flow into other tasks' arguments as XComArgs, which
 * also draws the edges:
 *
 *   const extract = task({ dag }, function extract() { return [1, 2, 3]; });
 *   const total = task({ dag }, function total(xs: number[]) { return xs.reduce((a, b) => a + b, 0); });
 *   total(extract()); // extract -> total
 *
 * Mapping (Airflow's expand): one task instance per element, decided at run time:
 *
 *   const double = task({ dag }, function double(x: number) { return 2 * x; });
 *   total(double.expand(extract())); // total gets [2, 4, 6]
 *   task({ dag }, function scale(by: number, x: number) { return by * x; }).partial(10).expand([1, 2]);
 *   scale.expandArgs([[10, 1], [20, 2]]); // whole argument lists
 *   total(double.expand(extract().map((x) => x + 1))); // a task output transformed element by element
 */
import type { BaseOperatorOptions } from '../core/baseOperator.ts';
import { isDag, type DAG } from '../core/dag.ts';
import { DagDefinitionError } from '../core/errors.ts';
import type { MapSource } from '../core/mapSource.ts';
import { currentTaskGroup, isTaskGroup, type TaskGroup } from '../core/taskGroup.ts';
import type { PlainXComArg, XComArg } from '../core/xcomArg.ts';
import { TaskFlowOperator } from './taskFlowOperator.ts';

/** Task options as for any operator; taskId defaults to the function's name. */
export type TaskFlowOptions = Omit<BaseOperatorOptions, 'taskId'> & { taskId?: string };

/** An argument as written in the DAG file: the value, or an XComArg standing for it, at any depth. */
export type ArgOrXComArg<T> = T | XComArg | (T extends object ? { [K in keyof T]: ArgOrXComArg<T[K]> } : never);

/** What expand() maps over: a literal list of elements, or a task output that is one. */
export type ExpandItems<E> = readonly E[] | XComArg<readonly E[]>;

export type Last<A extends unknown[]> = A extends [...unknown[], infer E] ? E : never;
export type Leading<A extends unknown[]> = A extends [...infer L, unknown] ? L : [];
export type ArgsOf<A extends unknown[]> = { [K in keyof A]: ArgOrXComArg<A[K]> };

export interface TaskFlowTask<A extends unknown[], R = unknown> {
  /** Adds a task to the DAG that will call the function with these arguments; returns its output. */
  (...args: ArgsOf<A>): PlainXComArg<Awaited<R>>;
  /** The same function with some options replaced, e.g. `.override({ taskId: 'load_eu', retries: 3 })`. */
  override(options: Partial<TaskFlowOptions>): TaskFlowTask<A, R>;
  /**
   * Adds a mapped task: one task instance per element of `items`, the function called with its element
   * (a function of one parameter). Its output, taken by another task, is the list of results in order.
   */
  expand(items: A extends [unknown] ? ExpandItems<A[0]> : never): PlainXComArg<Awaited<R>[]>;
  /**
   * Adds a mapped task over whole argument lists (Airflow's expand_kwargs): one task instance per list in
   * `items`, the function called with it: `add.expandArgs([[1, 2], [3, 4]])` calls add(1, 2) and add(3, 4).
   */
  expandArgs(items: ExpandItems<A>): PlainXComArg<Awaited<R>[]>;
  /** Binds every argument but the last; `.expand(items)` then maps over the last one: `fn(a, b, element)`. */
  partial(...args: ArgsOf<Leading<A>>): { expand(items: ExpandItems<Last<A>>): PlainXComArg<Awaited<R>[]> };
}

export function task<A extends unknown[], R>(options: TaskFlowOptions, fn: (...args: A) => R): TaskFlowTask<A, R> {
  if (typeof fn !== 'function') throw new DagDefinitionError(`task(): the second argument must be the task function, got ${typeof fn}`, options?.dag?.dagId);
  const add = (args: unknown[], mapped?: { expandInput: unknown } | { expandArgs: unknown }): PlainXComArg<never> => {
    const taskId = options.taskId ?? fn.name;
    if (!taskId) throw new DagDefinitionError('task(): the function has no name; use a named function or pass taskId', options.dag?.dagId);
    const operator = new TaskFlowOperator({
      ...options,
      taskId: uniqueTaskId(options.dag, taskId, options.taskGroup ?? (isDag(options.dag) ? currentTaskGroup(options.dag) : undefined)),
      fn: fn as (...a: never[]) => unknown,
      args,
      ...(mapped as { expandInput?: MapSource; expandArgs?: MapSource }),
    });
    return operator.output as PlainXComArg<never>;
  };
  const expand =
    (leading: unknown[], as: 'expandInput' | 'expandArgs' = 'expandInput') =>
    (items: unknown) => {
      const method = as === 'expandInput' ? 'expand()' : 'expandArgs()';
      if (items === undefined) throw new DagDefinitionError(`task '${options.taskId ?? fn.name}': ${method} needs a list or a task output`, options.dag?.dagId);
      return add(leading, { [as]: items } as { expandInput: unknown });
    };
  return Object.assign((...args: unknown[]) => add(args), {
    override: (more: Partial<TaskFlowOptions>) => task({ ...options, ...more }, fn),
    expand: expand([]),
    expandArgs: expand([], 'expandArgs'),
    partial: (...leading: unknown[]) => ({ expand: expand(leading) }),
  }) as unknown as TaskFlowTask<A, R>;
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
