/**
 * Mapped task groups (Airflow 2.5+'s `taskGroup(...).expand(items)`): a group
 * whose every task, nested groups included, is a mapped task over the group's
 * input, one instance per element. Instance i of a task is "the group's run
 * for element i": it takes the element through the group function's mapped
 * parameter (a MappedArgument), takes instance i's output of the group's other
 * tasks, and waits only for instance i of them (ADR 0018). A task outside the
 * group that takes a group task's output gets the list in map-index order.
 */
import type { BaseOperator } from './baseOperator.ts';
import { DagDefinitionError } from './errors.ts';
import type { SerializedMapSource } from './expandInput.ts';
import { mapSourceElement, mapSourceProblem, serializeMapSource, type MapSource } from './mapSource.ts';
import type { TaskInstanceHandle } from './taskContext.ts';
import { TaskGroup, type TaskGroupOptions } from './taskGroup.ts';
import { findXComArgs, isPlainObject, isXComArg, mapXComArgs, PlainXComArg, type XComArg } from './xcomArg.ts';

export interface MappedTaskGroupOptions extends TaskGroupOptions {
  /** What the group maps over: a literal list of JSON values, or a task output that is a list (maybe with map/zip/concat). */
  expandInput: MapSource;
}

export class MappedTaskGroup extends TaskGroup {
  readonly source: MapSource;
  readonly #expandInput: SerializedMapSource;

  constructor(options: MappedTaskGroupOptions) {
    const { expandInput, ...groupOptions } = options;
    const fail = (message: string): never => {
      throw new DagDefinitionError(`TaskGroup '${options.groupId}' in DAG '${options.dag?.dagId}': ${message}`, options.dag?.dagId);
    };
    const problem = mapSourceProblem(expandInput, 'expand()');
    if (problem) fail(problem);
    for (const op of isXComArg(expandInput) ? expandInput.operators : []) {
      if (op.dag !== options.dag) fail(`expand() takes the output of task '${op.taskId}' of another DAG`);
    }
    super(groupOptions);
    this.source = isXComArg(expandInput) ? expandInput : [...expandInput];
    this.#expandInput = serializeMapSource(this.source);
  }

  override get expandInput(): SerializedMapSource {
    return this.#expandInput;
  }

  /** The tasks whose output the group maps over (none for a literal list): its roots run after them. */
  get producers(): BaseOperator[] {
    return isXComArg(this.source) ? this.source.operators : [];
  }
}

const ARGUMENT_BRAND: unique symbol = Symbol.for('airflow-ts.mappedArgument');

/**
 * What the group function's mapped parameter holds while the DAG file is parsed: "the element of this
 * instance", resolved in the worker. Pass it to the group's tasks; it has no value to compute with yet.
 */
export class MappedArgument {
  readonly [ARGUMENT_BRAND] = true;
  readonly groupId: string;
  readonly #group: MappedTaskGroup;

  constructor(group: MappedTaskGroup) {
    this.groupId = group.groupId;
    this.#group = group;
  }

  get group(): MappedTaskGroup {
    return this.#group;
  }

  /** `x + 1` or `${x}` in the group function would silently compute with a placeholder: say so instead. */
  [Symbol.toPrimitive](): never {
    throw new DagDefinitionError(
      `the argument of mapped task group '${this.groupId}' stands for each element at run time; pass it to a task of the group instead of computing with it while the DAG is parsed`,
      this.#group.dag.dagId,
    );
  }
}

export function isMappedArgument(x: unknown): x is MappedArgument {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[ARGUMENT_BRAND] === true;
}

/** `value` with each MappedArgument replaced by `replace(arg)`, in plain arrays and objects at any depth. */
function mapMappedArguments(value: unknown, replace: (arg: MappedArgument) => unknown): unknown {
  if (isMappedArgument(value)) return replace(value);
  if (Array.isArray(value)) return value.map((v) => mapMappedArguments(v, replace));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapMappedArguments(v, replace)]));
  return value;
}

/** The JSON form: each MappedArgument becomes `{ mappedArgument: { groupId } }`. */
export function serializeMappedArguments(value: unknown): unknown {
  return mapMappedArguments(value, (arg) => ({ mappedArgument: { groupId: arg.groupId } }));
}

/** Throws if `task` takes the mapped argument of a group it is not in: that argument only has a value per instance of the group. */
export function checkMappedArguments(task: BaseOperator, value: unknown): void {
  const mine = task.taskGroup?.mappedGroup ?? null;
  mapMappedArguments(value, (arg) => {
    if (arg.group !== mine) {
      throw new DagDefinitionError(
        `task '${task.taskId}' in DAG '${task.dag.dagId}': it takes the argument of mapped task group '${arg.groupId}' but is not in that group; only the group's tasks can use it`,
        task.dag.dagId,
        task.taskId,
      );
    }
    return arg;
  });
}

/**
 * In the worker, for instance `ti.mapIndex` of `task`: `value` with the group's MappedArguments replaced
 * by the element at that index, and the outputs of the group's other tasks by their instance at that index.
 * Other XComArgs are left for resolveXComArgs. A task outside any mapped group gets `value` as it is.
 */
export async function resolveInMappedGroup(value: unknown, task: BaseOperator, ti: TaskInstanceHandle): Promise<unknown> {
  const group = task.taskGroup?.mappedGroup ?? null;
  if (!group) return value;
  const index = ti.mapIndex;
  // A derived output (map/zip/concat) of the group's tasks is left whole: only plain outputs are taken per index.
  const sameGroup = findXComArgs(value).filter((arg): arg is PlainXComArg => arg instanceof PlainXComArg && arg.operator.taskGroup?.mappedGroup === group);
  const pulled = new Map<XComArg, unknown>();
  for (const arg of sameGroup) pulled.set(arg, await ti.xcomPull({ taskIds: arg.taskId, key: arg.key, mapIndexes: index }));
  let usesElement = false;
  mapMappedArguments(value, (arg) => {
    usesElement = true;
    return arg;
  });
  const element = usesElement ? await elementAt(group, ti) : undefined;
  return mapXComArgs(
    mapMappedArguments(value, () => element),
    (arg) => (pulled.has(arg) ? pulled.get(arg) : arg),
  );
}

/** The group's element for instance `ti.mapIndex`: of its literal list, or of the output it maps over. */
async function elementAt(group: TaskGroup, ti: TaskInstanceHandle): Promise<unknown> {
  if (!(group instanceof MappedTaskGroup)) throw new Error(`task group '${group.groupId}' is not a mapped task group`);
  try {
    return await mapSourceElement(group.source, ti, ti.mapIndex);
  } catch (error) {
    throw new Error(`mapped task group '${group.groupId}': ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
