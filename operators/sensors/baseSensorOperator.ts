/**
 * BaseSensorOperator: a task that waits for something (Airflow's BaseSensorOperator). Subclasses
 * implement poke(); execute() pokes until it returns true (or a PokeReturnValue that is done), the
 * timeout passes, or the try is cancelled.
 *
 * - mode 'poke' waits between pokes inside the try, holding its worker slot (and its executionTimeout
 *   still applies: the wait is cut short when the try is cancelled).
 * - mode 'reschedule' ends the try after each unsuccessful poke with AirflowRescheduleException: the runner
 *   records it as up_for_reschedule with a task_reschedule row, the slot is free, and the scheduler sets
 *   it back to scheduled once the reschedule date has passed (ADR 0019). The try number does not grow.
 * - the timeout counts from the start of the first poke: of this try in poke mode; in reschedule mode of
 *   the first try since the task was last cleared (from task_reschedule), as Airflow.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { BaseOperator, taskFail, type BaseOperatorOptions } from '../../core/baseOperator.ts';
import { durationMs } from '../../core/definitionChecks.ts';
import type { Duration } from '../../core/duration.ts';
import {
  AirflowFailException,
  AirflowRescheduleException,
  AirflowSensorTimeout,
  AirflowSkipException,
  TaskDeferralTimeout,
  TaskDidNotStopError,
  TaskTimeoutError,
} from '../../core/errors.ts';
import type { TaskContext } from '../../core/taskContext.ts';
import { nextPokeIntervalMs } from './nextPokeInterval.ts';

/** What poke() may return besides a boolean (Airflow's PokeReturnValue): `xcomValue` becomes the return_value XCom. */
export interface PokeReturnValue {
  isDone: boolean;
  xcomValue?: unknown;
}

export type PokeResult = boolean | PokeReturnValue;

export const SENSOR_MODES = ['poke', 'reschedule'] as const;
export type SensorMode = (typeof SENSOR_MODES)[number];

export interface BaseSensorOperatorOptions extends BaseOperatorOptions {
  /** Time between pokes; default { seconds: 60 } (Airflow's poke_interval). A number is milliseconds, as every Duration. */
  pokeInterval?: Duration;
  /** How long to wait in all before failing (or skipping, with softFail); default 7 days (Airflow's sensors.default_timeout). */
  timeout?: Duration;
  /** 'poke' (default) holds the worker slot between pokes; 'reschedule' frees it. */
  mode?: SensorMode;
  /** On timeout, end as skipped instead of failed. */
  softFail?: boolean;
  /** A poke that throws (other than a skip, fail or timeout) is logged and counts as not done; poking goes on. */
  silentFail?: boolean;
  /** Wait longer after each poke (doubling, with jitter), up to maxWait. */
  exponentialBackoff?: boolean;
  /** The longest wait between pokes with exponentialBackoff. */
  maxWait?: Duration;
  /**
   * Hand the wait to the triggerer (TimeDeltaSensor, DateTimeSensor, FileSensor): the try ends as deferred,
   * holding no worker slot, and resumes when the trigger fires; `timeout` becomes the defer timeout.
   */
  deferrable?: boolean;
}

const SENSOR_KEYS = ['pokeInterval', 'timeout', 'mode', 'softFail', 'silentFail', 'exponentialBackoff', 'maxWait', 'deferrable'] as const;
const DEFAULT_TIMEOUT_MS = 7 * 24 * 3_600_000;

export abstract class BaseSensorOperator extends BaseOperator {
  readonly pokeIntervalMs: number;
  readonly timeoutMs: number;
  readonly mode: SensorMode;
  readonly softFail: boolean;
  readonly silentFail: boolean;
  readonly exponentialBackoff: boolean;
  readonly maxWaitMs: number | null;
  readonly deferrable: boolean;

  constructor(options: BaseSensorOperatorOptions) {
    // Checked before super(), which adds the task to the DAG: a bad option must not leave a half-made task behind.
    const fields = checkSensorOptions(options);
    super(options);
    this.pokeIntervalMs = fields.pokeIntervalMs;
    this.timeoutMs = fields.timeoutMs;
    this.mode = fields.mode;
    this.softFail = fields.softFail;
    this.silentFail = fields.silentFail;
    this.exponentialBackoff = fields.exponentialBackoff;
    this.maxWaitMs = fields.maxWaitMs;
    this.deferrable = fields.deferrable;
  }

  /**
   * Checks the condition once: true (or { isDone: true, xcomValue }) when it is met. `rendered` holds the
   * template fields rendered for this run. Throw AirflowSkipException / AirflowFailException to end at once.
   */
  abstract poke(context: TaskContext, rendered: Record<string, unknown>): PokeResult | Promise<PokeResult>;

  override get reschedule(): boolean {
    return this.mode === 'reschedule';
  }

  /** The sensor options, for the serialized DAG; subclasses add their own fields. */
  serializeFields(): Record<string, unknown> {
    return {
      pokeIntervalMs: this.pokeIntervalMs,
      timeoutMs: this.timeoutMs,
      mode: this.mode,
      softFail: this.softFail,
      silentFail: this.silentFail,
      exponentialBackoff: this.exponentialBackoff,
      maxWaitMs: this.maxWaitMs,
      ...(this.deferrable ? { deferrable: true } : {}),
    };
  }

  /** A deferrable sensor past its timeout while deferred fails (or skips, with softFail) as a sensor does (Airflow 2.10). */
  override async resumeExecution(method: string, nextKwargs: Record<string, unknown>, context: TaskContext): Promise<unknown> {
    try {
      return await super.resumeExecution(method, nextKwargs, context);
    } catch (error) {
      if (!(error instanceof TaskDeferralTimeout)) throw error;
      const message = `Sensor has timed out while deferred: no event within the timeout of ${this.timeoutMs / 1000} s.`;
      throw this.softFail ? new AirflowSkipException(message) : new AirflowSensorTimeout(message);
    }
  }

  /** Where a deferrable sensor resumes when its trigger fires (Airflow's execute_complete): the condition is met. */
  executeComplete(context: TaskContext, event: unknown): unknown {
    context.log.info(`Success criteria met (trigger event ${JSON.stringify(event)}). Exiting.`);
    return undefined;
  }

  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    const history = this.reschedule ? context.taskReschedules : undefined;
    const startedAt = history?.firstStartDate?.getTime() ?? Date.now();
    let pokeNumber = (history?.count ?? 0) + 1;
    for (;;) {
      context.signal.throwIfAborted();
      const result = await this.pokeOnce(context, rendered);
      if (result === true || (typeof result === 'object' && result.isDone)) {
        context.log.info('Success criteria met. Exiting.');
        return typeof result === 'object' ? result.xcomValue : undefined;
      }
      const elapsedMs = Date.now() - startedAt;
      if (elapsedMs > this.timeoutMs) {
        const message = `Sensor has timed out; run duration of ${(elapsedMs / 1000).toFixed(3)} seconds exceeds the specified timeout of ${this.timeoutMs / 1000} s.`;
        throw this.softFail ? new AirflowSkipException(message) : new AirflowSensorTimeout(message);
      }
      const waitMs = nextPokeIntervalMs({
        pokeIntervalMs: this.pokeIntervalMs,
        exponentialBackoff: this.exponentialBackoff,
        maxWaitMs: this.maxWaitMs,
        timeoutMs: this.timeoutMs,
        elapsedMs,
        pokeNumber,
        key: `${this.dag.dagId}#${this.taskId}#${startedAt}`,
      });
      if (this.reschedule) throw new AirflowRescheduleException(new Date(Date.now() + waitMs));
      context.log.info(`Poke ${pokeNumber}: not yet; next poke in ${waitMs / 1000} s`);
      // Cancelling the try (executionTimeout, cleared, marked) ends the wait at once.
      await delay(waitMs, undefined, { signal: context.signal }).catch(() => context.signal.throwIfAborted());
      pokeNumber += 1;
    }
  }

  /** One poke; with silentFail, an unexpected error is logged and counts as "not yet". */
  private async pokeOnce(context: TaskContext, rendered: Record<string, unknown>): Promise<PokeResult> {
    try {
      const result = await this.poke(context, rendered);
      if (typeof result === 'boolean') return result;
      if (typeof result === 'object' && result !== null && typeof result.isDone === 'boolean') return result;
      throw new AirflowFailException(
        `${this.operatorName} '${this.taskId}': poke() must return true, false or { isDone, xcomValue }, got ${JSON.stringify(result) ?? String(result)}`,
      );
    } catch (error) {
      const ours =
        error instanceof AirflowSkipException ||
        error instanceof AirflowFailException ||
        error instanceof TaskTimeoutError ||
        error instanceof TaskDidNotStopError ||
        context.signal.aborted;
      if (!this.silentFail || ours) throw error;
      context.log.error(`Sensor poke failed (silentFail: poking goes on): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return false;
    }
  }
}

function checkSensorOptions(options: BaseSensorOperatorOptions) {
  const fail = (message: string): never => taskFail(options?.dag?.dagId, options?.taskId, message);
  const o = options ?? ({} as BaseSensorOperatorOptions);
  for (const key of Object.keys(o)) {
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    if (camel !== key && (SENSOR_KEYS as readonly string[]).includes(camel)) fail(`option '${key}' is unknown; did you mean '${camel}'?`);
  }
  const mode = o.mode ?? 'poke';
  if (!SENSOR_MODES.includes(mode)) fail(`mode must be one of ${SENSOR_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  const flag = (key: 'softFail' | 'silentFail' | 'exponentialBackoff' | 'deferrable'): boolean => {
    const value = o[key] ?? false;
    if (typeof value !== 'boolean') fail(`${key} must be true or false, got ${JSON.stringify(value)}`);
    return value;
  };
  return {
    pokeIntervalMs: durationMs(o.pokeInterval ?? { seconds: 60 }, 'pokeInterval', fail),
    timeoutMs: durationMs(o.timeout ?? DEFAULT_TIMEOUT_MS, 'timeout', fail),
    mode,
    softFail: flag('softFail'),
    silentFail: flag('silentFail'),
    exponentialBackoff: flag('exponentialBackoff'),
    deferrable: flag('deferrable'),
    maxWaitMs: o.maxWait === undefined ? null : durationMs(o.maxWait, 'maxWait', fail),
  };
}
