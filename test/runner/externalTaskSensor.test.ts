import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
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
copyFileSync(fileURLToPath(new URL('../fixtures/runs/externalTaskSensor.ts', import.meta.url)), path.join(dags, 'externalTaskSensor.ts'));
copyFileSync(fileURLToPath(new URL('../../dags/example_external_task_sensor.ts', import.meta.url)), path.join(dags, 'example_external_task_sensor.ts'));
const config = await testConfig(dags, db.url, { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '2' });
await parseDags(config, db.knex);
await db.knex('dag').update({ is_paused: false });
const logger = memoryLogger();
const scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, logger), logger });
await scheduler.start();
afterAll(() => scheduler.stop(5_000));

type RunRow = { id: number; dag_id: string; run_id: string; state: string };

async function trigger(dagId: string, logicalDate: Date, conf: Record<string, unknown> = {}): Promise<RunRow> {
  const run = await triggerDagRun(db.knex, { dagId, logicalDate, conf, now: new Date() });
  scheduler.wake(true);
  return run;
}
const finished = (run: RunRow): Promise<RunRow> =>
  eventually(
    `run ${run.run_id} of ${run.dag_id} to finish`,
    () => db.knex('dag_run').where('id', run.id).whereIn('state', ['success', 'failed']).first(),
    60_000,
  );
const sensorOf = (run: RunRow, taskId = 'wait') => db.knex('task_instance').where({ dag_id: run.dag_id, run_id: run.run_id, task_id: taskId }).first();
/** The sensor has poked at least once and found nothing yet: it waits for the external run. */
const rescheduled = (run: RunRow, taskId = 'wait') =>
  eventually(`${run.dag_id}.${taskId} to be rescheduled`, async () => {
    const ti = await sensorOf(run, taskId);
    return ti && (await taskReschedulesOfTry(db.knex, ti.id, 1)).length > 0;
  });
const logOf = (ti: { dag_id: string; run_id: string; task_id: string; map_index: number; try_number: number }) =>
  readFileSync(
    taskLogPath(config.logging.baseLogFolder, { dagId: ti.dag_id, runId: ti.run_id, taskId: ti.task_id, mapIndex: ti.map_index, tryNumber: ti.try_number }),
    'utf8',
  );

describe('ExternalTaskSensor on a real scheduler and LocalExecutor', () => {
  it("waits, between reschedules, for the other DAG's task at the same logical date, then succeeds", async () => {
    const day = new Date('2024-06-01T00:00:00Z');
    const sensorRun = await trigger('ets_wait_task', day);
    await rescheduled(sensorRun);
    // A run of the upstream DAG at another date does not count.
    expect((await finished(await trigger('ets_upstream', new Date('2024-06-02T00:00:00Z')))).state).toBe('success');
    expect((await sensorOf(sensorRun)).state).not.toBe('success');
    expect((await finished(await trigger('ets_upstream', day))).state).toBe('success');
    const run = await finished(sensorRun);
    const ti = await sensorOf(run);
    expect([run.state, ti.state, ti.try_number]).toEqual(['success', 'success', 1]);
    expect(logOf(ti)).toContain("Poking for tasks publish of DAG 'ets_upstream' on 2024-06-01T00:00:00.000Z");
  });

  it('failedStates: the external task failing fails the sensor with the reason; with softFail it is skipped', async () => {
    const day = new Date('2024-07-01T00:00:00Z');
    const failing = await trigger('ets_wait_failed', day);
    const soft = await trigger('ets_soft_fail', day);
    await rescheduled(failing);
    await rescheduled(soft);
    expect((await finished(await trigger('ets_upstream', day, { fail: true }))).state).toBe('failed');
    const failedRun = await finished(failing);
    const failedTi = await sensorOf(failedRun);
    expect([failedRun.state, failedTi.state]).toEqual(['failed', 'failed']);
    expect(logOf(failedTi)).toContain("tasks publish of DAG 'ets_upstream': publish at 2024-07-01T00:00:00.000Z in a failed state (failed)");
    const softRun = await finished(soft);
    expect([softRun.state, (await sensorOf(softRun)).state]).toEqual(['success', 'skipped']);
  });

  it('executionDelta: waits for the whole upstream run an hour earlier', async () => {
    const sensorRun = await trigger('ets_delta', new Date('2024-08-01T01:00:00Z'));
    await rescheduled(sensorRun);
    expect((await finished(await trigger('ets_upstream', new Date('2024-08-01T01:00:00Z')))).state).toBe('success');
    expect((await sensorOf(sensorRun)).state).not.toBe('success'); // the same date is not the one an hour earlier
    expect((await finished(await trigger('ets_upstream', new Date('2024-08-01T00:00:00Z')))).state).toBe('success');
    expect((await finished(sensorRun)).state).toBe('success');
  });

  it("executionDateFn and a task group: waits for every task of the group at the function's date", async () => {
    const sensorRun = await trigger('ets_group_date_fn', new Date('2024-09-02T00:00:00Z'));
    await rescheduled(sensorRun);
    expect((await finished(await trigger('ets_upstream', new Date('2024-09-01T00:00:00Z')))).state).toBe('success');
    const run = await finished(sensorRun);
    expect(run.state).toBe('success');
    expect(logOf(await sensorOf(run))).toContain("Poking for tasks grp.a, grp.b (task group grp) of DAG 'ets_upstream' on 2024-09-01T00:00:00.000Z");
  });

  it('checkExistence: a task the external DAG does not have fails the sensor at its first poke', async () => {
    const run = await finished(await trigger('ets_missing', new Date('2024-10-01T00:00:00Z')));
    const ti = await sensorOf(run);
    expect([run.state, ti.state]).toEqual(['failed', 'failed']);
    expect(logOf(ti)).toContain("The external task 'no_such_task' in DAG 'ets_upstream' does not exist.");
  });

  it('example_external_task_sensor: the consumer waits for the publisher of the same day and pulls its report', async () => {
    const day = new Date('2024-11-05T00:00:00Z');
    const consumer = await trigger('example_external_consumer', day);
    await rescheduled(consumer, 'wait_for_publish');
    expect((await finished(await trigger('example_external_publisher', day))).state).toBe('success');
    const run = await finished(consumer);
    expect(run.state).toBe('success');
    expect(await pullXComs(db.knex, run.id, ['consume'], 'return_value')).toEqual(['consumed report for 2024-11-05']);
  });
});
