/**
 * TriggerDagRunOperator: starts a run of another DAG (Airflow's TriggerDagRunOperator), optionally
 * waiting until it ends. The run is created through the context's `dagRuns` (the task runner's
 * services), so it is checked against the target's params and wakes the scheduler like any manual run.
 * The triggered run's id and logical date go to XCom (`trigger_run_id`, `trigger_logical_date_iso`),
 * which the task-instance page turns into its "Triggered DAG" link.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { BaseOperator, taskFail, type BaseOperatorOptions } from '../core/baseOperator.ts';
import { dagRunsOf, type DagRunClient, type TriggeredRun } from '../core/dagRunClient.ts';
import { durationMs } from '../core/definitionChecks.ts';
import type { Duration } from '../core/duration.ts';
import { AirflowError, AirflowSkipException, DagRunAlreadyExistsError } from '../core/errors.ts';
import { parseIsoDate } from '../core/isoDate.ts';
import { DAG_RUN_STATES } from '../core/state.ts';
import type { TaskContext } from '../core/taskContext.ts';
import { DagStateTrigger } from './triggers/externalTaskTrigger.ts';
import { isPlainObject } from '../core/xcomArg.ts';

/** The XCom keys the operator pushes (Airflow's XCOM_RUN_ID, XCOM_LOGICAL_DATE_ISO). */
export const XCOM_RUN_ID = 'trigger_run_id';
export const XCOM_LOGICAL_DATE_ISO = 'trigger_logical_date_iso';

export interface TriggerDagRunOperatorOptions extends BaseOperatorOptions {
  /** Templated: the DAG to trigger. */
  triggerDagId: string;
  /** Templated: the new run's id; default `manual__<logical date>`. */
  triggerRunId?: string;
  /** Templated (strings inside it): the new run's conf. */
  conf?: Record<string, unknown>;
  /** Templated: the new run's logical date (ISO 8601 or a Date); default now. */
  logicalDate?: string | Date;
  /** When the run exists already: clear it so it runs again (else the task fails, or skips with skipWhenAlreadyExists). */
  resetDagRun?: boolean;
  /** When the run exists already (and resetDagRun is off): end as skipped instead of failed. */
  skipWhenAlreadyExists?: boolean;
  /** Wait, holding the worker slot, until the triggered run is in allowedStates (success) or failedStates (failure). */
  waitForCompletion?: boolean;
  /** How often the wait checks the run's state; default { seconds: 60 }. */
  pokeInterval?: Duration;
  /** Default ['success']. */
  allowedStates?: string[];
  /** Default ['failed']. */
  failedStates?: string[];
  /** With waitForCompletion: hand the wait to the triggerer (a DagStateTrigger), freeing the worker slot. */
  deferrable?: boolean;
}

export class TriggerDagRunOperator extends BaseOperator {
  static override readonly templateFields: readonly string[] = ['triggerDagId', 'triggerRunId', 'logicalDate', 'conf'];

  readonly triggerDagId: string;
  readonly triggerRunId: string | null;
  readonly conf: Record<string, unknown>;
  readonly logicalDate: string | null;
  readonly resetDagRun: boolean;
  readonly skipWhenAlreadyExists: boolean;
  readonly waitForCompletion: boolean;
  readonly pokeIntervalMs: number;
  readonly allowedStates: string[];
  readonly failedStates: string[];
  readonly deferrable: boolean;

  constructor(options: TriggerDagRunOperatorOptions) {
    // Checked before super(), which adds the task to the DAG: a bad option must not leave a half-made task behind.
    const fields = checkOptions(options);
    super(options);
    this.triggerDagId = fields.triggerDagId;
    this.triggerRunId = fields.triggerRunId;
    this.conf = fields.conf;
    this.logicalDate = fields.logicalDate;
    this.resetDagRun = fields.resetDagRun;
    this.skipWhenAlreadyExists = fields.skipWhenAlreadyExists;
    this.waitForCompletion = fields.waitForCompletion;
    this.pokeIntervalMs = fields.pokeIntervalMs;
    this.allowedStates = fields.allowedStates;
    this.failedStates = fields.failedStates;
    this.deferrable = fields.deferrable;
  }

  serializeFields(): Record<string, unknown> {
    return {
      triggerDagId: this.triggerDagId,
      triggerRunId: this.triggerRunId,
      conf: this.conf,
      logicalDate: this.logicalDate,
      resetDagRun: this.resetDagRun,
      skipWhenAlreadyExists: this.skipWhenAlreadyExists,
      waitForCompletion: this.waitForCompletion,
      pokeIntervalMs: this.pokeIntervalMs,
      allowedStates: this.allowedStates,
      failedStates: this.failedStates,
      ...(this.deferrable ? { deferrable: true } : {}),
    };
  }

  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    const client = dagRunsOf(context, this);
    const dagId = String(rendered.triggerDagId);
    const runId = rendered.triggerRunId ? String(rendered.triggerRunId) : undefined;
    const logicalDate = renderedDate(rendered.logicalDate, this.taskId, this.dag.timezone);
    const conf = rendered.conf as Record<string, unknown>;
    let run: TriggeredRun;
    try {
      run = await client.trigger({ dagId, conf, ...(runId && { runId }), ...(logicalDate && { logicalDate }) });
      context.log.info(`Triggered DAG '${dagId}': run '${run.runId}' at ${run.logicalDate.toISOString()}`);
    } catch (error) {
      if (!(error instanceof DagRunAlreadyExistsError)) throw error;
      if (this.resetDagRun) {
        run = await client.reset(dagId, error.runId, error.logicalDate);
        context.log.info(`DAG '${dagId}' already had run '${run.runId}' at ${run.logicalDate.toISOString()}: cleared it (resetDagRun)`);
      } else if (this.skipWhenAlreadyExists) {
        throw new AirflowSkipException(`DAG '${dagId}' already has a run with run id '${error.runId}' or at ${error.logicalDate.toISOString()}; skipping`);
      } else throw error;
    }
    await context.ti.xcomPush(XCOM_RUN_ID, run.runId);
    await context.ti.xcomPush(XCOM_LOGICAL_DATE_ISO, run.logicalDate.toISOString());
    if (this.waitForCompletion && this.deferrable) {
      const states = [...this.allowedStates, ...this.failedStates];
      const trigger = new DagStateTrigger({ dagId, runIds: [run.runId], states, pollIntervalMs: this.pokeIntervalMs });
      context.log.info(`Deferring until DAG '${dagId}' run '${run.runId}' is ${states.join(' or ')}`);
      return this.defer({ trigger, method: 'executeComplete', kwargs: { dagId, runId: run.runId } });
    }
    if (this.waitForCompletion) await this.waitFor(client, dagId, run.runId, context);
    return undefined;
  }

  /** Where the deferred wait resumes (Airflow's execute_complete): the triggered run's state from the event. */
  executeComplete(context: TaskContext, event: unknown, kwargs: Record<string, unknown>): undefined {
    const { dagId, runId } = kwargs as { dagId: string; runId: string };
    const state = ((event ?? {}) as { states?: Record<string, string> }).states?.[runId];
    if (state === undefined || this.failedStates.includes(state)) throw new AirflowError(`DAG '${dagId}' run '${runId}' ended in failed state ${state}`);
    context.log.info(`DAG '${dagId}' run '${runId}' ended in allowed state ${state}`);
    return undefined;
  }

  /** Polls the triggered run until it is in allowedStates (done) or failedStates (the task fails); a cancelled try stops at once. */
  private async waitFor(client: DagRunClient, dagId: string, runId: string, context: TaskContext): Promise<void> {
    for (;;) {
      context.log.info(`Waiting for DAG '${dagId}' run '${runId}' to reach ${this.allowedStates.join(' or ')}; next check in ${this.pokeIntervalMs / 1000} s`);
      await delay(this.pokeIntervalMs, undefined, { signal: context.signal }).catch(() => context.signal.throwIfAborted());
      const state = await client.runState(dagId, runId);
      if (state === null) throw new AirflowError(`The run '${runId}' of DAG '${dagId}' no longer exists`);
      if (this.failedStates.includes(state)) throw new AirflowError(`DAG '${dagId}' run '${runId}' ended in failed state ${state}`);
      if (this.allowedStates.includes(state)) {
        context.log.info(`DAG '${dagId}' run '${runId}' ended in allowed state ${state}`);
        return;
      }
    }
  }
}

function renderedDate(value: unknown, taskId: string, timeZone: string): Date | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (value instanceof Date) return new Date(value.getTime());
  const parsed = typeof value === 'string' ? parseIsoDate(value, timeZone) : null;
  if (parsed) return parsed;
  throw new AirflowError(`task '${taskId}': logicalDate must render to an ISO 8601 date, got ${JSON.stringify(value)}`);
}

function checkOptions(options: TriggerDagRunOperatorOptions) {
  const fail = (message: string): never => taskFail(options?.dag?.dagId, options?.taskId, message);
  const o = options ?? ({} as TriggerDagRunOperatorOptions);
  if (typeof o.triggerDagId !== 'string' || o.triggerDagId === '')
    fail(`triggerDagId must be the id of the DAG to trigger, got ${JSON.stringify(o.triggerDagId)}`);
  if (o.triggerRunId !== undefined && typeof o.triggerRunId !== 'string') fail(`triggerRunId must be a string, got ${JSON.stringify(o.triggerRunId)}`);
  if (o.conf !== undefined && !isPlainObject(o.conf)) fail(`conf must be an object, got ${JSON.stringify(o.conf)}`);
  const logicalDate = o.logicalDate instanceof Date ? o.logicalDate.toISOString() : (o.logicalDate ?? null);
  if (o.logicalDate instanceof Date && Number.isNaN(o.logicalDate.getTime())) fail('logicalDate is an invalid Date');
  if (logicalDate !== null && typeof logicalDate !== 'string')
    fail(`logicalDate must be an ISO 8601 string (may be a template) or a Date, got ${JSON.stringify(logicalDate)}`);
  const flag = (key: 'resetDagRun' | 'skipWhenAlreadyExists' | 'waitForCompletion' | 'deferrable'): boolean => {
    const value = o[key] ?? false;
    if (typeof value !== 'boolean') fail(`${key} must be true or false, got ${JSON.stringify(value)}`);
    return value;
  };
  const states = (key: 'allowedStates' | 'failedStates', fallback: string[]): string[] => {
    const value = o[key] ?? fallback;
    if (!Array.isArray(value) || value.some((s) => !(DAG_RUN_STATES as readonly string[]).includes(s)))
      fail(`${key} must be a list of dag run states (${DAG_RUN_STATES.join(', ')}), got ${JSON.stringify(value)}`);
    return [...value];
  };
  const allowedStates = states('allowedStates', ['success']);
  const failedStates = states('failedStates', ['failed']);
  const both = allowedStates.filter((s) => failedStates.includes(s));
  if (both.length) fail(`state(s) ${both.join(', ')} cannot be both allowed and failed`);
  return {
    triggerDagId: o.triggerDagId,
    triggerRunId: o.triggerRunId ?? null,
    conf: { ...(o.conf ?? {}) },
    logicalDate,
    resetDagRun: flag('resetDagRun'),
    skipWhenAlreadyExists: flag('skipWhenAlreadyExists'),
    waitForCompletion: flag('waitForCompletion'),
    deferrable: flag('deferrable'),
    pokeIntervalMs: durationMs(o.pokeInterval ?? { seconds: 60 }, 'pokeInterval', fail),
    allowedStates,
    failedStates,
  };
}
