import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const dags = tempDagsFolder();
copyFileSync(fileURLToPath(new URL('../fixtures/runs/sensors.ts', import.meta.url)), path.join(dags, 'sensors.ts'));
copyFileSync(fileURLToPath(new URL('../../dags/example_sensors.ts', import.meta.url)), path.join(dags, 'example_sensors.ts'));
// One worker slot, and a scheduler that would idle for ten minutes: a sensor's next poke is on time only
// because the scheduler wakes for its reschedule date.
const config = await testConfig(dags, db.url, {
  AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
  AIRFLOW__CORE__PARALLELISM: '1',
  AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '600',
});
await parseDags(config, db.knex);
const logger = memoryLogger();
const scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, logger), logger });
await scheduler.start();
afterAll(() => scheduler.stop(5_000));

async function runToEnd(dagId: string, conf: Record<string, unknown> = {}) {
  await db.knex('dag').where('dag_id', dagId).update({ is_paused: false });
  const run = await triggerDagRun(db.knex, { dagId, conf, now: new Date() });
  scheduler.wake(true);
  return eventually(
    `run ${run.run_id} to finish`,
    async () => (await db.knex('dag_run').where('id', run.id).whereIn('state', ['success', 'failed']).first()) as { id: number; run_id: string; state: string },
    60_000,
  );
}

const ti = (dagId: string, taskId: string) => db.knex('task_instance').where({ dag_id: dagId, task_id: taskId }).first();
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

describe('sensors on a real scheduler and LocalExecutor', () => {
  it('reschedule mode frees the only worker slot between pokes, keeps its try number and records each poke', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-sensor-'));
    const run = await runToEnd('reschedule_frees_slot', { dir });
    expect(run.state).toBe('success');
    const sensor = await ti('reschedule_frees_slot', 'wait_for_file');
    const maker = await ti('reschedule_frees_slot', 'maker');
    expect([sensor.state, sensor.try_number, maker.state]).toEqual(['success', 1, 'success']);
    const reschedules = await taskReschedulesOfTry(db.knex, sensor.id, 1);
    expect(reschedules.length).toBeGreaterThanOrEqual(1);
    // maker ran after the sensor's first poke ended (the slot was free) and before its last poke began.
    expect(maker.start_date.getTime()).toBeGreaterThanOrEqual(reschedules[0]!.end_date.getTime());
    expect(maker.end_date.getTime()).toBeLessThanOrEqual(sensor.start_date.getTime());
    expect(await db.knex('task_reschedule').where('ti_id', sensor.id).whereNot('try_number', 1).count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(logOf(sensor)).toMatch(/marking task as UP_FOR_RESCHEDULE; next poke at/);
  });

  it('softFail: a reschedule-mode sensor whose timeout passes (counted from its first poke) is skipped', async () => {
    const run = await runToEnd('sensor_soft_fail');
    const sensor = await ti('sensor_soft_fail', 'never');
    expect([run.state, sensor.state, sensor.try_number]).toEqual(['success', 'skipped', 1]);
    expect((await taskReschedulesOfTry(db.knex, sensor.id, 1)).length).toBeGreaterThanOrEqual(2);
    expect(logOf(sensor)).toMatch(/Skipping: Sensor has timed out; run duration of [\d.]+ seconds exceeds the specified timeout of 1 s/);
  });

  it('a sensor that times out fails without using its retries, the reason in its log', async () => {
    const run = await runToEnd('sensor_times_out');
    const sensor = await ti('sensor_times_out', 'never');
    expect([run.state, sensor.state, sensor.try_number]).toEqual(['failed', 'failed', 1]);
    expect(logOf(sensor)).toMatch(/AirflowSensorTimeout: Sensor has timed out; run duration of [\d.]+ seconds exceeds the specified timeout of 1 s/);
  });

  it("poke mode: a PokeReturnValue's xcomValue becomes the return_value XCom", async () => {
    const run = await runToEnd('sensor_poke_xcom');
    expect(run.state).toBe('success');
    expect(await pullXComs(db.knex, run.id, ['third_time'], 'return_value')).toEqual([{ pokes: 3 }]);
  });

  it('poke mode: executionTimeout cuts the wait between pokes short (the sensor stops at once, not after its grace)', async () => {
    const run = await runToEnd('sensor_execution_timeout');
    const sensor = await ti('sensor_execution_timeout', 'slow');
    expect([run.state, sensor.state]).toEqual(['failed', 'failed']);
    const log = logOf(sensor);
    expect(log).toMatch(/Task timed out after 1 s \(executionTimeout\)/);
    expect(log).not.toMatch(/did not stop/);
    expect(sensor.duration).toBeLessThan(5);
  });

  it('FileSensor: a file matching its glob under the fs connection lands between reschedules', async () => {
    const landing = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-landing-'));
    await createConnection(
      db.knex,
      fernetFor(config, logger),
      { conn_id: 'landing', conn_type: 'fs', extra: JSON.stringify({ path: landing }) },
      { owner: null, at: new Date() },
    );
    const finished = runToEnd('sensor_file_lands', { day: '2024-05-01' });
    await eventually('the sensor to be rescheduled once', async () => {
      const sensor = await ti('sensor_file_lands', 'wait_for_orders');
      return sensor && (await taskReschedulesOfTry(db.knex, sensor.id, 1)).length > 0;
    });
    mkdirSync(path.join(landing, 'orders/2024-05-01'), { recursive: true });
    writeFileSync(path.join(landing, 'orders/2024-05-01/part-1.csv'), 'id\n1\n');
    const run = await finished;
    const sensor = await ti('sensor_file_lands', 'wait_for_orders');
    expect([run.state, sensor.state, sensor.try_number]).toEqual(['success', 'success', 1]);
    expect(logOf(sensor)).toContain(`Found file ${path.join(landing, 'orders/2024-05-01/part-1.csv')}`);
  });

  it("BashSensor: executionTimeout ends the try and the command's children with it", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-bash-sensor-'));
    const run = await runToEnd('bash_sensor_times_out', { dir });
    const sensor = await ti('bash_sensor_times_out', 'hangs');
    expect([run.state, sensor.state]).toEqual(['failed', 'failed']);
    expect(logOf(sensor)).toMatch(/Task timed out after 1.5 s \(executionTimeout\)/);
    const child = Number(readFileSync(path.join(dir, 'child.pid'), 'utf8'));
    await eventually('the sleep the command started to be gone', () => {
      try {
        process.kill(child, 0);
        return false;
      } catch {
        return true;
      }
    });
  });

  it("example_sensors: waits for the day's orders file without holding the slot, then loads it", async () => {
    await db.knex('dag').where('dag_id', 'example_sensors').update({ is_paused: false });
    const triggered = await triggerDagRun(db.knex, { dagId: 'example_sensors', now: new Date() });
    scheduler.wake(true);
    const folder = `/tmp/airflow-ts-landing/orders/${triggered.logical_date.toISOString().slice(0, 10)}`;
    try {
      await eventually('the sensor to be up for reschedule', async () => (await ti('example_sensors', 'wait_for_orders'))?.state === 'up_for_reschedule');
      mkdirSync(folder, { recursive: true });
      writeFileSync(path.join(folder, 'part-1.csv'), 'id,amount\n1,9.5\n2,3\n');
      // Its next poke is 10 s after the first (pokeInterval).
      const run = await eventually(
        'the run to finish',
        async () => (await db.knex('dag_run').where('id', triggered.id).whereIn('state', ['success', 'failed']).first()) as { id: number; state: string },
        60_000,
      );
      expect(run.state).toBe('success');
      expect(await pullXComs(db.knex, run.id, ['load_orders'], 'return_value')).toEqual(['2']);
      // This run's instances: once unpaused, the @daily DAG also gets a scheduled run of its own.
      const states = await db
        .knex('task_instance')
        .where({ dag_id: 'example_sensors', run_id: triggered.run_id })
        .whereIn('task_id', ['after_cutoff', 'disk_has_room', 'orders_readable'])
        .pluck('state');
      expect(states).toEqual(['success', 'success', 'success']);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 90_000);
});
