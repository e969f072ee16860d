/**
 * The DAG: a named set of tasks plus when to run them. Constructing one
 * checks everything that can be checked on its own (id, schedule, dates,
 * timezone); `validate()` checks what needs all edges (cycles).
 * Pure: no database, no I/O.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BaseOperator, BaseOperatorOptions } from './baseOperator.ts';
import { toMs, type Duration } from './duration.ts';
import { DagCycleError, DagDefinitionError } from './errors.ts';
import { serializeParams } from './param.ts';
import { CronDataIntervalTimetable } from './timetables/cronTimetable.ts';
import { CRON_PRESETS } from './timetables/presets.ts';

/** Task options a DAG may give all its tasks (Airflow's default_args). */
export type TaskDefaults = Partial<Omit<BaseOperatorOptions, 'dag' | 'taskId'>>;

export interface DagOptions {
  dagId: string;
  /** Cron expression, preset ('@daily'...), a Duration (fixed interval), or null/undefined for manual runs only. */
  schedule?: string | Duration | null;
  startDate?: Date;
  endDate?: Date;
  catchup?: boolean;
  /** IANA timezone the schedule is read in; default 'UTC'. */
  timezone?: string;
  defaultArgs?: TaskDefaults;
  params?: Record<string, unknown>;
  tags?: string[];
  description?: string;
  maxActiveRuns?: number;
  maxActiveTasks?: number;
  dagrunTimeout?: Duration;
  isPausedUponCreation?: boolean;
  /** Markdown shown in the UI. */
  doc?: string;
}

/** Normalized schedule: a preset or cron string, a fixed interval, or null (manual only). */
export type Schedule = string | { everyMs: number } | null;

/** Where a DAG or task was written; `line` is null when the stack gave no location. */
export interface DefinedAt {
  file: string;
  line: number | null;
}

/** Presets and the cron they stand for; '@once' has none (one run at startDate). */
export const SCHEDULE_PRESETS: Readonly<Record<string, string | null>> = Object.fromEntries(
  Object.entries({ '@once': null, ...CRON_PRESETS }).filter(([name]) => name !== '@annually'),
);
const PRESET_ALIASES: Readonly<Record<string, string>> = { '@annually': '@yearly' };

export const ID_PATTERN = /^[A-Za-z0-9_.-]+$/;
export const MAX_ID_LENGTH = 250;

const DAG_BRAND: unique symbol = Symbol.for('airflow-ts.dag');
const CREATED_DAGS = Symbol.for('airflow-ts.createdDags');

const DAG_OPTION_KEYS: readonly (keyof DagOptions)[] = [
  'dagId',
  'schedule',
  'startDate',
  'endDate',
  'catchup',
  'timezone',
  'defaultArgs',
  'params',
  'tags',
  'description',
  'maxActiveRuns',
  'maxActiveTasks',
  'dagrunTimeout',
  'isPausedUponCreation',
  'doc',
];
export const TASK_DEFAULT_KEYS = [
  'owner',
  'retries',
  'retryDelay',
  'retryExponentialBackoff',
  'maxRetryDelay',
  'executionTimeout',
  'triggerRule',
  'dependsOnPast',
  'pool',
  'poolSlots',
  'priorityWeight',
  'queue',
  'params',
  'doc',
  'onSuccessCallback',
  'onFailureCallback',
  'onRetryCallback',
  'executorConfig',
] as const satisfies readonly (keyof TaskDefaults)[];
// Compile-time guard: adding a BaseOperator option without listing it above is a type error here.
const allTaskDefaultKeysListed: Exclude<keyof TaskDefaults, (typeof TASK_DEFAULT_KEYS)[number]> extends never ? true : never = true;
void allTaskDefaultKeysListed;

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
  readonly definedAt: DefinedAt;
  private readonly taskMap = new Map<string, BaseOperator>();

  constructor(options: DagOptions) {
    if (typeof options !== 'object' || options === null) throw new DagDefinitionError('new DAG() needs an options object: new DAG({ dagId: "my_dag", ... })');
    const dagId = options.dagId;
    checkId('DAG id', dagId);
    const fail = (message: string): never => {
      throw new DagDefinitionError(`DAG '${dagId}': ${message}`, dagId);
    };
    checkKeys(options, DAG_OPTION_KEYS, `DAG '${dagId}' option`, dagId);

    this.dagId = dagId;
    this.timezone = options.timezone ?? 'UTC';
    if (!isValidTimezone(this.timezone))
      fail(`timezone ${JSON.stringify(this.timezone)} is not a known IANA timezone; use a name like 'UTC' or 'Europe/Amsterdam'`);
    this.schedule = normalizeSchedule(options.schedule, this.timezone, fail);

    this.startDate = optionalDate(options.startDate, 'startDate', fail);
    this.endDate = optionalDate(options.endDate, 'endDate', fail);
    if (this.schedule !== null && this.startDate === null) {
      const message = `DAG '${dagId}' has schedule ${showSchedule(options.schedule)} but no startDate; add startDate: new Date(...)`;
      throw new DagDefinitionError(message, dagId);
    }
    if (this.startDate && this.endDate && this.endDate < this.startDate) {
      fail(`endDate ${this.endDate.toISOString()} is before startDate ${this.startDate.toISOString()}; endDate must be on or after startDate`);
    }

    this.catchup = optionalType(options.catchup, 'boolean', 'catchup', fail);
    this.isPausedUponCreation = optionalType(options.isPausedUponCreation, 'boolean', 'isPausedUponCreation', fail);
    this.description = optionalType(options.description, 'string', 'description', fail) ?? null;
    this.doc = optionalType(options.doc, 'string', 'doc', fail) ?? null;
    this.maxActiveRuns = optionalPositiveInt(options.maxActiveRuns, 'maxActiveRuns', fail);
    this.maxActiveTasks = optionalPositiveInt(options.maxActiveTasks, 'maxActiveTasks', fail);
    this.dagrunTimeoutMs = options.dagrunTimeout === undefined ? null : durationMs(options.dagrunTimeout, 'dagrunTimeout', fail);

    const tags = options.tags ?? [];
    if (!Array.isArray(tags)) fail(`tags must be an array of strings, got ${JSON.stringify(tags)}`);
    for (const tag of tags) {
      if (typeof tag !== 'string' || tag === '' || tag.length > 100) fail(`tag ${JSON.stringify(tag)} must be a non-empty string of at most 100 characters`);
    }
    this.tags = [...tags];

    this.params = { ...(options.params ?? {}) };
    serializeParams(this.params, { dagId }); // fail now, at the line that defined them, not at serialization

    const defaults = options.defaultArgs ?? {};
    if (typeof defaults !== 'object' || defaults === null) fail(`defaultArgs must be an object of task options`);
    checkKeys(defaults, TASK_DEFAULT_KEYS, `DAG '${dagId}' defaultArgs key`, dagId);
    this.defaultArgs = { ...defaults };

    this.definedAt = callerLocation(constructorFrames(new.target));
    createdDags().push(this);
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
    this.taskMap.set(task.taskId, task);
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

/** Returns, and forgets, the DAGs constructed since the last call (used by the DAG file parser). */
export function takeCreatedDags(): DAG[] {
  const list = createdDags();
  return list.splice(0, list.length);
}

// On globalThis so that every copy of this module shares one list.
function createdDags(): DAG[] {
  const g = globalThis as Record<symbol, unknown>;
  return (g[CREATED_DAGS] ??= []) as DAG[];
}

/** Throws unless `id` follows Airflow's id rule (letters, digits, '_', '.', '-'; at most 250 chars). */
export function checkId(kind: 'DAG id' | 'Task id', id: unknown, dagId?: string): asserts id is string {
  const where = kind === 'Task id' && dagId ? ` in DAG '${dagId}'` : '';
  const err = (message: string) => new DagDefinitionError(message, kind === 'DAG id' ? undefined : dagId, undefined);
  if (typeof id !== 'string' || id === '') {
    throw err(`${kind}${where} is required and must be a non-empty string, got ${JSON.stringify(id)}`);
  }
  if (id.length > MAX_ID_LENGTH) {
    throw err(`${kind} '${id.slice(0, 40)}...'${where} is ${id.length} characters long; the limit is ${MAX_ID_LENGTH}`);
  }
  if (!ID_PATTERN.test(id)) {
    throw err(`${kind} '${id}'${where} is invalid: use only letters, digits, '_', '.' and '-' (e.g. '${id.replace(/[^A-Za-z0-9_.-]/g, '_')}')`);
  }
}

/** Rejects keys not in `allowed`, suggesting the camelCase name for Airflow's snake_case ones. */
export function checkKeys(options: object, allowed: readonly string[], what: string, dagId?: string, taskId?: string): void {
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const hint = allowed.includes(camel) ? `; did you mean '${camel}'?` : `; allowed: ${allowed.join(', ')}`;
    throw new DagDefinitionError(`${what} '${key}' is unknown${hint}`, dagId, taskId);
  }
}

/** Converts a Duration to ms, turning toMs's TypeError into a DagDefinitionError via `fail`. */
export function durationMs(value: Duration, what: string, fail: (message: string) => never): number {
  try {
    return toMs(value, what);
  } catch (err) {
    return fail((err as Error).message);
  }
}

/**
 * Definition sites cost a formatted, source-mapped stack trace per DAG and
 * task (~0.12 ms each: ~50 ms of a 400-task DAG file's import). The task
 * runner never reports them (the parser does, into the serialized DAG and
 * import errors), so it imports DAG files without them.
 */
// On globalThis: a DAG file in a CommonJS folder gets its own (CommonJS) copy of this module.
const SITES_OFF = Symbol.for('airflow-ts.definitionSitesOff');
const sitesOff = globalThis as { [SITES_OFF]?: number };
const NOT_RECORDED: DefinedAt = Object.freeze({ file: '<not recorded when imported by the task runner>', line: null });

export async function withoutDefinitionSites<T>(load: () => Promise<T>): Promise<T> {
  sitesOff[SITES_OFF] = (sitesOff[SITES_OFF] ?? 0) + 1;
  try {
    return await load();
  } finally {
    sitesOff[SITES_OFF]! -= 1;
  }
}

/**
 * Where user code made the current call: the first stack frame outside this
 * package's core/ and operators/ folders, also skipping `skipFrames` (the
 * constructors of user subclasses, e.g. 'new MyOperator').
 */
export function callerLocation(skipFrames: ReadonlySet<string> = new Set()): DefinedAt {
  if ((sitesOff[SITES_OFF] ?? 0) > 0) return NOT_RECORDED;
  // Formatting (and source-mapping) frames is the slow part, so look at a few first, more only if needed.
  for (const depth of [12, 60]) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = depth;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    const frames = stack.split('\n').flatMap(parseFrame);
    const own = frames[0]; // this function, in core/dag.ts: tells us where the package lives
    if (!own) break;
    const root = path.dirname(path.dirname(own.file));
    const internal = ['core', 'operators'].map((dir) => path.join(root, dir) + path.sep);
    const user = frames.find((f) => !internal.some((dir) => f.file.startsWith(dir)) && !skipFrames.has(f.fn));
    if (user) return { file: user.file, line: user.line };
  }
  return { file: '<unknown>', line: null };
}

/** 'new X' for `ctor` and each class it extends, as V8 names those constructor frames. */
export function constructorFrames(ctor: unknown): Set<string> {
  const names = new Set<string>();
  for (let c = ctor; typeof c === 'function' && c.name; c = Object.getPrototypeOf(c)) names.add(`new ${c.name}`);
  return names;
}

// "    at fn (file:///a/b.ts?v=1:3:7)" or "    at /a/b.ts:3:7" -> { fn, file: '/a/b.ts', line: 3 }
function parseFrame(text: string): { fn: string; file: string; line: number }[] {
  const m = /^\s*at (?:(.*?) \()?(.+?):(\d+):\d+\)?$/.exec(text);
  if (!m || !m[2] || m[2].startsWith('node:')) return [];
  const location = m[2].replace(/\?.*$/, '');
  const file = location.startsWith('file://') ? fileURLToPath(location) : location;
  return [{ fn: m[1] ?? '', file, line: Number(m[3]) }];
}

function normalizeSchedule(schedule: DagOptions['schedule'], timezone: string, fail: (m: string) => never): Schedule {
  if (schedule === null || schedule === undefined) return null;
  if (typeof schedule !== 'string') {
    const everyMs = durationMs(schedule, 'schedule', fail);
    if (everyMs <= 0) fail(`schedule ${showSchedule(schedule)} is an empty interval; use a positive Duration like { hours: 1 }`);
    return { everyMs };
  }
  const expr = schedule.trim();
  if (expr.startsWith('@')) {
    const preset = PRESET_ALIASES[expr] ?? expr;
    if (!(preset in SCHEDULE_PRESETS)) {
      fail(`unknown schedule preset '${expr}'; allowed presets: ${[...Object.keys(SCHEDULE_PRESETS), ...Object.keys(PRESET_ALIASES)].join(', ')}`);
    }
    return preset;
  }
  try {
    new CronDataIntervalTimetable(expr, timezone); // the timetable the scheduler will use validates the expression
  } catch (err) {
    if (/never fires/.test((err as Error).message)) fail(`schedule '${expr}' never matches a date; check the day and month fields`);
    return fail(`schedule '${expr}' is not a valid 5-field cron expression (minute hour day-of-month month day-of-week): ${(err as Error).message}`);
  }
  return expr;
}

function showSchedule(schedule: DagOptions['schedule']): string {
  return typeof schedule === 'string' ? `'${schedule}'` : JSON.stringify(schedule);
}

function isValidTimezone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || timeZone === '') return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
    return true;
  } catch {
    return false;
  }
}

function optionalDate(value: unknown, what: string, fail: (m: string) => never): Date | null {
  if (value === undefined || value === null) return null;
  if (!(value instanceof Date)) return fail(`${what} must be a Date, got ${JSON.stringify(value)}; use ${what}: new Date('2024-01-01T00:00:00Z')`);
  if (Number.isNaN(value.getTime())) return fail(`${what} is an invalid Date (new Date() could not parse its input)`);
  return new Date(value.getTime()); // a copy, so later mutation by the caller cannot move it
}

function optionalType<T extends 'boolean' | 'string'>(
  value: unknown,
  type: T,
  what: string,
  fail: (m: string) => never,
): (T extends 'boolean' ? boolean : string) | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== type) fail(`${what} must be a ${type}, got ${JSON.stringify(value)}`);
  return value as T extends 'boolean' ? boolean : string;
}

function optionalPositiveInt(value: unknown, what: string, fail: (m: string) => never): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isInteger(value) || (value as number) < 1) fail(`${what} must be a positive integer, got ${JSON.stringify(value)}`);
  return value as number;
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
