/**
 * ExternalTaskSensor: waits for another DAG's task, tasks, task group or whole run at the same logical date
 * (or one shifted by executionDelta, or the dates executionDateFn returns) to reach allowedStates (Airflow's
 * ExternalTaskSensor). Any of them in failedStates fails it (skips it with softFail); all of them in
 * skippedStates skips it. A mapped task counts once all its instances are in a state. States are read through
 * the context's `dagRuns` (the task runner's database access).
 */
import { taskFail } from '../../core/baseOperator.ts';
import { dagRunsOf } from '../../core/dagRunClient.ts';
import { durationMs } from '../../core/definitionChecks.ts';
import type { Duration } from '../../core/duration.ts';
import { AirflowError, AirflowSkipException } from '../../core/errors.ts';
import { DAG_RUN_STATES, TASK_INSTANCE_STATES } from '../../core/state.ts';
import type { TaskContext } from '../../core/taskContext.ts';
import { stateUnits, WorkflowTrigger } from '../triggers/externalTaskTrigger.ts';
import { BaseSensorOperator, type BaseSensorOperatorOptions } from './baseSensorOperator.ts';

/** Maps the sensor's logical date to the external run's logical date(s) (Airflow's execution_date_fn). */
export type ExecutionDateFn = (logicalDate: Date, context: TaskContext) => Date | Date[];

export interface ExternalTaskSensorOptions extends BaseSensorOperatorOptions {
  /** Templated: the DAG to wait for. */
  externalDagId: string;
  /** Templated: one task to wait for. Without it, externalTaskIds or externalTaskGroupId, the whole run. */
  externalTaskId?: string;
  /** Templated: several tasks, all of which must reach allowedStates. */
  externalTaskIds?: string[];
  /** Templated: every task of this task group. */
  externalTaskGroupId?: string;
  /** Default ['success']: task-instance states with tasks, dag-run states for a whole run. */
  allowedStates?: string[];
  /** Default []: any of them fails the sensor (skips it with softFail). */
  failedStates?: string[];
  /** Default []: all of them skip the sensor. */
  skippedStates?: string[];
  /** The external run's logical date is this much earlier than this run's. */
  executionDelta?: Duration;
  /** The external runs' logical dates, from this run's; instead of executionDelta. */
  executionDateFn?: ExecutionDateFn;
  /** Fail at once when the external DAG or its tasks do not exist. */
  checkExistence?: boolean;
}

export class ExternalTaskSensor extends BaseSensorOperator {
  static override readonly templateFields: readonly string[] = ['externalDagId', 'externalTaskIds', 'externalTaskGroupId'];

  readonly externalDagId: string;
  /** One task is kept as a list of one, as Airflow does. */
  readonly externalTaskIds: string[] | null;
  readonly externalTaskGroupId: string | null;
  readonly allowedStates: string[];
  readonly failedStates: string[];
  readonly skippedStates: string[];
  readonly executionDeltaMs: number | null;
  readonly executionDateFn: ExecutionDateFn | null;
  readonly checkExistence: boolean;

  constructor(options: ExternalTaskSensorOptions) {
    const fields = checkOptions(options);
    super(options);
    this.externalDagId = fields.externalDagId;
    this.externalTaskIds = fields.externalTaskIds;
    this.externalTaskGroupId = fields.externalTaskGroupId;
    this.allowedStates = fields.allowedStates;
    this.failedStates = fields.failedStates;
    this.skippedStates = fields.skippedStates;
    this.executionDeltaMs = fields.executionDeltaMs;
    this.executionDateFn = fields.executionDateFn;
    this.checkExistence = fields.checkExistence;
  }

  override serializeFields(): Record<string, unknown> {
    return {
      ...super.serializeFields(),
      externalDagId: this.externalDagId,
      externalTaskIds: this.externalTaskIds,
      externalTaskGroupId: this.externalTaskGroupId,
      allowedStates: this.allowedStates,
      failedStates: this.failedStates,
      skippedStates: this.skippedStates,
      executionDeltaMs: this.executionDeltaMs,
      executionDateFn: this.executionDateFn ? this.executionDateFn.name || '<anonymous>' : null,
      checkExistence: this.checkExistence,
    };
  }

  /**
   * Deferrable: pokes once, then hands the wait to a WorkflowTrigger on the same tasks and dates, polled every
   * pokeInterval (Airflow's ExternalTaskSensor(deferrable=True)); the worker slot is free meanwhile.
   */
  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    if (!this.deferrable) return super.execute(context, rendered);
    if (await this.poke(context, rendered)) return undefined;
    const { dagId, taskIds, dates } = await this.target(context, rendered);
    const trigger = new WorkflowTrigger({
      externalDagId: dagId,
      externalTaskIds: taskIds,
      logicalDates: dates.map((d) => d.toISOString()),
      allowedStates: this.allowedStates,
      failedStates: this.failedStates,
      skippedStates: this.skippedStates,
      pokeIntervalMs: this.pokeIntervalMs,
    });
    return this.defer({ trigger, method: 'executeComplete', timeout: this.timeoutMs });
  }

  /** Where the deferred sensor resumes: the trigger's status decides, as a poke would have. */
  override executeComplete(context: TaskContext, event: unknown): unknown {
    const { status, message } = (event ?? {}) as { status?: string; message?: string };
    const what = `DAG '${this.externalDagId}': ${message ?? ''}`;
    if (status === 'failed') throw this.softFail ? new AirflowSkipException(what) : new AirflowError(what);
    if (status === 'skipped') throw new AirflowSkipException(what);
    if (status !== 'success') throw new AirflowError(`unexpected trigger event ${JSON.stringify(event)}`);
    return super.executeComplete(context, event);
  }

  async poke(context: TaskContext, rendered: Record<string, unknown>): Promise<boolean> {
    const { dagId, taskIds, dates, what } = await this.target(context, rendered);
    context.log.info(`Poking for ${what} on ${dates.map((d) => d.toISOString()).join(', ')} ...`);
    if (taskIds && taskIds.length === 0) return false; // a group with no tasks (yet): nothing can be done
    const units = await stateUnits(dagRunsOf(context, this), dagId, taskIds, dates);
    const failed = units.filter((u) => u.states.some((s) => this.failedStates.includes(String(s))));
    if (failed.length > 0) {
      const message = `${what}: ${failed.map((u) => u.name).join(', ')} in a failed state (${this.failedStates.join(', ')})`;
      throw this.softFail ? new AirflowSkipException(message) : new AirflowError(message);
    }
    const all = (states: readonly string[]) => units.every((u) => u.states.length > 0 && u.states.every((s) => states.includes(String(s))));
    if (this.skippedStates.length > 0 && all(this.skippedStates))
      throw new AirflowSkipException(`${what} is in a skipped state (${this.skippedStates.join(', ')})`);
    return all(this.allowedStates);
  }

  /** What to wait for: the external DAG, its task ids (a group's members; null for whole runs) and the logical dates. */
  private async target(context: TaskContext, rendered: Record<string, unknown>) {
    const client = dagRunsOf(context, this);
    const dagId = String(rendered.externalDagId);
    const groupId = rendered.externalTaskGroupId ? String(rendered.externalTaskGroupId) : null;
    const named = (rendered.externalTaskIds as string[] | null) ?? null;
    const dates = this.externalDates(context);
    const tasks = this.checkExistence || groupId ? await client.tasksOf(dagId) : undefined;
    if (this.checkExistence) this.requireExisting(dagId, tasks ?? null, named, groupId);
    const taskIds = groupId ? (tasks ?? []).filter((t) => t.taskGroupId === groupId || t.taskGroupId?.startsWith(`${groupId}.`)).map((t) => t.taskId) : named;
    const what = taskIds ? `tasks ${taskIds.join(', ')}${groupId ? ` (task group ${groupId})` : ''} of DAG '${dagId}'` : `DAG '${dagId}'`;
    return { dagId, taskIds, dates, what };
  }

  /** The external logical dates: this run's, shifted back by executionDelta, or what executionDateFn returns. */
  private externalDates(context: TaskContext): Date[] {
    const logicalDate = new Date(context.logicalDate.getTime());
    if (this.executionDateFn) {
      const result = this.executionDateFn(logicalDate, context);
      const list = Array.isArray(result) ? result : [result];
      if (list.length === 0 || list.some((d) => !(d instanceof Date) || Number.isNaN(d.getTime()))) {
        throw new AirflowError(`executionDateFn of '${this.taskId}' must return a Date or a non-empty list of Dates, got ${JSON.stringify(result)}`);
      }
      return list;
    }
    return [new Date(logicalDate.getTime() - (this.executionDeltaMs ?? 0))];
  }

  private requireExisting(dagId: string, tasks: { taskId: string; taskGroupId?: string }[] | null, named: string[] | null, groupId: string | null): void {
    const fail = (message: string): never => {
      throw this.softFail ? new AirflowSkipException(message) : new AirflowError(message);
    };
    if (tasks === null) fail(`The external DAG '${dagId}' does not exist.`);
    const ids = new Set(tasks!.map((t) => t.taskId));
    for (const id of named ?? []) if (!ids.has(id)) fail(`The external task '${id}' in DAG '${dagId}' does not exist.`);
    if (groupId && !tasks!.some((t) => t.taskGroupId === groupId || t.taskGroupId?.startsWith(`${groupId}.`))) {
      fail(`The external task group '${groupId}' in DAG '${dagId}' does not exist.`);
    }
  }
}

function checkOptions(options: ExternalTaskSensorOptions) {
  const fail = (message: string): never => taskFail(options?.dag?.dagId, options?.taskId, message);
  const o = options ?? ({} as ExternalTaskSensorOptions);
  if (typeof o.externalDagId !== 'string' || o.externalDagId === '')
    fail(`externalDagId must be the id of the DAG to wait for, got ${JSON.stringify(o.externalDagId)}`);
  const given = (['externalTaskId', 'externalTaskIds', 'externalTaskGroupId'] as const).filter((k) => o[k] !== undefined && o[k] !== null);
  if (given.length > 1) fail(`give only one of externalTaskId, externalTaskIds and externalTaskGroupId, got ${given.join(' and ')}`);
  if (o.externalTaskId !== undefined && (typeof o.externalTaskId !== 'string' || o.externalTaskId === '')) fail('externalTaskId must be a task id');
  if (
    o.externalTaskIds !== undefined &&
    (!Array.isArray(o.externalTaskIds) || o.externalTaskIds.length === 0 || o.externalTaskIds.some((t) => typeof t !== 'string'))
  ) {
    fail(`externalTaskIds must be a non-empty list of task ids, got ${JSON.stringify(o.externalTaskIds)}`);
  }
  if (o.externalTaskIds && new Set(o.externalTaskIds).size !== o.externalTaskIds.length)
    fail(`externalTaskIds has duplicates: ${JSON.stringify(o.externalTaskIds)}`);
  if (o.externalTaskGroupId !== undefined && (typeof o.externalTaskGroupId !== 'string' || o.externalTaskGroupId === ''))
    fail('externalTaskGroupId must be a task group id');
  const externalTaskIds = o.externalTaskIds ? [...o.externalTaskIds] : o.externalTaskId ? [o.externalTaskId] : null;
  // Task-instance states when waiting for tasks, dag-run states for a whole run.
  const allowed: readonly string[] = externalTaskIds || o.externalTaskGroupId ? TASK_INSTANCE_STATES : DAG_RUN_STATES;
  const states = (key: 'allowedStates' | 'failedStates' | 'skippedStates', fallback: string[]): string[] => {
    const value = o[key] ?? fallback;
    if (!Array.isArray(value) || value.some((s) => !allowed.includes(s)))
      fail(`${key} must be a list of states from ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    return [...value];
  };
  const allowedStates = states('allowedStates', ['success']);
  const failedStates = states('failedStates', []);
  const skippedStates = states('skippedStates', []);
  const overlap = [...allowedStates, ...failedStates, ...skippedStates].filter((s, i, all) => all.indexOf(s) !== i);
  if (overlap.length) fail(`allowedStates, failedStates and skippedStates must not share states, got ${[...new Set(overlap)].join(', ')} twice`);
  if (o.executionDelta !== undefined && o.executionDateFn !== undefined) fail('give executionDelta or executionDateFn, not both');
  if (o.executionDateFn !== undefined && typeof o.executionDateFn !== 'function')
    fail('executionDateFn must be a function (logicalDate, context) => Date | Date[]');
  const checkExistence = o.checkExistence ?? false;
  if (typeof checkExistence !== 'boolean') fail(`checkExistence must be true or false, got ${JSON.stringify(checkExistence)}`);
  return {
    externalDagId: o.externalDagId,
    externalTaskIds,
    externalTaskGroupId: o.externalTaskGroupId ?? null,
    allowedStates,
    failedStates,
    skippedStates,
    executionDeltaMs: o.executionDelta === undefined ? null : durationMs(o.executionDelta, 'executionDelta', fail),
    executionDateFn: o.executionDateFn ?? null,
    checkExistence,
  };
}
