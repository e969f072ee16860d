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
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const dags = tempDagsFolder();
copyFileSync(fileURLToPath(new URL('../fixtures/runs/triggerDagRun.ts', import.meta.url)), path.join(dags, 'triggerDagRun.ts'));
copyFileSync(fileURLToPath(new URL('../../dags/example_trigger_dag_run.ts', import.meta.url)), path.join(dags, 'example_trigger_dag_run.ts'));
// A waiting controller holds a slot while its target runs in another.
const config = await testConfig(dags, db.url, { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '3' });
await parseDags(config, db.knex);
await db.knex('dag').update({ is_paused: false });
const logger = memoryLogger();
const scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, logger), logger });
await scheduler.start();
afterAll(() => scheduler.stop(5_000));

type RunRow = { id: number; dag_id: string; run_id: string; state: string; conf: Record<string, unknown>; clear_number: number; run_type: string };

async function runToEnd(dagId: string): Promise<RunRow> {
  const run = await triggerDagRun(db.knex, { dagId, now: new Date() });
  scheduler.wake(true);
  return eventually(
    `run ${run.run_id} of ${dagId} to finish`,
    () => db.knex('dag_run').where('id', run.id).whereIn('state', ['success', 'failed']).first(),
    60_000,
  );
}

const controllerTi = (run: RunRow) => db.knex('task_instance').where({ dag_id: run.dag_id, run_id: run.run_id, task_id: 'trigger' }).first();
const targetRun = (runId: string): Promise<RunRow> => db.knex('dag_run').where({ dag_id: 'tdr_target', run_id: runId }).first();
const logOf = (ti: { dag_id: string; run_id: string; task_id: string; map_index: number; try_number: number }) =>
  readFileSync(
    taskLogPath(config.logging.baseLogFolder, { dagId: ti.dag_id, runId: ti.run_id, taskId: ti.task_id, mapIndex: ti.map_index, tryNumber: ti.try_number }),
    'utf8',
  );

describe('TriggerDagRunOperator on a real scheduler and LocalExecutor', () => {
  it('waitForCompletion: triggers the target with its rendered conf, waits for its success, and pushes the run id', async () => {
    const run = await runToEnd('tdr_wait_success');
    const ti = await controllerTi(run);
    expect([run.state, ti.state]).toEqual(['success', 'success']);
    const [triggeredId] = await pullXComs(db.knex, run.id, ['trigger'], 'trigger_run_id');
    const target = await targetRun(triggeredId as string);
    expect(target).toMatchObject({ state: 'success', run_type: 'manual', conf: { message: `from ${run.run_id}` } });
    const [logicalIso] = await pullXComs(db.knex, run.id, ['trigger'], 'trigger_logical_date_iso');
    expect(logicalIso).toBe((target as unknown as { logical_date: Date }).logical_date.toISOString());
    // The target's task ran with the conf (its XCom), and finished before the controller did.
    expect(await pullXComs(db.knex, target.id, ['work'], 'return_value')).toEqual([{ message: `from ${run.run_id}` }]);
    expect(logOf(ti)).toMatch(/ended in allowed state success/);
  });

  it('waitForCompletion: a target run that fails (failedStates) fails the controller task', async () => {
    const run = await runToEnd('tdr_wait_failure');
    const ti = await controllerTi(run);
    expect([run.state, ti.state]).toEqual(['failed', 'failed']);
    const [triggeredId] = await pullXComs(db.knex, run.id, ['trigger'], 'trigger_run_id');
    expect((await targetRun(triggeredId as string)).state).toBe('failed');
    expect(logOf(ti)).toMatch(/DAG 'tdr_target' run '.+' ended in failed state failed/);
  });

  it('resetDagRun: a second trigger of the same run id clears the target run, which runs again', async () => {
    const first = await runToEnd('tdr_reset');
    expect(first.state).toBe('success');
    const before = await targetRun('reset_me');
    expect([before.state, before.clear_number]).toEqual(['success', 0]);
    const second = await runToEnd('tdr_reset');
    expect(second.state).toBe('success');
    const after = await targetRun('reset_me');
    expect([after.id, after.state, after.clear_number]).toEqual([before.id, 'success', 1]);
    const work = await db.knex('task_instance').where({ dag_id: 'tdr_target', run_id: 'reset_me', task_id: 'work' }).first();
    expect([work.state, work.try_number]).toEqual(['success', 2]);
    expect(logOf(await controllerTi(second))).toMatch(/already had run 'reset_me'.*cleared it \(resetDagRun\)/);
  });

  it('skipWhenAlreadyExists: a second trigger of the same run id skips the task; without it the task fails', async () => {
    expect((await runToEnd('tdr_skip')).state).toBe('success');
    const second = await runToEnd('tdr_skip');
    const ti = await controllerTi(second);
    expect([second.state, ti.state]).toEqual(['success', 'skipped']);
    expect(await db.knex('dag_run').where({ dag_id: 'tdr_target', run_id: 'skip_me' }).count({ n: '*' })).toEqual([{ n: 1 }]);

    expect((await runToEnd('tdr_exists')).state).toBe('success');
    const failed = await runToEnd('tdr_exists');
    const failedTi = await controllerTi(failed);
    expect([failed.state, failedTi.state]).toEqual(['failed', 'failed']);
    expect(logOf(failedTi)).toMatch(/DagRunAlreadyExistsError: DAG 'tdr_target' already has a run with run id 'taken'/);
  });

  it('example_trigger_dag_run: the controller triggers the target with its message and reports its run', async () => {
    const run = await runToEnd('example_trigger_controller');
    expect(run.state).toBe('success');
    const [triggeredId] = await pullXComs(db.knex, run.id, ['trigger_target'], 'trigger_run_id');
    const target = await db.knex('dag_run').where({ dag_id: 'example_trigger_target', run_id: triggeredId }).first();
    expect(target.state).toBe('success');
    expect(await pullXComs(db.knex, target.id, ['greet'], 'return_value')).toEqual([`Hello from ${run.run_id}`]);
    expect(await pullXComs(db.knex, run.id, ['report'], 'return_value')).toEqual([`target run ${triggeredId} succeeded`]);
  });
});
