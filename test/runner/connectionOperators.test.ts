import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fernetFor } from '../../core/crypto/fernetKey.ts';
import { memoryLogger } from '../../core/logger.ts';
import { createConnection } from '../../db/models/connection.ts';
import { taskReschedulesOfTry } from '../../db/models/taskReschedule.ts';
import { pullXComs } from '../../db/models/xcom.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { taskLogPath } from '../../logging/fileTaskHandler.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { startHttpServer } from '../helpers/httpServer.ts';
import { postgresConnectionFor } from '../helpers/postgresConnection.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';
import { startSmtpServer } from '../helpers/smtpServer.ts';

// HttpOperator, SQLExecuteQueryOperator, SqlSensor, EmailOperator and their example DAGs, run by a real scheduler
// and LocalExecutor workers against an HTTP server, an SMTP server (both on 127.0.0.1) and the embedded Postgres.
const API_PASSWORD = 'api-pass-60517';
const BASIC = Buffer.from(`svc:${API_PASSWORD}`).toString('base64');

const db = await createTestDatabase();
const http = await startHttpServer((request, count) => {
  if (request.url === '/flaky') return count === 0 ? { status: 503, body: 'try later' } : { status: 200, body: { echoed: request.headers.authorization } };
  if (/^\/exports\/[\d-]+$/.test(request.url)) return { status: 200, body: { state: 'ready' } };
  if (/^\/exports\/[\d-]+\/publish$/.test(request.url)) return { status: 200, body: { url: `https://cdn.example.com${request.url}` } };
  return { status: 404, body: 'no such route' };
});
const smtp = await startSmtpServer({ user: 'mailer', pass: 'smtp-pass-20931' });
const landing = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-landing-'));
afterAll(() => rmSync(landing, { recursive: true, force: true }));

const dags = tempDagsFolder();
for (const name of ['example_http', 'example_sql', 'example_email', 'example_file_to_sql']) {
  copyFileSync(fileURLToPath(new URL(`../../dags/${name}.ts`, import.meta.url)), path.join(dags, `${name}.ts`));
}
writeDag(
  dags,
  'connection_operators.ts',
  `import { DAG, HttpOperator, SQLExecuteQueryOperator, SqlSensor } from 'airflow-ts';
export const httpRetry = new DAG({ dagId: 'http_retry', schedule: null });
new HttpOperator({
  dag: httpRetry,
  taskId: 'call',
  httpConnId: 'api',
  method: 'GET',
  endpoint: 'flaky',
  logResponse: true,
  responseFilter: (response) => response.json(),
  retries: 2,
  retryDelay: 100,
});
export const tooBig = new DAG({ dagId: 'sql_too_big', schedule: null });
new SQLExecuteQueryOperator({ dag: tooBig, taskId: 'everything', sql: 'SELECT g FROM generate_series(1, 10000000) g', maxResultBytes: 10000, retries: 2 });
export const sensorWaits = new DAG({ dagId: 'sql_sensor_waits', schedule: null });
new SqlSensor({
  dag: sensorWaits,
  taskId: 'wait_for_flag',
  sql: 'SELECT ready FROM sql_sensor_flag WHERE day = $1::date',
  parameters: ['{{ ds }}'],
  mode: 'reschedule',
  pokeInterval: 200,
  timeout: { seconds: 60 },
});
`,
);
await db.knex.schema.createTable('sql_sensor_flag', (t) => {
  t.date('day');
  t.boolean('ready');
});

const config = await testConfig(dags, db.url, { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '2' });
const logger = memoryLogger();
const fernet = fernetFor(config, logger);
const audit = { owner: null, at: new Date() };
const httpConn = { conn_type: 'http', host: '127.0.0.1', schema: 'http', port: http.port, login: 'svc', password: API_PASSWORD };
await createConnection(db.knex, fernet, { conn_id: 'api', ...httpConn }, audit);
await createConnection(db.knex, fernet, { conn_id: 'example_api', ...httpConn, extra: JSON.stringify({ 'X-Team': 'data' }) }, audit);
const pgConn = postgresConnectionFor(db.url);
await createConnection(db.knex, fernet, { conn_id: 'postgres_default', ...pgConn, extra: null }, audit);
await createConnection(
  db.knex,
  fernet,
  {
    conn_id: 'smtp_default',
    conn_type: 'smtp',
    host: '127.0.0.1',
    port: smtp.port,
    login: 'mailer',
    password: 'smtp-pass-20931',
    extra: JSON.stringify({ from_email: 'airflow@example.com', disable_ssl: true, disable_tls: true }),
  },
  audit,
);
await createConnection(db.knex, fernet, { conn_id: 'landing', conn_type: 'fs', extra: JSON.stringify({ path: landing }) }, audit);

await parseDags(config, db.knex);
const scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, logger), logger });
await scheduler.start();
afterAll(() => scheduler.stop(5_000));

type Run = { id: number; run_id: string; state: string; logical_date: Date };
async function trigger(dagId: string, conf: Record<string, unknown> = {}): Promise<Run> {
  await db.knex('dag').where('dag_id', dagId).update({ is_paused: false });
  const run = await triggerDagRun(db.knex, { dagId, conf, now: new Date() });
  scheduler.wake(true);
  return run as Run;
}
const finished = (run: Run) =>
  eventually(
    `run ${run.run_id} to finish`,
    async () => (await db.knex('dag_run').where('id', run.id).whereIn('state', ['success', 'failed']).first()) as Run,
    60_000,
  );
const ti = (run: Run, taskId: string) => db.knex('task_instance').where({ run_id: run.run_id, task_id: taskId }).first();
const logOf = (row: { dag_id: string; run_id: string; task_id: string; map_index: number }, tryNumber: number) =>
  readFileSync(
    taskLogPath(config.logging.baseLogFolder, { dagId: row.dag_id, runId: row.run_id, taskId: row.task_id, mapIndex: row.map_index, tryNumber }),
    'utf8',
  );
const ds = (run: Run) => new Date(run.logical_date).toISOString().slice(0, 10);

describe('operators that call other systems, on a real scheduler and LocalExecutor', () => {
  it('HttpOperator: a 503 fails the first try, the retry succeeds; the password and its basic-auth value never reach the log', async () => {
    const run = await finished(await trigger('http_retry'));
    const call = await ti(run, 'call');
    expect([run.state, call.state, call.try_number]).toEqual(['success', 'success', 2]);
    expect(logOf(call, 1)).toContain(`503:Service Unavailable from ${http.url}/flaky: try later`);
    const second = logOf(call, 2);
    expect(second).toContain('"echoed":"Basic ***"'); // logResponse logged the echoed header, masked
    for (const log of [logOf(call, 1), second]) {
      expect(log).not.toContain(API_PASSWORD);
      expect(log).not.toContain(BASIC);
    }
    // responseFilter's value (the second try's response) is the XCom.
    expect(await pullXComs(db.knex, run.id, ['call'], 'return_value')).toEqual([{ echoed: `Basic ${BASIC}` }]);
  });

  it('SQLExecuteQueryOperator: a result over maxResultBytes fails at once (no retry) with a clear message', async () => {
    const run = await finished(await trigger('sql_too_big'));
    const everything = await ti(run, 'everything');
    expect([run.state, everything.state, everything.try_number]).toEqual(['failed', 'failed', 1]);
    expect(logOf(everything, 1)).toMatch(/SqlResultTooLargeError: Task 'everything': the query result is over maxResultBytes \(10000 bytes of JSON\)/);
  });

  it('SqlSensor: pokes (rescheduled between pokes) until the row appears', async () => {
    const run = await trigger('sql_sensor_waits');
    await eventually('a first poke to find nothing', async () => {
      const sensor = await ti(run, 'wait_for_flag');
      return sensor && (await taskReschedulesOfTry(db.knex, sensor.id, 1)).length > 0;
    });
    await db.knex('sql_sensor_flag').insert({ day: ds(run), ready: true });
    const done = await finished(run);
    const sensor = await ti(run, 'wait_for_flag');
    expect([done.state, sensor.state, sensor.try_number]).toEqual(['success', 'success', 1]);
    expect(logOf(sensor, 1)).toContain('Success criteria met');
  });

  it('example_sql: creates, writes, waits for and reads the day’s totals', async () => {
    const run = await finished(await trigger('example_sql'));
    expect(run.state).toBe('success');
    expect(await pullXComs(db.knex, run.id, ['read_totals'], 'return_value')).toEqual([[[ds(run), 3, 28.5]]]);
  });

  it('example_http: the sensor sees the export ready, the operator publishes it and keeps the URL', async () => {
    const run = await finished(await trigger('example_http'));
    expect(run.state).toBe('success');
    expect(await pullXComs(db.knex, run.id, ['publish_export'], 'return_value')).toEqual([`https://cdn.example.com/exports/${ds(run)}/publish`]);
    const publish = http.received.find((r) => r.url === `/exports/${ds(run)}/publish`)!;
    expect(JSON.parse(publish.body)).toEqual({ day: ds(run), runId: run.run_id });
    expect([publish.headers['x-team'], publish.headers['x-request-id']]).toEqual(['data', run.run_id]);
  });

  it('example_email: the SMTP server receives the report with its subject and body', async () => {
    const run = await finished(await trigger('example_email', { to: 'team@example.com' }));
    expect(run.state).toBe('success');
    const mail = smtp.received.find((m) => m.raw.includes(`Daily report for ${ds(run)}`))!;
    expect(mail.to).toEqual(['team@example.com']);
    expect(mail.raw).toContain(`<h3>Report for ${ds(run)}</h3>`);
  });

  it('example_file_to_sql: waits for the file, loads it with SQL and emails how many rows it loaded', async () => {
    const day = new Date().toISOString().slice(0, 10);
    writeFileSync(path.join(landing, `orders-${day}.csv`), 'id,amount\n1,9.5\n2,20\n');
    const run = await finished(await trigger('example_file_to_sql'));
    expect([run.state, ds(run)]).toEqual(['success', day]);
    expect(await pullXComs(db.knex, run.id, ['load_orders'], 'return_value')).toEqual([[[1], [2]]]);
    const mail = smtp.received.find((m) => m.raw.includes(`Orders for ${day} loaded`))!;
    expect(mail.raw).toContain(`<p>Loaded 2 orders for ${day}.</p>`);
  });
});
