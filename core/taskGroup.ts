/**
 * TaskGroup: a named set of tasks and nested groups of one DAG, drawn as one
 * collapsible box in the UI (Airflow's utils/task_group.py). A group only
 * changes how a DAG is written: its id prefixes its tasks' ids, its
 * defaultArgs sit between the DAG's and the task's own options, and linking
 * a group links its leaves or roots. The scheduler sees plain tasks.
 */
import type { BaseOperator, TaskLike } from './baseOperator.ts';
import { isDag, type DAG } from './dag.ts';
import { TASK_DEFAULT_KEYS, type TaskDefaults } from './dagOptions.ts';
import { checkId, checkKeys } from './definitionChecks.ts';
import { callerLocation, constructorFrames, type DefinedAt } from './definitionSite.ts';
import { DagDefinitionError } from './errors.ts';
import type { SerializedMapSource } from './expandInput.ts';

export interface TaskGroupOptions {
  dag: DAG;
  /** Unique among the DAG's group and task ids once prefixed; no '.' while prefixGroupId holds. */
  groupId: string;
  /** The enclosing group; the DAG's top level when left out. */
  parentGroup?: TaskGroup;
  /** Prefix the ids of this group's tasks and groups with its id ('extract.load'); default true. */
  prefixGroupId?: boolean;
  /** Shown when the mouse is over the group in the UI. */
  tooltip?: string;
  /** Task options for the group's tasks, over the DAG's and enclosing groups' defaultArgs, under the task's own. */
  defaultArgs?: TaskDefaults;
}

const OPTION_KEYS: readonly (keyof TaskGroupOptions)[] = ['dag', 'groupId', 'parentGroup', 'prefixGroupId', 'tooltip', 'defaultArgs'];
const GROUP_BRAND: unique symbol = Symbol.for('airflow-ts.taskGroup');

export class TaskGroup {
  readonly [GROUP_BRAND] = true;
  readonly dag: DAG;
  /** The id as written, without any prefix (Airflow's label). */
  readonly label: string;
  /** The id in the DAG: the parent's prefix, if the parent prefixes, then the label. */
  readonly groupId: string;
  readonly parentGroup: TaskGroup | null;
  readonly prefixGroupId: boolean;
  readonly tooltip: string;
  /** What its tasks default to: the DAG's defaultArgs, then each enclosing group's, then its own (later wins). */
  readonly defaultArgs: TaskDefaults;
  readonly definedAt: DefinedAt;
  private readonly childMap = new Map<string, BaseOperator | TaskGroup>();

  constructor(options: TaskGroupOptions) {
    if (typeof options !== 'object' || options === null)
      throw new DagDefinitionError('new TaskGroup() needs an options object: new TaskGroup({ dag, groupId: "extract" })');
    const { dag, groupId: label } = options;
    if (!isDag(dag)) {
      throw new DagDefinitionError(`TaskGroup ${JSON.stringify(label)}: option 'dag' is required and must be a DAG, got ${typeof dag}; pass dag: myDag`);
    }
    const fail = (message: string): never => {
      throw new DagDefinitionError(`TaskGroup '${label}' in DAG '${dag.dagId}': ${message}`, dag.dagId);
    };
    checkId('Group id', label, dag.dagId);
    checkKeys(options, OPTION_KEYS, `TaskGroup '${label}' option`, dag.dagId);
    const prefixGroupId = options.prefixGroupId ?? true;
    if (typeof prefixGroupId !== 'boolean') fail(`prefixGroupId must be true or false, got ${JSON.stringify(prefixGroupId)}`);
    // A prefixing group's id becomes part of task ids, where '.' separates the groups.
    if (prefixGroupId && label.includes('.'))
      fail(`group id cannot contain '.' while prefixGroupId is true; use '_' or '-' (e.g. '${label.replace(/\./g, '_')}')`);
    const tooltip = options.tooltip ?? '';
    if (typeof tooltip !== 'string') fail(`tooltip must be a string, got ${typeof tooltip}`);
    // Inside a taskGroup() function, a group without parentGroup nests in the group being built (Airflow's TaskGroupContext).
    const parentGroup = options.parentGroup === undefined ? currentTaskGroup(dag) : options.parentGroup;
    if (parentGroup !== undefined) {
      if (!isTaskGroup(parentGroup)) fail(`parentGroup must be a TaskGroup, got ${parentGroup === null ? 'null' : typeof parentGroup}`);
      if (parentGroup.dag !== dag)
        fail(`parentGroup '${parentGroup.groupId}' belongs to DAG '${parentGroup.dag.dagId}'; a group and its parent must be in the same DAG`);
    }
    const own = options.defaultArgs ?? {};
    if (typeof own !== 'object' || own === null) fail('defaultArgs must be an object of task options');
    checkKeys(own, TASK_DEFAULT_KEYS, `TaskGroup '${label}' defaultArgs key`, dag.dagId);

    this.dag = dag;
    this.label = label;
    this.parentGroup = parentGroup ?? null;
    this.groupId = parentGroup ? parentGroup.childId(label) : label;
    checkId('Group id', this.groupId, dag.dagId); // the prefixed id may pass the length limit
    this.prefixGroupId = prefixGroupId;
    this.tooltip = tooltip;
    this.defaultArgs = { ...(parentGroup ? parentGroup.defaultArgs : dag.defaultArgs), ...own };
    this.definedAt = callerLocation(constructorFrames(new.target));
    dag.addTaskGroup(this);
    parentGroup?.addChild(this);
  }

  /** What the group is mapped over (a MappedTaskGroup's input); null for a group that is not mapped. */
  get expandInput(): SerializedMapSource | null {
    return null;
  }

  /** The mapped group that is or holds this group, if any: every task in it is mapped over that group's input. */
  get mappedGroup(): TaskGroup | null {
    return this.expandInput ? this : (this.parentGroup?.mappedGroup ?? null);
  }

  /** The id a task or group labelled `label` gets inside this group. */
  childId(label: string): string {
    return this.prefixGroupId ? `${this.groupId}.${label}` : label;
  }

  /** Direct children, tasks and groups, by id in the DAG, in the order they were created. */
  get children(): ReadonlyMap<string, BaseOperator | TaskGroup> {
    return this.childMap;
  }

  /** Every task of the group and of its nested groups. */
  get tasks(): BaseOperator[] {
    return [...this.childMap.values()].flatMap((child) => (isTaskGroup(child) ? child.tasks : [child]));
  }

  /** Tasks of the group with no upstream inside the group: what `x.then(group)` links to. */
  get roots(): BaseOperator[] {
    const tasks = this.tasks;
    const ids = new Set(tasks.map((t) => t.taskId));
    return tasks.filter((t) => ![...t.upstreamTaskIds].some((id) => ids.has(id)));
  }

  /** Tasks of the group with no downstream inside the group: what `group.then(x)` links from. */
  get leaves(): BaseOperator[] {
    const tasks = this.tasks;
    const ids = new Set(tasks.map((t) => t.taskId));
    return tasks.filter((t) => ![...t.downstreamTaskIds].some((id) => ids.has(id)));
  }

  /** Airflow's `group >> x`: x runs after the group's leaves; returns x. */
  then<T extends TaskLike | readonly TaskLike[]>(next: T): T {
    if (typeof next === 'function') {
      throw new DagDefinitionError(`TaskGroup '${this.groupId}' is not a promise: .then() takes tasks or groups; do not await a TaskGroup`, this.dag.dagId);
    }
    this.setDownstream(next);
    return next;
  }

  /** Makes `tasks` (their roots, for groups) run after the group's leaves. */
  setDownstream(tasks: TaskLike | readonly TaskLike[]): void {
    for (const leaf of this.linkedTasks('leaves')) leaf.setDownstream(tasks);
  }

  /** Makes the group's roots run after `tasks` (their leaves, for groups). */
  setUpstream(tasks: TaskLike | readonly TaskLike[]): void {
    for (const root of this.linkedTasks('roots')) root.setUpstream(tasks);
  }

  /** Called by the BaseOperator and TaskGroup constructors. */
  addChild(child: BaseOperator | TaskGroup): void {
    this.childMap.set(isTaskGroup(child) ? child.groupId : child.taskId, child);
  }

  /**
   * The roots or leaves a link to the group stands for. They are taken when the link is made (as in
   * Airflow), so a group still empty then would silently link nothing: that is an error instead.
   */
  linkedTasks(end: 'roots' | 'leaves'): BaseOperator[] {
    const tasks = this[end];
    if (tasks.length === 0) {
      throw new DagDefinitionError(
        `TaskGroup '${this.groupId}' in DAG '${this.dag.dagId}' has no tasks yet; add its tasks before linking the group`,
        this.dag.dagId,
      );
    }
    return tasks;
  }
}

// On globalThis, like the brands: a DAG file in a CommonJS folder gets its own copy of this module.
const CURRENT_GROUPS = Symbol.for('airflow-ts.currentTaskGroups');
const holder = globalThis as { [CURRENT_GROUPS]?: TaskGroup[] };

/**
 * Runs `build` with `group` as the group that tasks and groups of its DAG join when they name none
 * (Airflow's `with TaskGroup(...)`); what taskGroup() functions run in. Must be synchronous: the
 * group is current only until `build` returns.
 */
export function withinTaskGroup<T>(group: TaskGroup, build: () => T): T {
  const stack = (holder[CURRENT_GROUPS] ??= []);
  stack.push(group);
  try {
    return build();
  } finally {
    stack.splice(stack.lastIndexOf(group), 1);
  }
}

/** The innermost group being built for `dag` (withinTaskGroup), if any. */
export function currentTaskGroup(dag: DAG): TaskGroup | undefined {
  const stack = holder[CURRENT_GROUPS] ?? [];
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.dag === dag) return stack[i];
  return undefined;
}

/** Brand check rather than instanceof, so groups from a second copy of this module still count. */
export function isTaskGroup(x: unknown): x is TaskGroup {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[GROUP_BRAND] === true;
}
