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
import { MappedArgument, MappedTaskGroup } from '../core/mappedTaskGroup.ts';
import { currentTaskGroup, isTaskGroup, TaskGroup, withinTaskGroup, type TaskGroupOptions } from '../core/taskGroup.ts';
import type { MapSource } from '../core/mapSource.ts';
import type { XComArg } from '../core/xcomArg.ts';
import type { ArgOrXComArg, ExpandItems, Last, Leading } from './taskflow.ts';

/** TaskGroup's options; groupId defaults to the function's name. */
export type TaskGroupDecoratorOptions = Omit<TaskGroupOptions, 'groupId'> & { groupId?: string };

/** What a call returns: the function's result, or the group when the function returns nothing (to link it as a whole). */
export type TaskGroupResult<R> = [R] extends [void] ? TaskGroup : R;

/**
 * What a call takes for each parameter: a parameter written `XComArg<T>` takes a task output of T (the
 * group hands it to its tasks); any other parameter takes its value or a task output, as task() does.
 */
export type GroupArgsOf<A extends unknown[]> = { [K in keyof A]: A[K] extends XComArg<infer T> ? XComArg<T> : ArgOrXComArg<A[K]> };

/** The element type a parameter maps over: T for a parameter written `XComArg<T>` or `T`. */
type ElementOf<P> = P extends XComArg<infer T> ? T : P;

/** What `.expand()` returns: a task output becomes the list of its instances' values, in map-index order. */
export type MappedTaskGroupResult<R> = R extends XComArg<infer T> ? XComArg<T[]> : TaskGroupResult<R>;

export interface TaskGroupFunction<A extends unknown[], R> {
  /** Adds a group to the DAG and fills it by running the function with these arguments. */
  (...args: GroupArgsOf<A>): TaskGroupResult<R>;
  /** The same function with some group options replaced, e.g. `.override({ groupId: 'eu', tooltip: 'EU' })`. */
  override(options: Partial<TaskGroupDecoratorOptions>): TaskGroupFunction<A, R>;
  /**
   * Adds a mapped task group (Airflow 2.5+): every task in it is mapped over `items`, instance i running
   * the group for element i, which the function's parameter stands for (a function of one parameter).
   */
  expand(items: A extends [unknown] ? ExpandItems<ElementOf<A[0]>> : never): MappedTaskGroupResult<R>;
  /** Binds every argument but the last; `.expand(items)` then maps the group over the last one. */
  partial(...args: GroupArgsOf<Leading<A>>): { expand(items: ExpandItems<ElementOf<Last<A>>>): MappedTaskGroupResult<R> };
}

export function taskGroup<A extends unknown[], R>(options: TaskGroupDecoratorOptions, fn: (...args: A) => R): TaskGroupFunction<A, R> {
  const dagId = isDag(options?.dag) ? options.dag.dagId : undefined;
  if (typeof fn !== 'function') throw new DagDefinitionError(`taskGroup(): the second argument must be the group function, got ${typeof fn}`, dagId);
  const label = () => {
    const name = options.groupId ?? fn.name;
    if (!name) throw new DagDefinitionError('taskGroup(): the function has no name; use a named function or pass groupId', dagId);
    return uniqueGroupLabel(options, name);
  };
  const fill = (group: TaskGroup, args: unknown[]): unknown => {
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
  const expand = (leading: unknown[]) => (items: unknown) => {
    const group = new MappedTaskGroup({ ...options, groupId: label(), expandInput: items as MapSource });
    const result = fill(group, [...leading, new MappedArgument(group)]);
    checkMappedGroup(group);
    // Airflow: the group's roots run after the task whose output it maps over.
    if (group.producers.length > 0) group.setUpstream(group.producers);
    return result;
  };
  return Object.assign((...args: unknown[]) => fill(new TaskGroup({ ...options, groupId: label() }), args), {
    override: (more: Partial<TaskGroupDecoratorOptions>) => taskGroup({ ...options, ...more }, fn),
    expand: expand([]),
    partial: (...leading: unknown[]) => ({ expand: expand(leading) }),
  }) as unknown as TaskGroupFunction<A, R>;
}

/** A mapped group needs tasks, and maps them only once: no expand() of their own, no mapped group inside. */
function checkMappedGroup(group: MappedTaskGroup): void {
  const fail = (message: string): never => {
    throw new DagDefinitionError(`mapped task group '${group.groupId}' in DAG '${group.dag.dagId}': ${message}`, group.dag.dagId);
  };
  const tasks = group.tasks;
  if (tasks.length === 0) fail('the group function added no tasks; a mapped group maps its tasks');
  const inside = (g: TaskGroup) => {
    for (let p = g.parentGroup; p; p = p.parentGroup) if (p === group) return true;
    return false;
  };
  const nested = [...group.dag.taskGroupDict.values()].find((g) => g.expandInput !== null && inside(g));
  if (nested) fail(`group '${nested.groupId}' inside it is mapped too; mapping a mapped group again is not supported`);
  const ownMapping = tasks.find((t) => t.expandInput !== group.expandInput);
  if (ownMapping) fail(`task '${ownMapping.taskId}' inside it has expand() of its own; a task in a mapped group is already mapped by the group`);
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
