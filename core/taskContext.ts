/**
 * What a running task receives: Airflow's template/execution context. Names
 * come twice, camelCase for TypeScript code and Airflow's snake_case so Jinja
 * templates written for Airflow work unchanged. No storage access here: the
 * task runner supplies XCom, Variables and Connections through
 * TaskContextInput.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { BaseOperator } from './baseOperator.ts';
import type { DAG } from './dag.ts';
import type { DagRunClient } from './dagRunClient.ts';
import { AirflowError } from './errors.ts';
import { DATE_FILTERS, macros, TemplateDate, type Macros } from './macros.ts';
import { isParam } from './param.ts';
import { mapIndexFilter, xcomPullResult, type PulledXCom } from './xcomPull.ts';

export interface XComPullArgs {
  /** One id returns one value; an array returns values in the same order. Default: the current task. */
  taskIds?: string | readonly string[];
  /** Default 'return_value'. */
  key?: string;
  /** Default: the current DAG. */
  dagId?: string;
  /**
   * One map index returns that instance's value; a list returns a list. Default: every
   * instance (a mapped task's values as a list in map-index order), as in Airflow 2.10.
   */
  mapIndexes?: number | readonly number[];
  /** Returned when a single-value pull finds nothing (Airflow's `default`). */
  default?: unknown;
}

/** The runner's XCom storage for this task instance's run; values are JSON. */
export interface XComAccessors {
  /** The XComs of `taskIds` under `key` in this run, at `mapIndexes` (undefined: every map index), in any order. */
  pull(args: { dagId: string; taskIds: string[]; key: string; mapIndexes?: number[] }): Promise<PulledXCom[]>;
  /** Stores a value under `key` for the running task instance. */
  push(key: string, value: unknown): Promise<void>;
  /** Element `index` of the list unmapped `taskId` pushed under `key` in this run, and the list's length; undefined: none or not a list. */
  listElement?(args: { taskId: string; key: string; index: number }): Promise<{ length: number; element: unknown } | undefined>;
}

/** Airflow's task_instance / ti, as task code sees it. */
export interface TaskInstanceHandle {
  readonly dagId: string;
  readonly taskId: string;
  readonly runId: string;
  /** -1 for a task that is not mapped. */
  readonly mapIndex: number;
  readonly tryNumber: number;
  xcomPull(args: XComPullArgs & { mapIndexes: readonly number[] }): Promise<unknown[]>;
  xcomPull(args: XComPullArgs & { taskIds: readonly string[] }): Promise<unknown[]>;
  xcomPull(args: XComPullArgs & { taskIds: string }): Promise<unknown>;
  xcomPull(args?: XComPullArgs): Promise<unknown>;
  xcomPush(key: string, value: unknown): Promise<void>;
  /**
   * Internal (a mapped instance's element, PlainXComArg.elementAt): element `index` of the list unmapped
   * `taskId` of this DAG pushed under `key`, and the list's length; undefined when there is none, it is
   * not a list, or the runner cannot read one element.
   */
  xcomListElement(args: { taskId: string; key: string; index: number }): Promise<{ length: number; element: unknown } | undefined>;
}

export interface DagRunInfo {
  runId: string;
  /** 'manual', 'scheduled', 'backfill', ... */
  runType: string;
  conf: Record<string, unknown>;
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
}

/** The context's dag_run: camelCase plus Airflow's names, so `{{ dag_run.conf.x }}` and `{{ dag_run.run_id }}` work. */
export interface DagRunContext extends DagRunInfo {
  dagId: string;
  dag_id: string;
  run_id: string;
  run_type: string;
  logical_date: Date;
  data_interval_start: Date;
  data_interval_end: Date;
}

/** A Connection as the runner loaded it; `extra` already parsed from JSON. */
export interface ConnectionInfo {
  conn_type: string;
  host: string | null;
  port: number | null;
  login: string | null;
  password: string | null;
  schema: string | null;
  extra: Record<string, unknown>;
}

/** Variables or connections by name, as the runner supplies them (decrypted when read). */
export interface Lookup<V> {
  get(key: string): V | undefined;
}

/** `var.value.x` / `var.json.x`: an unknown name throws (as in Airflow); `get(name, default)` does not. */
export interface VariableAccessor {
  get(key: string, defaultValue?: unknown): unknown;
  readonly [key: string]: unknown;
}

/** `conn.my_db.host`: an unknown id throws; `get(id)` returns undefined instead. */
export interface ConnectionAccessor {
  get(connId: string, defaultValue?: ConnectionInfo): ConnectionInfo | undefined;
  readonly [connId: string]: unknown;
}

/**
 * What a reschedule-mode sensor needs of its earlier pokes (Airflow's task_reschedule rows). The runner reads
 * it only for tasks whose `reschedule` is true.
 */
export interface TaskReschedules {
  /** When the first poke of the first try since the last clear started; null before any reschedule. Its timeout counts from here. */
  firstStartDate: Date | null;
  /** How many times this try was rescheduled already (the poke about to run is number count + 1). */
  count: number;
}

/** Lines go to the task's log, each prefixed with time and level. */
export interface TaskLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface TaskContext {
  dag: DAG;
  task: BaseOperator;
  ti: TaskInstanceHandle;
  task_instance: TaskInstanceHandle;
  taskInstance: TaskInstanceHandle;
  dag_run: DagRunContext;
  dagRun: DagRunContext;
  run_id: string;
  runId: string;
  /** Logical date as YYYY-MM-DD (UTC). */
  ds: string;
  ds_nodash: string;
  dsNodash: string;
  /** Logical date as ISO 8601 with +00:00, e.g. 2024-01-01T00:00:00+00:00. */
  ts: string;
  /** e.g. 20240101T000000 */
  ts_nodash: string;
  tsNodash: string;
  ts_nodash_with_tz: string;
  logical_date: Date;
  logicalDate: Date;
  data_interval_start: Date;
  dataIntervalStart: Date;
  data_interval_end: Date;
  dataIntervalEnd: Date;
  /** Task params (DAG's, defaultArgs', the task's), overridden by the run's conf. */
  params: Record<string, unknown>;
  var: { value: VariableAccessor; json: VariableAccessor };
  conn: ConnectionAccessor;
  macros: Macros;
  test_mode: boolean;
  testMode: boolean;
  log: TaskLogger;
  /** Aborted when the runner cancels the task (execution timeout, kill); long work should stop. */
  signal: AbortSignal;
  /** Set by the runner for onFailureCallback / onRetryCallback: what the try failed with. */
  exception?: unknown;
  /** Reschedule-mode sensors only: their earlier pokes. */
  taskReschedules?: TaskReschedules;
  /** Other DAGs' runs (TriggerDagRunOperator, ExternalTaskSensor); supplied by the task runner. */
  dagRuns?: DagRunClient;
  /** DAG-level callbacks only: why the run ended ('success', 'task_failure'), as Airflow's context["reason"]. */
  reason?: string;
}

export interface TaskContextInput {
  dag: DAG;
  task: BaseOperator;
  dagRun: DagRunInfo;
  tryNumber: number;
  /** Default -1 (not mapped). */
  mapIndex?: number;
  xcom: XComAccessors;
  /** Variables pre-loaded by the runner (templates read them synchronously); a Map will do. */
  variables?: Lookup<string>;
  connections?: Lookup<ConnectionInfo>;
  testMode?: boolean;
  /** Receives each task log line. */
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Airflow's [core] dag_run_conf_overrides_params; default true. */
  dagRunConfOverridesParams?: boolean;
  taskReschedules?: TaskReschedules;
  dagRuns?: DagRunClient;
}

export function buildTaskContext(input: TaskContextInput): TaskContext {
  const { dag, task, dagRun } = input;
  const logicalDate = new TemplateDate(dagRun.logicalDate.getTime());
  const dataIntervalStart = new TemplateDate(dagRun.dataIntervalStart.getTime());
  const dataIntervalEnd = new TemplateDate(dagRun.dataIntervalEnd.getTime());
  const ti = taskInstanceHandle(input);
  const dagRunContext: DagRunContext = {
    ...dagRun,
    logicalDate,
    dataIntervalStart,
    dataIntervalEnd,
    dagId: dag.dagId,
    dag_id: dag.dagId,
    run_id: dagRun.runId,
    run_type: dagRun.runType,
    logical_date: logicalDate,
    data_interval_start: dataIntervalStart,
    data_interval_end: dataIntervalEnd,
  };
  const variables: Lookup<string> = input.variables ?? new Map<string, string>();
  const dsNodash = DATE_FILTERS.ds_nodash(logicalDate);
  const tsNodash = DATE_FILTERS.ts_nodash(logicalDate);
  const testMode = input.testMode ?? false;
  return {
    dag,
    task,
    ti,
    task_instance: ti,
    taskInstance: ti,
    dag_run: dagRunContext,
    dagRun: dagRunContext,
    run_id: dagRun.runId,
    runId: dagRun.runId,
    ds: DATE_FILTERS.ds(logicalDate),
    ds_nodash: dsNodash,
    dsNodash,
    ts: DATE_FILTERS.ts(logicalDate),
    ts_nodash: tsNodash,
    tsNodash,
    ts_nodash_with_tz: DATE_FILTERS.ts_nodash_with_tz(logicalDate),
    logical_date: logicalDate,
    logicalDate,
    data_interval_start: dataIntervalStart,
    dataIntervalStart,
    data_interval_end: dataIntervalEnd,
    dataIntervalEnd,
    params: taskParams(task, dagRun.conf, input.dagRunConfOverridesParams ?? true),
    var: {
      value: strictAccessor<unknown>('Variable', (key) => variables.get(key)),
      json: strictAccessor<unknown>('Variable', (key) => parseJsonVariable(key, variables.get(key))),
    },
    conn: strictAccessor('Connection', (id) => input.connections?.get(id)) as ConnectionAccessor,
    macros,
    test_mode: testMode,
    testMode,
    log: taskLogger(input.log),
    signal: input.signal ?? new AbortController().signal,
    ...(input.taskReschedules ? { taskReschedules: input.taskReschedules } : {}),
    ...(input.dagRuns ? { dagRuns: input.dagRuns } : {}),
  };
}

function taskInstanceHandle(input: TaskContextInput): TaskInstanceHandle {
  const { dag, task, dagRun, xcom } = input;
  async function xcomPull(args: XComPullArgs = {}): Promise<unknown> {
    const taskIds = args.taskIds ?? task.taskId;
    const mapIndexes = mapIndexFilter(args.mapIndexes);
    const rows = await xcom.pull({
      dagId: args.dagId ?? dag.dagId,
      taskIds: typeof taskIds === 'string' ? [taskIds] : [...taskIds],
      key: args.key ?? 'return_value',
      ...(mapIndexes && { mapIndexes }),
    });
    return xcomPullResult(rows, taskIds, args.mapIndexes, args.default);
  }
  return {
    dagId: dag.dagId,
    taskId: task.taskId,
    runId: dagRun.runId,
    mapIndex: input.mapIndex ?? -1,
    tryNumber: input.tryNumber,
    xcomPull: xcomPull as TaskInstanceHandle['xcomPull'],
    xcomPush: (key, value) => xcom.push(key, value),
    xcomListElement: async (args) => xcom.listElement?.(args),
  };
}

/** Param objects give their default; the run's conf wins when allowed (Airflow's dag_run_conf_overrides_params). */
function taskParams(task: BaseOperator, conf: Record<string, unknown>, confOverrides: boolean): Record<string, unknown> {
  const params = Object.fromEntries(Object.entries(task.params).map(([k, v]) => [k, isParam(v) ? v.value : v]));
  return confOverrides ? { ...params, ...conf } : params;
}

function parseJsonVariable(key: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AirflowError(`Variable '${key}' is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * An object whose properties are looked up on demand (`var.value.x`,
 * `conn.my_db`) and throw for unknown names, so a typo fails the task instead
 * of rendering an empty string into a command.
 */
function strictAccessor<T>(kind: 'Variable' | 'Connection', lookup: (key: string) => T | undefined): VariableAccessor {
  const target = {
    get: (key: string, defaultValue?: unknown) => lookup(key) ?? defaultValue,
    // Not '[object Object]', so nunjucks' Jinja compat does not swap in its own dict.get().
    [Symbol.toStringTag]: `${kind}Accessor`,
  };
  return new Proxy(target, {
    get(t, prop) {
      if (typeof prop === 'symbol' || prop === 'get') return Reflect.get(t, prop);
      const value = lookup(prop);
      if (value !== undefined) return value;
      // Probes by await, JSON.stringify, printers (toString, ...) are not lookups.
      if (prop in t || prop === 'then' || prop === 'toJSON') return Reflect.get(t, prop);
      throw new AirflowError(`${kind} '${prop}' does not exist; define it, or use ${kind === 'Variable' ? 'var.value' : 'conn'}.get('${prop}', default)`);
    },
  }) as unknown as VariableAccessor;
}

function taskLogger(sink: (line: string) => void): TaskLogger {
  const write = (level: string) => (message: string) => {
    const time = new Date().toISOString();
    for (const line of String(message).split('\n')) sink(`[${time}] ${level} - ${line}`);
  };
  return { info: write('INFO'), warn: write('WARNING'), error: write('ERROR') };
}

const currentContext = new AsyncLocalStorage<TaskContext>();

/** Runs `fn` with `context` as what getCurrentContext() returns, across its awaits. */
export function runWithContext<T>(context: TaskContext, fn: () => T): T {
  return currentContext.run(context, fn);
}

/** Airflow's get_current_context(): the context of the task running this code. */
export function getCurrentContext(): TaskContext {
  const context = currentContext.getStore();
  if (!context) throw new AirflowError('getCurrentContext() was called outside a running task; call it inside the task function');
  return context;
}
