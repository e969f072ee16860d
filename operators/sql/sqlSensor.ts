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
import type pg from 'pg';
import { clientConfig, DEFAULT_POSTGRES_CONN_ID, postgresConnection, runStatements, type StatementScope } from './postgresHook.ts';
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

/** The first row of a poke is all it needs; a huge result is cut off by the hook's bound. */
const MAX_POKE_RESULT_BYTES = 1_048_576;

export class SqlSensor extends BaseSensorOperator {
  static override readonly templateFields: readonly string[] = ['sql', 'parameters'];

  readonly sql: string;
  readonly connId: string;
  readonly parameters: unknown[] | null;
  readonly success: SqlCriterion | null;
  readonly failure: SqlCriterion | null;
  readonly failOnEmpty: boolean;
  readonly selector: (row: unknown[]) => unknown;

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
  }

  override serializeFields(): Record<string, unknown> {
    return { ...super.serializeFields(), sql: this.sql, connId: this.connId, parameters: this.parameters, failOnEmpty: this.failOnEmpty };
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

/** The first row of one query (undefined: no row); what a SqlSensor poke and its trigger look at. */
export async function firstRow(
  scope: StatementScope,
  config: pg.ClientConfig,
  sql: string,
  parameters: unknown[] | undefined,
  taskId: string,
): Promise<unknown[] | undefined> {
  const [rows] = await runStatements(scope, config, {
    statements: [sql],
    parameters,
    autocommit: true,
    keepRows: true,
    maxResultBytes: MAX_POKE_RESULT_BYTES,
    taskId,
  });
  return rows?.[0];
}
