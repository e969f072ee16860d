/**
 * SqlSensor: runs a query on a `postgres` connection until its first row says so (Airflow's SqlSensor).
 * No row: not yet (or a failure with `failOnEmpty`). Otherwise `selector(firstRow)` (default: its first
 * column) is checked: `failure(value)` true fails the task; then `success(value)` decides, or without it
 * the value's truthiness. `sql` and `parameters` are templates.
 */
import type { TaskContext } from '../../core/taskContext.ts';
import { taskFail } from '../../core/baseOperator.ts';
import { AirflowError } from '../../core/errors.ts';
import { runWithContext } from '../../core/taskContext.ts';
import { BaseSensorOperator, type BaseSensorOperatorOptions } from '../sensors/baseSensorOperator.ts';
import type { Json } from '../../core/trigger.ts';
import { SqlSensorTrigger } from '../triggers/sqlTrigger.ts';
import { clientConfig, DEFAULT_POSTGRES_CONN_ID, firstRow, postgresConnection } from './postgresHook.ts';
import { checkConnAndParameters, checkSql } from './sqlExecuteQueryOperator.ts';

export type SqlCriterion = (value: unknown) => boolean;

export interface SqlSensorOptions extends BaseSensorOperatorOptions {
  /** One query; its first row is what the sensor looks at. Templated. */
  sql: string;
  /** Default 'postgres_default'. */
  connId?: string;
  /** Values for $1, $2, ... Templated. */
  parameters?: unknown[];
  success?: SqlCriterion;
  failure?: SqlCriterion;
  /** No row fails the task instead of "not yet". Default false. */
  failOnEmpty?: boolean;
  /** What of the first row the criteria see; default its first column. */
  selector?: (row: unknown[]) => unknown;
}

export class SqlSensor extends BaseSensorOperator {
  static override readonly templateFields: readonly string[] = ['sql', 'parameters'];

  readonly sql: string;
  readonly connId: string;
  readonly parameters: unknown[] | null;
  readonly success: SqlCriterion | null;
  readonly failure: SqlCriterion | null;
  readonly failOnEmpty: boolean;
  readonly selector: (row: unknown[]) => unknown;
  private readonly customSelector: boolean;

  constructor(options: SqlSensorOptions) {
    const fail = (message: string): never => taskFail(options?.dag?.dagId, options?.taskId, message);
    const {
      sql,
      connId = DEFAULT_POSTGRES_CONN_ID,
      parameters,
      success,
      failure,
      failOnEmpty = false,
      selector = (row: unknown[]) => row[0],
    } = options ?? ({} as SqlSensorOptions);
    if (Array.isArray(sql)) fail('sql must be one query (a string)');
    checkSql(sql, fail);
    checkConnAndParameters(connId, parameters, fail);
    for (const [key, value] of Object.entries({ success, failure, selector })) {
      if (value !== undefined && typeof value !== 'function') fail(`${key} must be a function, got ${JSON.stringify(value)}`);
    }
    if (typeof failOnEmpty !== 'boolean') fail(`failOnEmpty must be true or false, got ${JSON.stringify(failOnEmpty)}`);
    super(options);
    this.sql = sql;
    this.connId = connId;
    this.parameters = parameters ? [...parameters] : null;
    this.success = success ?? null;
    this.failure = failure ?? null;
    this.failOnEmpty = failOnEmpty;
    this.selector = selector;
    this.customSelector = options.selector !== undefined;
  }

  override serializeFields(): Record<string, unknown> {
    return { ...super.serializeFields(), sql: this.sql, connId: this.connId, parameters: this.parameters, failOnEmpty: this.failOnEmpty };
  }

  /**
   * Deferrable: pokes once, then hands the wait to a SqlSensorTrigger polled every pokeInterval, which fires when
   * the first row's first column is truthy. success, failure and selector are functions the triggerer cannot run,
   * so with any of them the sensor pokes in the worker instead.
   */
  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    if (!this.deferrable) return super.execute(context, rendered);
    if (this.success || this.failure || this.customSelector) {
      context.log.warn('deferrable is ignored with success, failure or selector (they run only in a worker): poking instead');
      return super.execute(context, rendered);
    }
    if (await this.poke(context, rendered)) return undefined;
    return this.defer({
      trigger: new SqlSensorTrigger({
        connId: this.connId,
        sql: String(rendered.sql),
        parameters: ((rendered.parameters as unknown[] | null) ?? []) as Json[],
        failOnEmpty: this.failOnEmpty,
        pokeIntervalMs: this.pokeIntervalMs,
        taskId: this.taskId,
      }),
      method: 'executeComplete',
      timeout: this.timeoutMs,
    });
  }

  async poke(context: TaskContext, rendered: Record<string, unknown>): Promise<boolean> {
    const connection = postgresConnection(context, this.connId, `SqlSensor '${this.taskId}'`);
    const first = await firstRow(
      context,
      clientConfig(connection, this.connId),
      String(rendered.sql),
      (rendered.parameters as unknown[] | null) ?? undefined,
      this.taskId,
    );
    if (first === undefined) {
      if (this.failOnEmpty) throw new AirflowError('No rows returned, raising as per failOnEmpty flag');
      context.log.info('No rows yet');
      return false;
    }
    const value = await runWithContext(context, () => this.selector(first));
    if (this.failure && (await runWithContext(context, () => this.failure!(value)))) {
      throw new AirflowError(`Failure criteria met. failure(${JSON.stringify(value)}) returned true`);
    }
    if (this.success) return Boolean(await runWithContext(context, () => this.success!(value)));
    return Boolean(value);
  }
}
