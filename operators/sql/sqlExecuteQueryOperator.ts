/**
 * SQLExecuteQueryOperator: runs SQL on a `postgres` connection (Airflow's common.sql SQLExecuteQueryOperator).
 * `sql` is a statement (several separated by ';' run as one query when there are no parameters) or a list of
 * statements; `sql` and `parameters` are templates. The return value (the XCom) is, as Airflow's: for a string,
 * the last statement's rows (every statement's with `splitStatements: true, returnLast: false`); for a list, a
 * list of each statement's rows. Rows are arrays of column values; a statement without a result set gives null.
 */
import { BaseOperator, taskFail, type BaseOperatorOptions } from '../../core/baseOperator.ts';
import { AirflowFailException } from '../../core/errors.ts';
import type { TaskContext } from '../../core/taskContext.ts';
import { clientConfig, DEFAULT_POSTGRES_CONN_ID, postgresConnection, runStatements, type StatementResult } from './postgresHook.ts';

/** The default bound on a result kept for the XCom: core.xcomMaxSize's default (ADR 0021). */
export const DEFAULT_MAX_RESULT_BYTES = 1_048_576;

export interface SQLExecuteQueryOperatorOptions extends BaseOperatorOptions {
  /** Templated. */
  sql: string | string[];
  /** A postgres connection; default 'postgres_default'. */
  connId?: string;
  /** Values for $1, $2, ... in each statement. Templated. */
  parameters?: unknown[];
  /** Each statement commits by itself; default false: all statements in one transaction. */
  autocommit?: boolean;
  /** A string of several statements returns each one's rows (with returnLast: false). Default false. */
  splitStatements?: boolean;
  /** Default true. */
  returnLast?: boolean;
  /** Push the rows as the XCom; false runs the statements and keeps no rows. Default true. */
  doXcomPush?: boolean;
  /** Past this many bytes of JSON rows the query is cancelled and the task fails; default 1 MiB. */
  maxResultBytes?: number;
}

export class SQLExecuteQueryOperator extends BaseOperator {
  static override readonly templateFields: readonly string[] = ['sql', 'parameters'];

  readonly sql: string | string[];
  readonly connId: string;
  readonly parameters: unknown[] | null;
  readonly autocommit: boolean;
  readonly splitStatements: boolean;
  readonly returnLast: boolean;
  readonly doXcomPush: boolean;
  readonly maxResultBytes: number;

  constructor(options: SQLExecuteQueryOperatorOptions) {
    const fail = (message: string): never => taskFail(options?.dag?.dagId, options?.taskId, message);
    const { sql, connId = DEFAULT_POSTGRES_CONN_ID, parameters, maxResultBytes = DEFAULT_MAX_RESULT_BYTES } = options ?? ({} as SQLExecuteQueryOperatorOptions);
    checkSql(sql, fail);
    checkConnAndParameters(connId, parameters, fail);
    const flags = { autocommit: false, splitStatements: false, returnLast: true, doXcomPush: true };
    for (const key of Object.keys(flags) as (keyof typeof flags)[]) {
      const value = options[key] ?? flags[key];
      if (typeof value !== 'boolean') fail(`${key} must be true or false, got ${JSON.stringify(value)}`);
      flags[key] = value;
    }
    if (!Number.isInteger(maxResultBytes) || maxResultBytes < 1) fail(`maxResultBytes must be a positive integer, got ${JSON.stringify(maxResultBytes)}`);
    super(options);
    this.sql = Array.isArray(sql) ? [...sql] : sql;
    this.connId = connId;
    this.parameters = parameters ? [...parameters] : null;
    this.autocommit = flags.autocommit;
    this.splitStatements = flags.splitStatements;
    this.returnLast = flags.returnLast;
    this.doXcomPush = flags.doXcomPush;
    this.maxResultBytes = maxResultBytes;
  }

  serializeFields(): Record<string, unknown> {
    return {
      sql: this.sql,
      connId: this.connId,
      parameters: this.parameters,
      autocommit: this.autocommit,
      splitStatements: this.splitStatements,
      returnLast: this.returnLast,
    };
  }

  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    const sql = rendered.sql as string | string[];
    const parameters = (rendered.parameters as unknown[] | null) ?? undefined;
    const connection = postgresConnection(context, this.connId, `SQLExecuteQueryOperator '${this.taskId}'`);
    if (typeof sql === 'string' && this.splitStatements && parameters?.length) {
      throw new AirflowFailException(
        `task '${this.taskId}': splitStatements with parameters needs sql as a list of statements (a query with parameters holds one statement)`,
      );
    }
    const results = await runStatements(context, clientConfig(connection, this.connId), {
      statements: Array.isArray(sql) ? sql : [sql],
      parameters,
      autocommit: this.autocommit,
      keepRows: this.doXcomPush,
      maxResultBytes: this.maxResultBytes,
      taskId: this.taskId,
    });
    if (!this.doXcomPush) return undefined;
    return shapeResults(sql, results, this.splitStatements, this.returnLast);
  }
}

/** Airflow's return_single_query_results: a string gives one result unless split with returnLast false. */
function shapeResults(sql: string | string[], results: StatementResult[], splitStatements: boolean, returnLast: boolean): unknown {
  if (typeof sql === 'string' && (returnLast || !splitStatements)) return results.at(-1) ?? null;
  return results;
}

export function checkSql(sql: unknown, fail: (message: string) => never): void {
  const ok = (s: unknown) => typeof s === 'string' && s.trim() !== '';
  if (Array.isArray(sql) ? sql.length === 0 || !sql.every(ok) : !ok(sql)) fail(`sql must be a non-empty string or a list of them, got ${JSON.stringify(sql)}`);
}

export function checkConnAndParameters(connId: unknown, parameters: unknown, fail: (message: string) => never): void {
  if (typeof connId !== 'string' || connId === '') fail(`connId must be a connection id, got ${JSON.stringify(connId)}`);
  if (parameters !== undefined && !Array.isArray(parameters)) {
    fail('parameters must be a list of values for $1, $2, ... (postgres has positional parameters only)');
  }
}
