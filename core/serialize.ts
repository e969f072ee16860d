/**
 * The JSON form of a DAG: what the parser stores in the database and what the
 * scheduler and UI read, so they never have to import DAG files themselves.
 */
import { createHash } from 'node:crypto';
import type { BaseOperator } from './baseOperator.ts';
import type { DAG } from './dag.ts';
import { DagDefinitionError } from './errors.ts';
import type { SerializedExpandInput, SerializedMapSource } from './expandInput.ts';
import { jsonProblem, serializeParams, type SerializedParam } from './param.ts';
import type { TaskGroup } from './taskGroup.ts';
import type { TriggerRule } from './triggerRule.ts';

export interface SerializedTask {
  taskId: string;
  /** The class name, e.g. 'BashOperator'. */
  operator: string;
  /** Sorted. */
  upstreamTaskIds: string[];
  /** Sorted. */
  downstreamTaskIds: string[];
  owner: string;
  triggerRule: TriggerRule;
  retries: number;
  retryDelayMs: number;
  retryExponentialBackoff: boolean;
  maxRetryDelayMs: number | null;
  executionTimeoutMs: number | null;
  dependsOnPast: boolean;
  pool: string;
  poolSlots: number;
  priorityWeight: number;
  queue: string;
  params: Record<string, SerializedParam>;
  templateFields: string[];
  /** Operator-specific arguments, from serializeFields(). */
  fields: Record<string, unknown>;
  executorConfig: Record<string, unknown> | null;
  doc: string | null;
  callbacks: { onSuccess: boolean; onFailure: boolean; onRetry: boolean };
  line: number | null;
  /** The id of the task's innermost group; absent for tasks at the DAG's top level. */
  taskGroupId?: string;
  /** What a mapped task expands over; absent for unmapped tasks (so their hash is unchanged, ADR 0015). */
  expandInput?: SerializedExpandInput;
  /** Caps on the task's queued + running instances across runs / in one run; absent when unset (ADR 0015). */
  maxActiveTisPerDag?: number;
  maxActiveTisPerDagrun?: number;
  /** The mapped task group the task is mapped by (its expandInput is the group's); instance i waits for instance i of the group's tasks (ADR 0018). */
  mappedGroupId?: string;
}

/** A task group: what the UI draws as one collapsible box and the CLI lists (Airflow's serialized task_group). */
export interface SerializedTaskGroup {
  /** The id in the DAG ('outer.inner'); null for the root, the DAG's top level. */
  groupId: string | null;
  /** The id as written, without its parent's prefix ('inner'); null for the root. */
  label: string | null;
  tooltip: string;
  prefixGroupId: boolean;
  /** Tasks directly in this group, in topological order. */
  taskIds: string[];
  /** Groups directly in this group, in the order they were created. */
  groups: SerializedTaskGroup[];
  /** What a mapped task group maps its tasks over; absent for other groups. */
  expandInput?: SerializedMapSource;
}

export interface SerializedDag {
  dagId: string;
  fileloc: string;
  line: number | null;
  description: string | null;
  doc: string | null;
  /** Preset or cron as a string, a fixed interval, or null for manual only. */
  schedule: string | { everyMs: number } | null;
  timezone: string;
  /** ISO strings. */
  startDate: string | null;
  endDate: string | null;
  catchup: boolean | null;
  tags: string[];
  /** Sorted unique task owners. */
  owners: string[];
  params: Record<string, SerializedParam>;
  maxActiveRuns: number | null;
  maxActiveTasks: number | null;
  dagrunTimeoutMs: number | null;
  isPausedUponCreation: boolean | null;
  /** In topological order. */
  tasks: SerializedTask[];
  /**
   * The root task group, present only when the DAG has groups: a DAG without groups serializes (and
   * hashes) as before groups existed, so upgrading does not make every stored DAG look changed.
   * Read it through rootTaskGroup().
   */
  taskGroup?: SerializedTaskGroup;
  /** Which DAG-level callbacks the DAG has (the scheduler asks the DAG processor to run them); absent when none (ADR 0015). */
  callbacks?: { onSuccess: boolean; onFailure: boolean };
}

/** Validates the DAG (cycles) and returns its JSON form. */
export function serializeDag(dag: DAG): SerializedDag {
  dag.validate();
  const tasks = dag.topologicalOrder().map((id) => serializeTask(dag.getTask(id)));
  return {
    dagId: dag.dagId,
    fileloc: dag.definedAt.file,
    line: dag.definedAt.line,
    description: dag.description,
    doc: dag.doc,
    schedule: dag.schedule,
    timezone: dag.timezone,
    startDate: dag.startDate?.toISOString() ?? null,
    endDate: dag.endDate?.toISOString() ?? null,
    catchup: dag.catchup ?? null,
    tags: [...dag.tags],
    owners: [...new Set(tasks.map((t) => t.owner))].sort(),
    params: serializeParams(dag.params, { dagId: dag.dagId }),
    maxActiveRuns: dag.maxActiveRuns,
    maxActiveTasks: dag.maxActiveTasks,
    dagrunTimeoutMs: dag.dagrunTimeoutMs,
    isPausedUponCreation: dag.isPausedUponCreation ?? null,
    tasks,
    ...(dag.taskGroupDict.size > 0 ? { taskGroup: serializeTaskGroup(null, [...dag.taskGroupDict.values()], tasks) } : {}),
    ...(dag.onSuccessCallback || dag.onFailureCallback
      ? { callbacks: { onSuccess: dag.onSuccessCallback !== null, onFailure: dag.onFailureCallback !== null } }
      : {}),
  };
}

/** The DAG's group tree; for a DAG without groups (or serialized before groups existed), a root holding every task. */
export function rootTaskGroup(dag: SerializedDag): SerializedTaskGroup {
  return dag.taskGroup ?? { groupId: null, label: null, tooltip: '', prefixGroupId: true, taskIds: dag.tasks.map((t) => t.taskId), groups: [] };
}

function serializeTaskGroup(group: TaskGroup | null, groups: TaskGroup[], tasks: SerializedTask[]): SerializedTaskGroup {
  const groupId = group?.groupId ?? null;
  return {
    groupId,
    label: group?.label ?? null,
    tooltip: group?.tooltip ?? '',
    prefixGroupId: group?.prefixGroupId ?? true,
    taskIds: tasks.filter((t) => (t.taskGroupId ?? null) === groupId).map((t) => t.taskId),
    groups: groups.filter((g) => g.parentGroup === group).map((g) => serializeTaskGroup(g, groups, tasks)),
    ...(group?.expandInput ? { expandInput: group.expandInput } : {}),
  };
}

function serializeTask(task: BaseOperator): SerializedTask {
  const where = `task '${task.taskId}' in DAG '${task.dag.dagId}' (${task.operatorName})`;
  const fields = task.serializeFields();
  // Operator authors' mistakes: caught here so every operator gets the same checks.
  const problem = jsonProblem(fields, 'serializeFields()');
  if (problem) throw new DagDefinitionError(`${where}: ${problem}`, task.dag.dagId, task.taskId);
  for (const name of task.templateFields) {
    if (!(name in fields)) throw new DagDefinitionError(`${where}: template field '${name}' is missing from serializeFields()`, task.dag.dagId, task.taskId);
  }
  return {
    taskId: task.taskId,
    operator: task.operatorName,
    upstreamTaskIds: [...task.upstreamTaskIds].sort(),
    downstreamTaskIds: [...task.downstreamTaskIds].sort(),
    owner: task.owner,
    triggerRule: task.triggerRule,
    retries: task.retries,
    retryDelayMs: task.retryDelayMs,
    retryExponentialBackoff: task.retryExponentialBackoff,
    maxRetryDelayMs: task.maxRetryDelayMs,
    executionTimeoutMs: task.executionTimeoutMs,
    dependsOnPast: task.dependsOnPast,
    pool: task.pool,
    poolSlots: task.poolSlots,
    priorityWeight: task.priorityWeight,
    queue: task.queue,
    params: serializeParams(task.params, { dagId: task.dag.dagId, taskId: task.taskId }),
    templateFields: [...task.templateFields],
    fields,
    executorConfig: task.executorConfig,
    doc: task.doc,
    callbacks: { onSuccess: task.onSuccessCallback !== null, onFailure: task.onFailureCallback !== null, onRetry: task.onRetryCallback !== null },
    line: task.definedAt.line,
    ...(task.taskGroup ? { taskGroupId: task.taskGroup.groupId } : {}),
    ...(task.expandInput ? { expandInput: task.expandInput } : {}),
    ...(task.maxActiveTisPerDag !== null ? { maxActiveTisPerDag: task.maxActiveTisPerDag } : {}),
    ...(task.maxActiveTisPerDagrun !== null ? { maxActiveTisPerDagrun: task.maxActiveTisPerDagrun } : {}),
    ...(task.taskGroup?.mappedGroup ? { mappedGroupId: task.taskGroup.mappedGroup.groupId } : {}),
  };
}

/** sha256 (hex) of the DAG's canonical JSON: equal DAGs hash equal, whatever their key order. */
export function dagHash(s: SerializedDag): string {
  return createHash('sha256').update(canonicalJson(s)).digest('hex');
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
