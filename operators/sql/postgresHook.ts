/**
 * Running user SQL on a `postgres` connection (Airflow's PostgresHook / DbApiHook.run) with the `pg` client.
 * The connection maps as Airflow's: host, port (default 5432), login, password, schema = the database, and
 * extra `sslmode` (disable | require | verify-ca | verify-full, with `sslrootcert` a CA file), `connect_timeout`
 * (seconds) and `application_name`. One client per run, closed afterwards.
 *
 * Rows come back as arrays (Airflow's fetch_all_handler gives tuples), a statement without a result set as
 * null. The JSON size of the rows is counted as they arrive: past `maxResultBytes` the statement is cancelled
 * on the server and SqlResultTooLargeError says so, so a large result never fills the worker's memory (ADR 0021).
 * Aborting the signal (the try cancelled) cancels the running statement on the server too; a client killed with
 * -9 has its statement ended by the server within seconds (client_connection_check_interval).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { AirflowError, AirflowFailException } from '../../core/errors.ts';
import type { ConnectionInfo, TaskContext } from '../../core/taskContext.ts';

export const DEFAULT_POSTGRES_CONN_ID = 'postgres_default';

/** Thrown when a statement's rows pass the bound on what a SQL task keeps for its XCom. */
export class SqlResultTooLargeError extends AirflowFailException {
  constructor(
    readonly taskId: string,
    readonly limitBytes: number,
  ) {
    super(
      `Task '${taskId}': the query result is over maxResultBytes (${limitBytes} bytes of JSON), so it was cancelled; ` +
        'aggregate or LIMIT it, write large results to a table, set doXcomPush: false, or raise maxResultBytes',
    );
  }
}

/** A statement's rows (arrays of column values), or null for a statement without a result set. */
export type StatementResult = unknown[][] | null;

export interface RunOptions {
  /** Statements, each run on its own; a string with several statements (and no parameters) gives one result per statement. */
  statements: string[];
  /** Positional values for $1, $2, ... of each statement. */
  parameters?: unknown[];
  /** true: each statement commits by itself; false (default): one transaction, rolled back on error. */
  autocommit: boolean;
  /** Keep the rows (false: statements run, rows are dropped as they come). */
  keepRows: boolean;
  maxResultBytes: number;
  taskId: string;
}

/** pg's client settings for a postgres connection. */
export function clientConfig(connection: ConnectionInfo, connId: string): pg.ClientConfig {
  if (!connection.host) throw new AirflowFailException(`connection '${connId}' has no host`);
  const extra = connection.extra;
  const sslmode = extra.sslmode === undefined ? 'disable' : String(extra.sslmode);
  let ssl: pg.ClientConfig['ssl'];
  if (sslmode === 'disable' || sslmode === 'allow' || sslmode === 'prefer') ssl = false;
  else if (sslmode === 'require') ssl = { rejectUnauthorized: false };
  else if (sslmode === 'verify-ca' || sslmode === 'verify-full') {
    const ca = typeof extra.sslrootcert === 'string' ? readFileSync(extra.sslrootcert, 'utf8') : undefined;
    ssl = { rejectUnauthorized: true, ca, ...(sslmode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}) };
  } else
    throw new AirflowFailException(`connection '${connId}': extra.sslmode ${JSON.stringify(sslmode)} is not one of disable, require, verify-ca, verify-full`);
  return {
    host: connection.host,
    port: connection.port ?? 5432,
    user: connection.login ?? undefined,
    password: connection.password ?? undefined,
    database: connection.schema || undefined,
    ssl,
    connectionTimeoutMillis: 1000 * (Number(extra.connect_timeout ?? 30) || 30),
    application_name: typeof extra.application_name === 'string' ? extra.application_name : 'airflow-ts',
  };
}

/** The postgres connection `connId` as the task sees it, with a clear error when missing or of another type. */
export function postgresConnection(context: TaskContext, connId: string, operator: string): ConnectionInfo {
  return checkPostgresConnection(context.conn.get(connId), connId, operator);
}

/** A connection that must exist and be a postgres one (a task reads it from its context, a trigger from the triggerer's). */
export function checkPostgresConnection(connection: ConnectionInfo | undefined, connId: string, operator: string): ConnectionInfo {
  if (!connection)
    throw new AirflowFailException(
      `${operator}: connection '${connId}' does not exist; create a postgres connection (host, port, login, password, schema = database)`,
    );
  if (!['postgres', 'postgresql'].includes(connection.conn_type)) {
    throw new AirflowFailException(`${operator}: connection '${connId}' is of type '${connection.conn_type}'; only postgres connections are supported`);
  }
  return connection;
}

/** Where statements run: a task's context, or a trigger's in the triggerer. */
export interface StatementScope {
  log: { info(message: string): void };
  signal: AbortSignal;
}

/** Runs the statements on one client; returns each statement's result, in order. */
export async function runStatements(context: StatementScope, config: pg.ClientConfig, options: RunOptions): Promise<StatementResult[]> {
  context.signal.throwIfAborted();
  const client = new pg.Client(config);
  client.on('error', () => {}); // a dropped connection rejects the running query; no crash from the event
  try {
    await client.connect();
  } catch (error) {
    throw new AirflowError(`cannot connect to postgres at ${config.host}:${config.port}: ${(error as Error).message}`, { cause: error });
  }
  // A worker killed with -9 leaves no one to cancel its statement: the server checks the socket every 2 s and
  // ends the statement of a client that is gone (Postgres 14+; older servers refuse the setting, which is fine).
  await client.query("SET client_connection_check_interval = '2s'").catch(() => {});
  const results: StatementResult[] = [];
  const onAbort = () => void cancelBackend(config, client);
  context.signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (!options.autocommit) await client.query('BEGIN');
    for (const statement of options.statements) {
      context.log.info(`Running statement: ${statement}${options.parameters?.length ? `, parameters: ${JSON.stringify(options.parameters)}` : ''}`);
      results.push(...(await runOne(client, config, statement, options)));
    }
    if (!options.autocommit) await client.query('COMMIT');
    return results;
  } catch (error) {
    context.signal.throwIfAborted();
    if (error instanceof AirflowError) throw error;
    throw new AirflowError(`SQL failed: ${(error as Error).message}`, { cause: error });
  } finally {
    context.signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => {}); // an open transaction (after an error) is rolled back by the server
  }
}

/** One query (several results when it holds several statements), rows streamed and counted against the bound. */
function runOne(client: pg.Client, config: pg.ClientConfig, text: string, options: RunOptions): Promise<StatementResult[]> {
  return new Promise((resolve, reject) => {
    const query = new pg.Query({ text, values: options.parameters, rowMode: 'array' } as pg.QueryConfig);
    const rows = new Map<object, unknown[][]>();
    let bytes = 0;
    let overflow = false;
    query.on('row', (row: unknown[], result?: object) => {
      if (overflow || !options.keepRows) return;
      bytes += JSON.stringify(row).length + 1;
      if (bytes > options.maxResultBytes) {
        overflow = true;
        rows.clear();
        void cancelBackend(config, client);
        return;
      }
      let list = rows.get(result!);
      if (!list) rows.set(result!, (list = []));
      list.push(row);
    });
    query.on('error', (error: Error) => reject(overflow ? new SqlResultTooLargeError(options.taskId, options.maxResultBytes) : error));
    query.on('end', (ended: pg.QueryResult | pg.QueryResult[]) => {
      if (overflow) return reject(new SqlResultTooLargeError(options.taskId, options.maxResultBytes));
      const all = Array.isArray(ended) ? ended : [ended];
      resolve(all.map((result) => (result.fields?.length ? (rows.get(result) ?? []) : null)));
    });
    client.query(query);
  });
}

/** Cancels the client's running statement from a second connection (what psql's Ctrl-C does). */
async function cancelBackend(config: pg.ClientConfig, client: pg.Client): Promise<void> {
  const pid = (client as unknown as { processID?: number }).processID;
  if (pid === undefined) return;
  const canceller = new pg.Client(config);
  canceller.on('error', () => {});
  try {
    await canceller.connect();
    await canceller.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // best effort: closing the client below ends the session anyway
  } finally {
    await canceller.end().catch(() => {});
  }
}

/** A SqlSensor poke needs only the first row; a huge result is cut off by this bound. */
const MAX_POKE_RESULT_BYTES = 1_048_576;

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
