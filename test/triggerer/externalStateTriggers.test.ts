import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { pullXComs } from '../../db/models/xcom.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { taskLogPath } from '../../logging/fileTaskHandler.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { Triggerer } from '../../triggerer/triggererJob.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const dags = tempDagsFolder();
copyFileSync(fileURLToPath(new URL('../fixtures/runs/externalDeferral.ts', import.meta.url)), path.join(dags, 'externalDeferral.ts'));
// One worker slot: a wait that held it would leave the DAG it waits for no slot to run in.
const config = await testConfig(dags, db.url, {
  AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
  AIRFLOW__CORE__PARALLELISM: '1',
  AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC: '0.2',
});
await parseDags(config, db.knex);
await db.knex('dag').update({ is_paused: false });
const logger = memoryLogger();
const scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, logger), logger, listenUrl: db.url });
await scheduler.start();
const triggerer = new Triggerer({ knex: db.knex, config, logger });
await triggerer.start();
afterAll(async () => {
  await triggerer.stop();
  await scheduler.stop(5_000);
});

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
const tiOf = (run: RunRow, taskId: string) => db.knex('task_instance').where({ dag_id: run.dag_id, run_id: run.run_id, task_id: taskId }).first();
const logOf = (ti: { dag_id: string; run_id: string; task_id: string; map_index: number; try_number: number }) =>
  readFileSync(
    taskLogPath(config.logging.baseLogFolder, { dagId: ti.dag_id, runId: ti.run_id, taskId: ti.task_id, mapIndex: ti.map_index, tryNumber: ti.try_number }),
    'utf8',
  );

describe('deferrable waits on other DAGs, with one worker slot', () => {
  it('ExternalTaskSensor(deferrable): defers, frees the slot for the DAG it waits for, and resumes in the same try when its task succeeds', async () => {
    const day = new Date('2024-06-01T00:00:00Z');
    const sensorRun = await trigger('xd_sensor', day);
    await eventually('the sensor to be deferred', async () => (await tiOf(sensorRun, 'wait'))?.state === 'deferred');
    const upstream = await finished(await trigger('xd_upstream', day));
    expect(upstream.state).toBe('success');
    const run = await finished(sensorRun);
    const ti = await tiOf(run, 'wait');
    expect([run.state, ti.state, ti.try_number]).toEqual(['success', 'success', 1]);
    expect(logOf(ti)).toMatch(/Success criteria met \(trigger event .*"status":"success"/);
  });

  it('ExternalTaskSensor(deferrable): the external task failing fails the sensor with the reason', async () => {
    const day = new Date('2024-06-02T00:00:00Z');
    const sensorRun = await trigger('xd_sensor', day);
    await eventually('the sensor to be deferred', async () => (await tiOf(sensorRun, 'wait'))?.state === 'deferred');
    expect((await finished(await trigger('xd_upstream', day, { fail: true }))).state).toBe('failed');
    const run = await finished(sensorRun);
    const ti = await tiOf(run, 'wait');
    expect([run.state, ti.state]).toEqual(['failed', 'failed']);
    expect(logOf(ti)).toContain("DAG 'xd_upstream': publish at 2024-06-02T00:00:00.000Z in a failed state (failed)");
  });

  it('TriggerDagRunOperator(deferrable, waitForCompletion): the target runs in the freed slot; its success or failure decides the task', async () => {
    const ok = await finished(await trigger('xd_controller', new Date('2024-07-01T00:00:00Z')));
    const okTi = await tiOf(ok, 'trigger');
    expect([ok.state, okTi.state, okTi.try_number]).toEqual(['success', 'success', 1]);
    const [targetRunId] = await pullXComs(db.knex, ok.id, ['trigger'], 'trigger_run_id');
    expect((await db.knex('dag_run').where({ dag_id: 'xd_target', run_id: targetRunId }).first()).state).toBe('success');
    expect(logOf(okTi)).toContain(`Deferring until DAG 'xd_target' run '${targetRunId}' is success or failed`);
    expect(logOf(okTi)).toContain(`DAG 'xd_target' run '${targetRunId}' ended in allowed state success`);

    const failed = await finished(await trigger('xd_controller_fail', new Date('2024-07-02T00:00:00Z')));
    const failedTi = await tiOf(failed, 'trigger');
    expect([failed.state, failedTi.state]).toEqual(['failed', 'failed']);
    expect(logOf(failedTi)).toMatch(/DAG 'xd_target' run '.+' ended in failed state failed/);
  });
});
