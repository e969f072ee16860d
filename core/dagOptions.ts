/**
 * What `new DAG({...})` accepts, and the checks that turn those options into
 * the DAG's fields: everything that can be checked on its own (id, schedule,
 * dates, timezone), each failure a DagDefinitionError that says what to write.
 */
import type { BaseOperatorOptions, TaskCallback } from './baseOperator.ts';
import { toCallback, type CallbackSpec } from './callbacks.ts';
import type { Duration } from './duration.ts';
import { checkId, checkKeys, durationMs } from './definitionChecks.ts';
import { DagDefinitionError } from './errors.ts';
import { serializeParams } from './param.ts';
import { CronDataIntervalTimetable } from './timetables/cronTimetable.ts';
import { CRON_PRESETS } from './timetables/presets.ts';

/** Task options a DAG may give all its tasks (Airflow's default_args). */
export type TaskDefaults = Partial<Omit<BaseOperatorOptions, 'dag' | 'taskId' | 'taskGroup'>>;

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
  /** Run when a run of this DAG succeeds / fails: a function, a notifier or a list of them. They run in the DAG processor, never the scheduler (ADR 0022). */
  onSuccessCallback?: CallbackSpec;
  onFailureCallback?: CallbackSpec;
}

/** Normalized schedule: a preset or cron string, a fixed interval, or null (manual only). */
export type Schedule = string | { everyMs: number } | null;

/** A DAG's options, checked and normalized: the fields of the DAG. */
export interface DagFields {
  dagId: string;
  schedule: Schedule;
  startDate: Date | null;
  endDate: Date | null;
  catchup: boolean | undefined;
  timezone: string;
  defaultArgs: TaskDefaults;
  params: Record<string, unknown>;
  tags: string[];
  description: string | null;
  maxActiveRuns: number | null;
  maxActiveTasks: number | null;
  dagrunTimeoutMs: number | null;
  isPausedUponCreation: boolean | undefined;
  doc: string | null;
  onSuccessCallback: TaskCallback | null;
  onFailureCallback: TaskCallback | null;
}

/** Presets and the cron they stand for; '@once' has none (one run at startDate). */
export const SCHEDULE_PRESETS: Readonly<Record<string, string | null>> = Object.fromEntries(
  Object.entries({ '@once': null, ...CRON_PRESETS }).filter(([name]) => name !== '@annually'),
);
const PRESET_ALIASES: Readonly<Record<string, string>> = { '@annually': '@yearly' };

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
  'onSuccessCallback',
  'onFailureCallback',
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
  'maxActiveTisPerDag',
  'maxActiveTisPerDagrun',
  'queue',
  'params',
  'doc',
  'onSuccessCallback',
  'onFailureCallback',
  'onRetryCallback',
  'email',
  'emailOnFailure',
  'emailOnRetry',
  'executorConfig',
] as const satisfies readonly (keyof TaskDefaults)[];
// Compile-time guard: adding a BaseOperator option without listing it above is a type error here.
const allTaskDefaultKeysListed: Exclude<keyof TaskDefaults, (typeof TASK_DEFAULT_KEYS)[number]> extends never ? true : never = true;
void allTaskDefaultKeysListed;

/** Checks `options` (what a DAG file passed to new DAG()) and returns the DAG's fields. */
export function checkDagOptions(options: DagOptions): DagFields {
  if (typeof options !== 'object' || options === null) throw new DagDefinitionError('new DAG() needs an options object: new DAG({ dagId: "my_dag", ... })');
  const dagId = options.dagId;
  checkId('DAG id', dagId);
  const fail = (message: string): never => {
    throw new DagDefinitionError(`DAG '${dagId}': ${message}`, dagId);
  };
  checkKeys(options, DAG_OPTION_KEYS, `DAG '${dagId}' option`, dagId);

  const timezone = options.timezone ?? 'UTC';
  if (!isValidTimezone(timezone)) fail(`timezone ${JSON.stringify(timezone)} is not a known IANA timezone; use a name like 'UTC' or 'Europe/Amsterdam'`);
  const schedule = normalizeSchedule(options.schedule, timezone, fail);

  const startDate = optionalDate(options.startDate, 'startDate', fail);
  const endDate = optionalDate(options.endDate, 'endDate', fail);
  if (schedule !== null && startDate === null) {
    const message = `DAG '${dagId}' has schedule ${showSchedule(options.schedule)} but no startDate; add startDate: new Date(...)`;
    throw new DagDefinitionError(message, dagId);
  }
  if (startDate && endDate && endDate < startDate) {
    fail(`endDate ${endDate.toISOString()} is before startDate ${startDate.toISOString()}; endDate must be on or after startDate`);
  }

  const catchup = optionalType(options.catchup, 'boolean', 'catchup', fail);
  const isPausedUponCreation = optionalType(options.isPausedUponCreation, 'boolean', 'isPausedUponCreation', fail);
  const description = optionalType(options.description, 'string', 'description', fail) ?? null;
  const doc = optionalType(options.doc, 'string', 'doc', fail) ?? null;
  const maxActiveRuns = optionalPositiveInt(options.maxActiveRuns, 'maxActiveRuns', fail);
  const maxActiveTasks = optionalPositiveInt(options.maxActiveTasks, 'maxActiveTasks', fail);
  const dagrunTimeoutMs = options.dagrunTimeout === undefined ? null : durationMs(options.dagrunTimeout, 'dagrunTimeout', fail);

  const tags = options.tags ?? [];
  if (!Array.isArray(tags)) fail(`tags must be an array of strings, got ${JSON.stringify(tags)}`);
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag === '' || tag.length > 100) fail(`tag ${JSON.stringify(tag)} must be a non-empty string of at most 100 characters`);
  }

  const params = { ...(options.params ?? {}) };
  serializeParams(params, { dagId }); // fail now, at the line that defined them, not at serialization

  const defaults = options.defaultArgs ?? {};
  if (typeof defaults !== 'object' || defaults === null) fail(`defaultArgs must be an object of task options`);
  checkKeys(defaults, TASK_DEFAULT_KEYS, `DAG '${dagId}' defaultArgs key`, dagId);

  return {
    dagId,
    schedule,
    startDate,
    endDate,
    catchup,
    timezone,
    defaultArgs: { ...defaults },
    params,
    tags: [...tags],
    description,
    maxActiveRuns,
    maxActiveTasks,
    dagrunTimeoutMs,
    isPausedUponCreation,
    doc,
    onSuccessCallback: toCallback(options.onSuccessCallback, 'onSuccessCallback', fail),
    onFailureCallback: toCallback(options.onFailureCallback, 'onFailureCallback', fail),
  };
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
