/**
 * taskGroup(): Airflow's @task_group. Wrap a function once; each call adds a
 * TaskGroup, runs the function with the call's arguments so the tasks and
 * groups it creates join that group (nested calls nest), and returns what
 * the function returns, or the group itself when it returns nothing:
 *
 *   const clean = taskGroup({ dag }, function clean(rows: XComArg<Row[]>) {
 *     return validate(dedupe(rows)); // tasks 'clean.dedupe', 'clean.validate'
 *   });
 *   load(clean(extract())); // extract -> clean.dedupe -> clean.validate -> load
 *
 * The function runs while the DAG file is parsed: its parameters stand for
 * task outputs (XComArgs) or the values passed, to be handed to tasks.
 */
import { isDag } from '../core/dag.ts';
import { DagDefinitionError } from '../core/errors.ts';
import { currentTaskGroup, isTaskGroup, TaskGroup, withinTaskGroup, type TaskGroupOptions } from '../core/taskGroup.ts';
import type { XComArg } from '../core/xcomArg.ts';
import type { ArgOrXComArg } from './taskflow.ts';

/** TaskGroup's options; groupId defaults to the function's name. */
export type TaskGroupDecoratorOptions = Omit<TaskGroupOptions, 'groupId'> & { groupId?: string };

/** What a call returns: the function's result, or the group when the function returns nothing (to link it as a whole). */
export type TaskGroupResult<R> = [R] extends [void] ? TaskGroup : R;

/**
 * What a call takes for each parameter: a parameter written `XComArg<T>` takes a task output of T (the
 * group hands it to its tasks); any other parameter takes its value or a task output, as task() does.
 */
export type GroupArgsOf<A extends unknown[]> = { [K in keyof A]: A[K] extends XComArg<infer T> ? XComArg<T> : ArgOrXComArg<A[K]> };

export interface TaskGroupFunction<A extends unknown[], R> {
  /** Adds a group to the DAG and fills it by running the function with these arguments. */
  (...args: GroupArgsOf<A>): TaskGroupResult<R>;
  /** The same function with some group options replaced, e.g. `.override({ groupId: 'eu', tooltip: 'EU' })`. */
  override(options: Partial<TaskGroupDecoratorOptions>): TaskGroupFunction<A, R>;
}

export function taskGroup<A extends unknown[], R>(options: TaskGroupDecoratorOptions, fn: (...args: A) => R): TaskGroupFunction<A, R> {
  const dagId = isDag(options?.dag) ? options.dag.dagId : undefined;
  if (typeof fn !== 'function') throw new DagDefinitionError(`taskGroup(): the second argument must be the group function, got ${typeof fn}`, dagId);
  const call = (...args: unknown[]) => {
    const label = options.groupId ?? fn.name;
    if (!label) throw new DagDefinitionError('taskGroup(): the function has no name; use a named function or pass groupId', dagId);
    const group = new TaskGroup({ ...options, groupId: uniqueGroupLabel(options, label) });
    const result = withinTaskGroup(group, () => (fn as (...a: unknown[]) => unknown)(...args));
    // Only a real promise: tasks, XComArgs and groups have then() too (Airflow's >>).
    if (result instanceof Promise) {
      throw new DagDefinitionError(
        `taskGroup '${group.groupId}': the group function must be synchronous (it runs while the DAG file is parsed); remove 'async'`,
        dagId,
      );
    }
    return result === undefined ? group : result;
  };
  return Object.assign(call, {
    override: (more: Partial<TaskGroupDecoratorOptions>) => taskGroup({ ...options, ...more }, fn),
  }) as unknown as TaskGroupFunction<A, R>;
}

/**
 * Airflow's add_suffix_on_collision: a second call of the same group function gets 'name__1', then
 * 'name__2', ... (one more than the highest suffix in use among the DAG's group and task ids).
 */
function uniqueGroupLabel(options: TaskGroupDecoratorOptions, label: string): string {
  const { dag } = options;
  if (!isDag(dag)) return label; // the TaskGroup constructor reports a bad dag option
  const parent = options.parentGroup === undefined ? currentTaskGroup(dag) : options.parentGroup;
  const inDag = (l: string) => (isTaskGroup(parent) ? parent.childId(l) : l);
  const used = new Set([...dag.taskGroupDict.keys(), ...dag.taskIds]);
  if (!used.has(inDag(label))) return label;
  const core = label.replace(/__\d+$/, '');
  const prefix = `${inDag(core)}__`;
  const suffixes = [...used].flatMap((id) => (id.startsWith(prefix) && /^\d+$/.test(id.slice(prefix.length)) ? [Number(id.slice(prefix.length))] : []));
  return `${core}__${Math.max(0, ...suffixes) + 1}`;
}
