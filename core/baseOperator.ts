/**
 * BaseOperator: what every task has (id, retries, pool, trigger rule, ...),
 * how tasks are linked, and how a task runs: the task runner renders the
 * template fields, calls execute(), stores a returned value as the
 * 'return_value' XCom, then asks tasksToSkip() which downstream tasks to skip.
 */
import type { SerializedExpandInput } from './expandInput.ts';
import { isDag, type DAG } from './dag.ts';
import { TASK_DEFAULT_KEYS, type TaskDefaults } from './dagOptions.ts';
import { checkId, durationMs } from './definitionChecks.ts';
import { toCallback, toEmailList, type CallbackSpec } from './callbacks.ts';
import { callerLocation, constructorFrames, type DefinedAt } from './definitionSite.ts';
import type { Duration } from './duration.ts';
import { AirflowError, AirflowFailException, DagDefinitionError, TaskDeferralError, TaskDeferralTimeout, TaskDeferred } from './errors.ts';
import { jsonProblem, serializeParams } from './param.ts';
import type { TaskContext } from './taskContext.ts';
import { BaseTrigger, FAIL_METHOD, TRIGGER_TIMEOUT_ERROR, type Json } from './trigger.ts';
import { currentTaskGroup, isTaskGroup, type TaskGroup } from './taskGroup.ts';
import { isTriggerRule, TRIGGER_RULES, type TriggerRule } from './triggerRule.ts';
import { operatorPartial, type OperatorClass, type OperatorPartial, type PartialOptions } from './mappedOperator.ts';
import { isXComArg, PlainXComArg, type XComArg } from './xcomArg.ts';

export type TaskCallback = (context: TaskContext) => void | Promise<void>;

/**
 * What then(), setUpstream() and setDownstream() accept: a task, an XComArg
 * standing for its task, or a TaskGroup standing for its roots (downstream)
 * or leaves (upstream).
 */
export type TaskLike = BaseOperator | XComArg | TaskGroup;

export interface BaseOperatorOptions {
  dag: DAG;
  taskId: string;
  /** The group the task belongs to; its id becomes '<groupId>.<taskId>' while the group prefixes. */
  taskGroup?: TaskGroup;
  owner?: string;
  retries?: number;
  retryDelay?: Duration;
  retryExponentialBackoff?: boolean;
  maxRetryDelay?: Duration;
  executionTimeout?: Duration;
  triggerRule?: TriggerRule;
  dependsOnPast?: boolean;
  pool?: string;
  poolSlots?: number;
  priorityWeight?: number;
  /** At most this many instances of the task queued or running across all runs (Airflow's max_active_tis_per_dag); each mapped instance counts. */
  maxActiveTisPerDag?: number;
  /** At most this many instances of the task queued or running in one run (Airflow's max_active_tis_per_dagrun): caps a mapped task's parallelism. */
  maxActiveTisPerDagrun?: number;
  queue?: string;
  params?: Record<string, unknown>;
  /** Markdown shown in the UI. */
  doc?: string;
  /** A function, a notifier (e.g. WebhookNotifier) or a list of them. */
  onSuccessCallback?: CallbackSpec;
  onFailureCallback?: CallbackSpec;
  onRetryCallback?: CallbackSpec;
  /** Where emailOnFailure / emailOnRetry alerts go: one address, a comma-separated list or an array. */
  email?: string | string[];
  /** Email `email` when the task fails for good / will be retried; default true (only with `email`). */
  emailOnFailure?: boolean;
  emailOnRetry?: boolean;
  /** Executor-specific settings; must be JSON. */
  executorConfig?: Record<string, unknown>;
}

const OPERATOR_BRAND: unique symbol = Symbol.for('airflow-ts.operator');
/** Set while the worker builds a mapped instance's operator (mappedOperator.ts), which must not join its DAG. */
let buildingDetached = 0;
const BASE_KEYS: readonly string[] = ['dag', 'taskId', 'taskGroup', ...TASK_DEFAULT_KEYS];

export abstract class BaseOperator {
  /** Names of fields rendered as templates before the task runs. */
  static readonly templateFields: readonly string[] = [];

  readonly [OPERATOR_BRAND] = true;
  readonly dag: DAG;
  /** The id in the DAG, prefixed by its groups' ids. */
  readonly taskId: string;
  readonly taskGroup: TaskGroup | null;
  readonly owner: string;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly retryExponentialBackoff: boolean;
  readonly maxRetryDelayMs: number | null;
  readonly executionTimeoutMs: number | null;
  readonly triggerRule: TriggerRule;
  readonly dependsOnPast: boolean;
  readonly pool: string;
  readonly poolSlots: number;
  readonly priorityWeight: number;
  readonly maxActiveTisPerDag: number | null;
  readonly maxActiveTisPerDagrun: number | null;
  readonly queue: string;
  /** DAG params, then defaultArgs params (the group's, else the DAG's), then the task's own (later wins). */
  readonly params: Record<string, unknown>;
  readonly doc: string | null;
  readonly onSuccessCallback: TaskCallback | null;
  readonly onFailureCallback: TaskCallback | null;
  readonly onRetryCallback: TaskCallback | null;
  /** Alert addresses (emailOnFailure, emailOnRetry); empty for none. */
  readonly email: string[];
  readonly emailOnFailure: boolean;
  readonly emailOnRetry: boolean;
  readonly executorConfig: Record<string, unknown> | null;
  readonly upstreamTaskIds = new Set<string>();
  readonly downstreamTaskIds = new Set<string>();
  readonly definedAt: DefinedAt;

  constructor(options: BaseOperatorOptions) {
    if (typeof options !== 'object' || options === null) throw new DagDefinitionError(`${new.target.name} needs an options object with dag and taskId`);
    const { dag } = options;
    if (!isDag(dag)) {
      throw new DagDefinitionError(
        `task ${JSON.stringify(options.taskId)}: option 'dag' is required and must be a DAG, got ${typeof dag}; pass dag: myDag`,
        undefined,
        options.taskId,
      );
    }
    // Inside a taskGroup() function, a task without a taskGroup option joins the group being built.
    const taskGroup = options.taskGroup === undefined ? currentTaskGroup(dag) : options.taskGroup;
    checkId('Task id', options.taskId, dag.dagId);
    if (taskGroup !== undefined) {
      if (!isTaskGroup(taskGroup)) taskFail(dag.dagId, options.taskId, `taskGroup must be a TaskGroup, got ${taskGroup === null ? 'null' : typeof taskGroup}`);
      if (taskGroup.dag !== dag) {
        taskFail(
          dag.dagId,
          options.taskId,
          `taskGroup '${taskGroup.groupId}' belongs to DAG '${taskGroup.dag.dagId}'; a task and its group must be in the same DAG`,
        );
      }
    }
    const taskId = taskGroup ? taskGroup.childId(options.taskId) : options.taskId;
    checkId('Task id', taskId, dag.dagId); // the prefixed id may pass the length limit
    const fail = (message: string): never => taskFail(dag.dagId, taskId, message);
    // Subclasses have options of their own, so only Airflow's snake_case spellings are caught here.
    for (const key of Object.keys(options)) {
      const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      if (camel !== key && BASE_KEYS.includes(camel)) fail(`option '${key}' is unknown; did you mean '${camel}'?`);
    }

    // An option given on the task wins over its group's defaultArgs, which win over the DAG's.
    const defaults = taskGroup ? taskGroup.defaultArgs : dag.defaultArgs;
    const opt = <K extends keyof TaskDefaults>(key: K): TaskDefaults[K] => (options[key] !== undefined ? options[key] : defaults[key]);
    this.dag = dag;
    this.taskId = taskId;
    this.taskGroup = taskGroup ?? null;
    this.owner = nonEmptyString(opt('owner') ?? 'airflow', 'owner', fail);
    this.retries = integer(opt('retries') ?? 0, 'retries', 0, fail);
    this.retryDelayMs = durationMs(opt('retryDelay') ?? { minutes: 5 }, 'retryDelay', fail);
    this.retryExponentialBackoff = boolean(opt('retryExponentialBackoff') ?? false, 'retryExponentialBackoff', fail);
    const maxRetryDelay = opt('maxRetryDelay');
    this.maxRetryDelayMs = maxRetryDelay === undefined ? null : durationMs(maxRetryDelay, 'maxRetryDelay', fail);
    const executionTimeout = opt('executionTimeout');
    this.executionTimeoutMs = executionTimeout === undefined ? null : durationMs(executionTimeout, 'executionTimeout', fail);
    if (this.executionTimeoutMs === 0) fail('executionTimeout must be longer than 0; leave it out for no timeout');
    const triggerRule = opt('triggerRule') ?? 'all_success';
    if (!isTriggerRule(triggerRule)) fail(`unknown triggerRule ${JSON.stringify(triggerRule)}; allowed: ${TRIGGER_RULES.join(', ')}`);
    this.triggerRule = triggerRule;
    this.dependsOnPast = boolean(opt('dependsOnPast') ?? false, 'dependsOnPast', fail);
    this.pool = nonEmptyString(opt('pool') ?? 'default_pool', 'pool', fail);
    this.poolSlots = integer(opt('poolSlots') ?? 1, 'poolSlots', 1, fail);
    this.priorityWeight = integer(opt('priorityWeight') ?? 1, 'priorityWeight', -Number.MAX_SAFE_INTEGER, fail);
    const perDag = opt('maxActiveTisPerDag');
    this.maxActiveTisPerDag = perDag === undefined ? null : integer(perDag, 'maxActiveTisPerDag', 1, fail);
    const perRun = opt('maxActiveTisPerDagrun');
    this.maxActiveTisPerDagrun = perRun === undefined ? null : integer(perRun, 'maxActiveTisPerDagrun', 1, fail);
    this.queue = nonEmptyString(opt('queue') ?? 'default', 'queue', fail);
    const doc = opt('doc');
    if (doc !== undefined && typeof doc !== 'string') fail(`doc must be a string, got ${typeof doc}`);
    this.doc = doc ?? null;
    this.onSuccessCallback = toCallback(opt('onSuccessCallback'), 'onSuccessCallback', fail);
    this.onFailureCallback = toCallback(opt('onFailureCallback'), 'onFailureCallback', fail);
    this.onRetryCallback = toCallback(opt('onRetryCallback'), 'onRetryCallback', fail);
    this.email = toEmailList(opt('email'), fail);
    this.emailOnFailure = boolean(opt('emailOnFailure') ?? true, 'emailOnFailure', fail);
    this.emailOnRetry = boolean(opt('emailOnRetry') ?? true, 'emailOnRetry', fail);
    const executorConfig = opt('executorConfig');
    if (executorConfig !== undefined) {
      const problem =
        typeof executorConfig !== 'object' || executorConfig === null || Array.isArray(executorConfig)
          ? 'it is not an object'
          : jsonProblem(executorConfig, 'executorConfig');
      if (problem) fail(`executorConfig must be a JSON object: ${problem}`);
    }
    this.executorConfig = executorConfig ? { ...executorConfig } : null;
    this.params = { ...dag.params, ...(defaults.params ?? {}), ...(options.params ?? {}) };
    serializeParams(this.params, { dagId: dag.dagId, taskId }); // fail here, at the task's line

    this.definedAt = callerLocation(constructorFrames(new.target));
    if (buildingDetached > 0) return;
    dag.addTask(this);
    taskGroup?.addChild(this);
  }

  /**
   * Airflow's partial(): `BashOperator.partial({ dag, taskId, ...shared }).expand({ bashCommand: [...] })`
   * adds a mapped task, one instance per element; `.expandKwargs([...options])` one per option object.
   * TypeScript checks the mapped options' names and element types against the operator's options.
   */
  static partial<O extends BaseOperatorOptions, K extends keyof PartialOptions<O>>(
    this: OperatorClass<O>,
    // K: the options given, inferred from their names (a name not in O fails K's constraint), for expand()'s type.
    options: PartialOptions<O> & { [k in K]: unknown },
  ): OperatorPartial<O, Pick<PartialOptions<O>, K>> {
    const detached = <T>(build: () => T): T => {
      buildingDetached++;
      try {
        return build();
      } finally {
        buildingDetached--;
      }
    };
    return operatorPartial({ BaseOperator, detached }, this as OperatorClass<never>, options) as unknown as OperatorPartial<O, Pick<PartialOptions<O>, K>>;
  }

  /** The operator's class name, e.g. 'BashOperator'. */
  get operatorName(): string {
    return this.constructor.name;
  }

  get templateFields(): readonly string[] {
    return (this.constructor as { templateFields?: readonly string[] }).templateFields ?? [];
  }

  /**
   * A reschedule-mode sensor (Airflow's BaseSensorOperator.reschedule): the runner gives it its earlier
   * pokes (context.taskReschedules) and ends its try as up_for_reschedule when it raises AirflowRescheduleException.
   */
  get reschedule(): boolean {
    return false;
  }

  /** What a mapped task expands over (Airflow's expand()); null for a task that is not mapped. In a mapped group: the group's input. */
  get expandInput(): SerializedExpandInput | null {
    return this.taskGroup?.mappedGroup?.expandInput ?? null;
  }

  /**
   * The operator that runs a task instance: this one; for a mapped classic operator, one built with the
   * instance's values. Wrapped: an operator has then(), so a promise cannot resolve to one.
   */
  unmap(_context: TaskContext): Promise<{ operator: BaseOperator }> {
    return Promise.resolve({ operator: this });
  }

  /** The operator-specific arguments, as JSON (for the serialized DAG and the UI). */
  abstract serializeFields(): Record<string, unknown>;

  /**
   * Does the task's work. `rendered` holds the template fields, rendered for
   * this run (the operator's own fields stay as written). A value other than
   * undefined becomes the 'return_value' XCom. Throw AirflowSkipException to
   * end as skipped, AirflowFailException to fail without retrying.
   * Not abstract only so that operators written before execute() existed still load.
   */
  execute(_context: TaskContext, _rendered: Record<string, unknown>): Promise<unknown> {
    return Promise.reject(new AirflowError(`task '${this.taskId}' in DAG '${this.dag.dagId}': ${this.operatorName} does not implement execute()`));
  }

  /**
   * Ends this try as deferred (Airflow's BaseOperator.defer): the worker slot is freed, `trigger` waits in
   * the triggerer, and its event resumes the task in a worker with `this[method](context, event, kwargs)`
   * instead of execute() (same try number). Without an event within `timeout`, the task fails with
   * TaskDeferralTimeout. Call it from execute() (or from a resumed method, to wait again).
   */
  defer(options: { trigger: BaseTrigger; method: string; kwargs?: Record<string, Json>; timeout?: Duration }): never {
    const where = `task '${this.taskId}' in DAG '${this.dag.dagId}'`;
    const fail = (message: string): never => {
      throw new AirflowFailException(`${where}: defer(): ${message}`);
    };
    if (!(options?.trigger instanceof BaseTrigger)) fail('trigger must be a trigger instance, e.g. new DateTimeTrigger({ moment })');
    if (typeof options.method !== 'string' || typeof (this as unknown as Record<string, unknown>)[options.method] !== 'function')
      fail(`method must name a method of ${this.operatorName}, got ${JSON.stringify(options.method)}`);
    const timeoutMs = options.timeout === undefined ? null : durationMs(options.timeout, 'timeout', fail);
    throw new TaskDeferred(options.trigger, options.method, options.kwargs ?? {}, timeoutMs);
  }

  /**
   * Continues a deferred task where its trigger's event sends it (Airflow's resume_execution):
   * `this[method](context, event, kwargs)`. A failed or timed-out trigger fails the try here, in its log
   * (TaskDeferralError, TaskDeferralTimeout); sensors turn the timeout into their own.
   */
  async resumeExecution(method: string, nextKwargs: Record<string, unknown>, context: TaskContext): Promise<unknown> {
    const { event, error, traceback, ...kwargs } = nextKwargs;
    if (method === FAIL_METHOD) {
      if (error === TRIGGER_TIMEOUT_ERROR) throw new TaskDeferralTimeout(`The trigger did not fire within the defer timeout (${TRIGGER_TIMEOUT_ERROR})`);
      throw new TaskDeferralError(`Trigger failure: ${String(error)}${traceback ? `\n${String(traceback)}` : ''}`);
    }
    const callable = (this as unknown as Record<string, unknown>)[method];
    if (typeof callable !== 'function')
      throw new AirflowFailException(`task '${this.taskId}': cannot resume in ${method}(): ${this.operatorName} has no such method (the DAG file changed?)`);
    context.log.info(`Resuming in ${method}() with the trigger's event: ${JSON.stringify(event)}`);
    return (callable as (c: TaskContext, e: unknown, k: Record<string, unknown>) => unknown).call(this, context, event, kwargs);
  }

  /**
   * Called after a successful execute() with its result: ids of downstream
   * tasks to mark skipped (branching, short-circuiting), or null for none.
   */
  tasksToSkip(_result: unknown): string[] | null {
    return null;
  }

  /** This task's return value, to pass to TaskFlow tasks (Airflow's `.output`). */
  get output(): PlainXComArg {
    return new PlainXComArg(this);
  }

  /**
   * Airflow's `>>`: `a.then(b)` makes b run after a and returns b, so chains
   * read left to right; `a.then([b, c])` fans out and returns the array.
   * An XComArg stands for its task.
   */
  then<T extends TaskLike | readonly TaskLike[]>(next: T): T {
    // `await op` calls op.then(resolve, reject); throwing makes that await reject instead of hang.
    if (typeof next === 'function') {
      throw new DagDefinitionError(
        `task '${this.taskId}' is an operator, not a promise: .then() takes tasks (use a.then(b)); do not await operators (nor return them from an async function)`,
        this.dag.dagId,
        this.taskId,
      );
    }
    this.setDownstream(next);
    return next;
  }

  /** Makes `tasks` run after this one. Adding an existing edge again is a no-op. */
  setDownstream(tasks: TaskLike | readonly TaskLike[]): void {
    for (const task of toList(tasks, 'roots')) link(this, task, 'setDownstream');
  }

  /** Makes this task run after `tasks`. */
  setUpstream(tasks: TaskLike | readonly TaskLike[]): void {
    for (const task of toList(tasks, 'leaves')) link(task, this, 'setUpstream');
  }
}

/** Brand check rather than instanceof, so tasks from a second copy of this module still count. */
export function isOperator(x: unknown): x is BaseOperator {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[OPERATOR_BRAND] === true;
}

/** Throws a DagDefinitionError prefixed with the task and DAG; for operator option checks. */
export function taskFail(dagId: string | undefined, taskId: string | undefined, message: string): never {
  throw new DagDefinitionError(`task '${taskId}' in DAG '${dagId}': ${message}`, dagId, taskId);
}

function link(upstream: BaseOperator, downstream: BaseOperator, method: string): void {
  for (const [task, other] of [
    [upstream, downstream],
    [downstream, upstream],
  ] as const) {
    if (!isOperator(task)) {
      const got = Array.isArray(task) ? 'a nested array' : task === null ? 'null' : typeof task;
      taskFail(other.dag.dagId, other.taskId, `${method}() takes tasks or arrays of tasks, got ${got}`);
    }
  }
  if (upstream.dag !== downstream.dag) {
    throw new DagDefinitionError(
      `cannot link '${upstream.taskId}' in DAG '${upstream.dag.dagId}' to '${downstream.taskId}' in DAG '${downstream.dag.dagId}'; tasks can only depend on tasks of the same DAG`,
      upstream.dag.dagId,
      upstream.taskId,
    );
  }
  if (upstream === downstream) taskFail(upstream.dag.dagId, upstream.taskId, 'a task cannot depend on itself');
  upstream.downstreamTaskIds.add(downstream.taskId);
  downstream.upstreamTaskIds.add(upstream.taskId);
}

/** The tasks that `tasks` stand for: an XComArg's task; a group's roots when it is downstream, its leaves when upstream. */
function toList(tasks: TaskLike | readonly TaskLike[], groupEnd: 'roots' | 'leaves'): readonly BaseOperator[] {
  const list: readonly TaskLike[] = Array.isArray(tasks) ? tasks : [tasks as TaskLike];
  return list.flatMap((t) => (isXComArg(t) ? t.operators : isTaskGroup(t) ? t.linkedTasks(groupEnd) : [t]));
}

function nonEmptyString(value: unknown, what: string, fail: (m: string) => never): string {
  if (typeof value !== 'string' || value === '') fail(`${what} must be a non-empty string, got ${JSON.stringify(value)}`);
  return value as string;
}

function integer(value: unknown, what: string, min: number, fail: (m: string) => never): number {
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    fail(`${what} must be an integer${min > -Number.MAX_SAFE_INTEGER ? ` >= ${min}` : ''}, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

function boolean(value: unknown, what: string, fail: (m: string) => never): boolean {
  if (typeof value !== 'boolean') fail(`${what} must be true or false, got ${JSON.stringify(value)}`);
  return value as boolean;
}
