import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { fernetFor } from '../../core/crypto/fernetKey.ts';
import { memoryLogger } from '../../core/logger.ts';
import { createConnection } from '../../db/models/connection.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { taskLogPath } from '../../logging/fileTaskHandler.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { Triggerer } from '../../triggerer/triggererJob.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { startHttpServer } from '../helpers/httpServer.ts';
import { postgresConnectionFor } from '../helpers/postgresConnection.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

// Deferrable HttpSensor and SqlSensor: the wait runs in a real triggerer (HttpSensorTrigger, SqlSensorTrigger)
// while the try is deferred and holds no worker slot; a real scheduler and LocalExecutor run the tries.
const API_PASSWORD = 'trigger-api-pass-5521';
let exportReady = false;
const http = await startHttpServer((request, count) => {
  if (request.url === '/export') return exportReady ? { status: 200, body: { state: 'ready' } } : { status: 404, body: 'not yet' };
  // The worker's first poke sees a 404 and defers; the triggerer's next poke gets a 500.
  if (request.url === '/broken') return count === 0 ? { status: 404, body: 'not yet' } : { status: 500, body: 'database on fire' };
  return { status: 404, body: 'no such route' };
});
const db = await createTestDatabase();
await db.knex.schema.createTable('trigger_flag', (t) => t.boolean('ready'));

const dags = tempDagsFolder();
writeDag(
  dags,
  'deferrable_connection_sensors.ts',
  `import { DAG, HttpSensor, SqlSensor } from 'airflow-ts';
const wait = { deferrable: true, pokeInterval: 100, timeout: { seconds: 60 } };
export const httpWaits = new DAG({ dagId: 'http_sensor_defers', schedule: null });
new HttpSensor({ dag: httpWaits, taskId: 'wait_for_export', httpConnId: 'api', endpoint: 'export', ...wait });
export const httpFails = new DAG({ dagId: 'http_sensor_trigger_fails', schedule: null });
new HttpSensor({ dag: httpFails, taskId: 'broken', httpConnId: 'api', endpoint: 'broken', ...wait });
export const sqlWaits = new DAG({ dagId: 'sql_sensor_defers', schedule: null });
new SqlSensor({ dag: sqlWaits, taskId: 'wait_for_flag', sql: 'SELECT ready FROM trigger_flag WHERE ready = $1', parameters: [true], ...wait });
`,
);
const config = await testConfig(dags, db.url, {
  AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
  AIRFLOW__CORE__PARALLELISM: '1',
  AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: '0.2',
  AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC: '0.2',
});
const logger = memoryLogger();
const fernet = fernetFor(config, logger);
const audit = { owner: null, at: new Date() };
await createConnection(db.knex, fernet, { conn_id: 'api', conn_type: 'http', host: '127.0.0.1', port: http.port, login: 'svc', password: API_PASSWORD }, audit);
await createConnection(db.knex, fernet, { conn_id: 'postgres_default', ...postgresConnectionFor(db.url), extra: null }, audit);
await parseDags(config, db.knex);
const scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, logger), logger, listenUrl: db.url });
await scheduler.start();
const triggerer = new Triggerer({ knex: db.knex, config, logger, capacity: 10 });
await triggerer.start();
afterAll(async () => {
  await triggerer.stop();
  await scheduler.stop(5_000);
});

type Run = { id: number; run_id: string; state: string };
async function trigger(dagId: string): Promise<Run> {
  await db.knex('dag').where('dag_id', dagId).update({ is_paused: false });
  const run = await triggerDagRun(db.knex, { dagId, now: new Date() });
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
const logOf = (row: { dag_id: string; run_id: string; task_id: string; map_index: number; try_number: number }) =>
  readFileSync(
    taskLogPath(config.logging.baseLogFolder, {
      dagId: row.dag_id,
      runId: row.run_id,
      taskId: row.task_id,
      mapIndex: row.map_index,
      tryNumber: row.try_number,
    }),
    'utf8',
  );
const deferredWithTrigger = async (run: Run, taskId: string) => {
  const row = await ti(run, taskId);
  if (row?.state !== 'deferred' || row.trigger_id === null) return undefined;
  return db.knex('trigger').where('id', row.trigger_id).first();
};

describe('deferrable HttpSensor and SqlSensor through a real triggerer', () => {
  it('HttpSensor: deferred (a 404 is "not yet") until the endpoint answers; the trigger row names the connection, never its password', async () => {
    const run = await trigger('http_sensor_defers');
    const row = await eventually('the sensor to be deferred', () => deferredWithTrigger(run, 'wait_for_export'));
    expect(row.classpath).toBe('airflow.providers.http.triggers.http.HttpSensorTrigger');
    expect(row.kwargs).toMatchObject({ httpConnId: 'api', endpoint: 'export', method: 'GET', pokeIntervalMs: 100 });
    expect(JSON.stringify(row.kwargs)).not.toContain(API_PASSWORD);
    await eventually('the triggerer to poke the endpoint', () => http.received.filter((r) => r.url === '/export').length >= 3);
    exportReady = true;
    const done = await finished(run);
    const sensor = await ti(run, 'wait_for_export');
    expect([done.state, sensor.state, sensor.try_number]).toEqual(['success', 'success', 1]);
    const log = logOf(sensor);
    expect(log).toMatch(/Pausing task as DEFERRED: airflow\.providers\.http\.triggers\.http\.HttpSensorTrigger/);
    expect(log).toMatch(/Resuming in executeComplete\(\) with the trigger's event: \{"status":200\}/);
    expect(log).not.toContain(API_PASSWORD);
    // The triggerer's requests carry the connection's basic auth.
    expect(http.received.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from(`svc:${API_PASSWORD}`).toString('base64')}`);
  });

  it('HttpSensor: a status outside the allowlist in the triggerer fails the task with the status and body', async () => {
    const run = await finished(await trigger('http_sensor_trigger_fails'));
    const sensor = await ti(run, 'broken');
    expect([run.state, sensor.state]).toEqual(['failed', 'failed']);
    const log = logOf(sensor);
    expect(log).toMatch(/Pausing task as DEFERRED/);
    expect(log).toContain(`TaskDeferralError: Trigger failure: 500:Internal Server Error from ${http.url}/broken: database on fire`);
  });

  it('SqlSensor: deferred until the row appears, then succeeds in the same try', async () => {
    const run = await trigger('sql_sensor_defers');
    const row = await eventually('the sensor to be deferred', () => deferredWithTrigger(run, 'wait_for_flag'));
    expect(row.classpath).toBe('airflow_ts.triggers.sql.SqlSensorTrigger');
    expect(row.kwargs).toMatchObject({ connId: 'postgres_default', sql: 'SELECT ready FROM trigger_flag WHERE ready = $1', parameters: [true] });
    await db.knex('trigger_flag').insert({ ready: true });
    const done = await finished(run);
    const sensor = await ti(run, 'wait_for_flag');
    expect([done.state, sensor.state, sensor.try_number]).toEqual(['success', 'success', 1]);
    expect(logOf(sensor)).toMatch(/Resuming in executeComplete\(\) with the trigger's event: \{"value":true\}/);
  });
});
