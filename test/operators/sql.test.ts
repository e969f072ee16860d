import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { serializeDag } from '../../core/serialize.ts';
import { AirflowError, AirflowFailException, AirflowRescheduleException, DagDefinitionError, TaskDeferred } from '../../core/errors.ts';
import type { ConnectionInfo } from '../../core/taskContext.ts';
import { SqlResultTooLargeError } from '../../operators/sql/postgresHook.ts';
import { SQLExecuteQueryOperator } from '../../operators/sql/sqlExecuteQueryOperator.ts';
import { SqlSensor } from '../../operators/sql/sqlSensor.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { eventually } from '../helpers/eventually.ts';
import { postgresConnectionFor } from '../helpers/postgresConnection.ts';
import { contextFor, runTask } from './fakeRunner.ts';

const db = await createTestDatabase();
await db.knex.schema.createTable('orders', (t) => {
  t.integer('id').primary();
  t.decimal('amount');
  t.string('day');
});
let n = 0;
const dag = () => new DAG({ dagId: `sql_ops_${++n}` });
const warehouse = postgresConnectionFor(db.url);
const withConn = (conn: ConnectionInfo = warehouse, signal?: AbortSignal) => ({
  connections: { get: (id: string) => (id === 'warehouse' ? conn : undefined) },
  ...(signal ? { signal } : {}),
});
const sqlTask = (options: Partial<ConstructorParameters<typeof SQLExecuteQueryOperator>[0]>) =>
  new SQLExecuteQueryOperator({ dag: dag(), taskId: 'q', connId: 'warehouse', sql: 'SELECT 1', ...options });

describe('SQLExecuteQueryOperator on the embedded Postgres', () => {
  it('runs templated SQL with parameters; the rows (as arrays) are its XCom', async () => {
    await db.knex('orders').insert([
      { id: 1, amount: 9.5, day: '2024-01-02' },
      { id: 2, amount: 20, day: '2024-01-02' },
      { id: 3, amount: 1, day: '2024-01-03' },
    ]);
    const task = sqlTask({ sql: "SELECT id, amount::float FROM orders WHERE day = '{{ ds }}' AND amount > $1 ORDER BY id", parameters: [5] });
    expect(() => serializeDag(task.dag)).not.toThrow(); // every template field is serialized (the DAG processor checks)
    const run = contextFor(task, withConn());
    expect(await runTask(run)).toEqual([
      [1, 9.5],
      [2, 20],
    ]);
    expect(run.xcom.get(task.dag.dagId, 'q')).toEqual([
      [1, 9.5],
      [2, 20],
    ]);
    expect(run.lines.some((l) => l.includes("Running statement: SELECT id, amount::float FROM orders WHERE day = '2024-01-02'"))).toBe(true);
  });

  it('a list gives one result per statement (null without a result set); a split string returns every statement or the last', async () => {
    const list = sqlTask({ sql: ["INSERT INTO orders VALUES (10, 1, 'x')", "SELECT count(*)::int FROM orders WHERE day = 'x'"] });
    expect(await runTask(contextFor(list, withConn()))).toEqual([null, [[1]]]);
    const script = "INSERT INTO orders VALUES (11, 1, 'x'); SELECT count(*)::int FROM orders WHERE day = 'x'";
    expect(await runTask(contextFor(sqlTask({ sql: script }), withConn()))).toEqual([[2]]);
    const every = sqlTask({ sql: "SELECT 'a'; SELECT 'b', 'c'", splitStatements: true, returnLast: false });
    expect(await runTask(contextFor(every, withConn()))).toEqual([[['a']], [['b', 'c']]]);
    const withParams = sqlTask({ sql: 'SELECT $1::int', parameters: [1], splitStatements: true });
    await expect(runTask(contextFor(withParams, withConn()))).rejects.toThrow(/splitStatements with parameters needs sql as a list/);
  });

  it('autocommit false runs the statements in one transaction, rolled back on error; autocommit true keeps what committed', async () => {
    const statements = ["INSERT INTO orders VALUES (20, 1, 'tx')", 'SELECT 1/0'];
    await expect(runTask(contextFor(sqlTask({ sql: statements }), withConn()))).rejects.toThrow(/SQL failed: division by zero/);
    expect(await db.knex('orders').where('id', 20)).toEqual([]);
    await expect(runTask(contextFor(sqlTask({ sql: statements, autocommit: true }), withConn()))).rejects.toThrow(AirflowError);
    expect((await db.knex('orders').where('id', 20)).length).toBe(1);
  });

  it('a result over maxResultBytes is cancelled on the server and fails with a clear error; doXcomPush false keeps no rows', async () => {
    const big = sqlTask({ sql: 'SELECT g, repeat($1, 100) FROM generate_series(1, 10000000) g', parameters: ['x'], maxResultBytes: 100_000 });
    const error = await runTask(contextFor(big, withConn())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqlResultTooLargeError);
    expect((error as Error).message).toBe(
      "Task 'q': the query result is over maxResultBytes (100000 bytes of JSON), so it was cancelled; aggregate or LIMIT it, write large results to a table, set doXcomPush: false, or raise maxResultBytes",
    );
    const quiet = sqlTask({ sql: 'SELECT g FROM generate_series(1, 100000) g', maxResultBytes: 10, doXcomPush: false });
    expect(await runTask(contextFor(quiet, withConn()))).toBeUndefined();
  });

  it('cancelling the try cancels the running statement on the server', async () => {
    const controller = new AbortController();
    const slow = sqlTask({ sql: "SELECT pg_sleep(60), 'sql-cancel-probe'" });
    const running = runTask(contextFor(slow, withConn(warehouse, controller.signal))).catch((e: unknown) => e);
    const active = () =>
      db.knex('pg_stat_activity').where('query', 'like', '%sql-cancel-probe%').whereNot('query', 'like', '%pg_stat_activity%').where('state', 'active');
    await eventually('the statement to run', async () => (await active()).length === 1);
    controller.abort(new Error('cancelled by the test'));
    expect(((await running) as Error).message).toBe('cancelled by the test');
    await eventually('the statement to be gone from the server', async () => (await active()).length === 0);
  });

  it('a worker killed with -9 mid-statement: the server ends the statement within seconds (client_connection_check_interval)', async () => {
    const module = fileURLToPath(new URL('../../operators/sql/postgresHook.ts', import.meta.url));
    const probe = `kill-probe-${process.pid}-${Date.now()}`;
    const script = `const { runStatements } = await import(${JSON.stringify(module)});
const [url, probe] = process.argv.slice(1);
const u = new URL(url);
const config = { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1) };
await runStatements({ log: { info: () => {} }, signal: new AbortController().signal }, config, { statements: ["SELECT pg_sleep(120), '" + probe + "'"], autocommit: false, keepRows: true, maxResultBytes: 1000, taskId: 't' });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, db.url, probe], { stdio: 'ignore' });
    try {
      const active = () => db.knex('pg_stat_activity').where('query', 'like', `%${probe}%`).whereNot('query', 'like', '%pg_stat_activity%');
      await eventually('the statement to run', async () => (await active()).length === 1, 30_000);
      child.kill('SIGKILL');
      await eventually('the server to end the statement of the dead client', async () => (await active()).length === 0, 15_000);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a missing connection, another type, or bad options are clear errors', async () => {
    await expect(runTask(contextFor(sqlTask({ connId: 'nope' }), withConn()))).rejects.toThrow(
      /connection 'nope' does not exist; create a postgres connection/,
    );
    await expect(runTask(contextFor(sqlTask({}), withConn({ ...warehouse, conn_type: 'mysql' })))).rejects.toThrow(AirflowFailException);
    await expect(runTask(contextFor(sqlTask({}), withConn({ ...warehouse, password: 'wrong-pw-1234' })))).rejects.toThrow(/cannot connect to postgres at/);
    expect(() => sqlTask({ sql: '' })).toThrow(DagDefinitionError);
    expect(() => sqlTask({ parameters: { a: 1 } as never })).toThrow(/positional parameters only/);
    expect(() => sqlTask({ autocommit: 'yes' as never })).toThrow(/autocommit must be true or false/);
  });
});

describe('SqlSensor on the embedded Postgres', () => {
  const pokeOnce = { mode: 'reschedule' as const };
  const poked = (promise: Promise<unknown>) =>
    promise.then(
      () => 'done',
      (e: unknown) => (e instanceof AirflowRescheduleException ? 'not yet' : Promise.reject(e)),
    );
  const sensor = (options: Partial<ConstructorParameters<typeof SqlSensor>[0]>) =>
    new SqlSensor({ dag: dag(), taskId: 's', connId: 'warehouse', sql: 'SELECT 1', ...pokeOnce, ...options });

  it('no row is "not yet"; a row whose first column is truthy is done', async () => {
    const waiting = sensor({ sql: 'SELECT id FROM orders WHERE day = $1', parameters: ['{{ ds }}-late'] });
    expect(() => serializeDag(waiting.dag)).not.toThrow();
    expect(await poked(runTask(contextFor(waiting, withConn())))).toBe('not yet');
    await db.knex('orders').insert({ id: 30, amount: 1, day: '2024-01-02-late' });
    expect(await poked(runTask(contextFor(waiting, withConn())))).toBe('done');
  });

  it('success, failure, selector and failOnEmpty decide as Airflow', async () => {
    const rows = "SELECT * FROM (VALUES ('pending', 3)) v(status, n)";
    expect(await poked(runTask(contextFor(sensor({ sql: rows, success: (v) => v === 'done' }), withConn())))).toBe('not yet');
    expect(await poked(runTask(contextFor(sensor({ sql: rows, selector: (row) => row[1], success: (v) => v === 3 }), withConn())))).toBe('done');
    await expect(runTask(contextFor(sensor({ sql: rows, failure: (v) => v === 'pending' }), withConn()))).rejects.toThrow(
      'Failure criteria met. failure("pending") returned true',
    );
    await expect(runTask(contextFor(sensor({ sql: 'SELECT 1 WHERE false', failOnEmpty: true }), withConn()))).rejects.toThrow(/No rows returned/);
    expect(await poked(runTask(contextFor(sensor({ sql: 'SELECT 0' }), withConn())))).toBe('not yet');
    expect(() => sensor({ success: 'yes' as never })).toThrow(/success must be a function/);
  });

  it('deferrable: pokes once, then defers to a SqlSensorTrigger with the rendered query; with success/failure/selector it pokes instead', async () => {
    const waiting = sensor({ sql: 'SELECT id FROM orders WHERE day = $1', parameters: ['{{ ds }}-never'], deferrable: true, mode: 'poke', pokeInterval: 300 });
    const deferred = (await runTask(contextFor(waiting, withConn())).catch((e: unknown) => e)) as TaskDeferred;
    expect(deferred).toBeInstanceOf(TaskDeferred);
    expect(deferred.trigger.classpath).toBe('airflow_ts.triggers.sql.SqlSensorTrigger');
    expect(deferred.trigger.kwargs).toEqual({
      connId: 'warehouse',
      sql: 'SELECT id FROM orders WHERE day = $1',
      parameters: ['2024-01-02-never'],
      failOnEmpty: false,
      pokeIntervalMs: 300,
      taskId: 's',
    });
    const custom = sensor({ sql: 'SELECT 1', deferrable: true, mode: 'poke', success: (v) => v === 1 });
    const run = contextFor(custom, withConn());
    await runTask(run);
    expect(run.lines.some((l) => l.includes('deferrable is ignored with success, failure or selector'))).toBe(true);
  });
});
