import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { taskLogPath } from '../../logging/fileTaskHandler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { AIRFLOW_BIN } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';

const db = await createTestDatabase();
const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
chmodSync(home, 0o755);
const dags = tempDagsFolder();
copyFileSync(fileURLToPath(new URL('../fixtures/runs/deferral.ts', import.meta.url)), path.join(dags, 'deferral.ts'));
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AIRFLOW_HOME: home,
  AIRFLOW__DATABASE__URL: db.url,
  AIRFLOW__CORE__DAGS_FOLDER: dags,
  AIRFLOW__CORE__LOAD_EXAMPLES: 'false',
  AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
  AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: '0.5',
  AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC: '0.5',
  // A triggerer silent for 2 s is gone: its triggers are claimed by another.
  AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD: '2',
};

const children: ChildProcess[] = [];
const start = (command: 'scheduler' | 'triggerer') => {
  const child = spawn(process.execPath, [AIRFLOW_BIN, command], { cwd: home, env, stdio: 'ignore' });
  children.push(child);
  return child;
};
const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
});

const triggerRow = () => db.knex('trigger').first('id', 'triggerer_id');

describe('a deferred task when its triggerer and scheduler are killed with SIGKILL', () => {
  it('is picked up by a new triggerer, resumes once when its file lands, and succeeds', async () => {
    const [scheduler, triggerer] = [start('scheduler'), start('triggerer')];
    await eventually('the DAG to be parsed', async () => (await db.knex('serialized_dag').where('dag_id', 'deferrable_file').first()) ?? undefined);
    await db.knex('dag').where('dag_id', 'deferrable_file').update({ is_paused: false });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-defer-'));
    const run = await triggerDagRun(db.knex, { dagId: 'deferrable_file', conf: { dir }, now: new Date() });
    const first = await eventually('the sensor to defer and its trigger to be claimed', async () => {
      const ti = await db.knex('task_instance').where({ dag_id: 'deferrable_file', run_id: run.run_id }).first('state');
      const trigger = await triggerRow();
      return ti?.state === 'deferred' && trigger?.triggerer_id ? trigger : undefined;
    });

    scheduler.kill('SIGKILL');
    triggerer.kill('SIGKILL');
    await Promise.all([exited(scheduler), exited(triggerer)]);
    const [, secondTriggerer] = [start('scheduler'), start('triggerer')];
    const second = await eventually('another triggerer to claim the trigger', async () => {
      const trigger = await triggerRow();
      return trigger && trigger.triggerer_id !== null && Number(trigger.triggerer_id) !== Number(first.triggerer_id) ? trigger : undefined;
    });
    expect(Number(second.id)).toBe(Number(first.id)); // the same trigger, not a new defer
    expect(await db.knex('task_instance').where({ dag_id: 'deferrable_file', run_id: run.run_id }).first('state')).toEqual({ state: 'deferred' });

    writeFileSync(path.join(dir, 'ready'), 'x');
    const ti = await eventually('the sensor to succeed', async () => {
      const row = await db.knex('task_instance').where({ dag_id: 'deferrable_file', run_id: run.run_id }).first();
      return row?.state === 'success' ? row : undefined;
    });
    expect(ti.try_number).toBe(1);
    const log = readFileSync(
      taskLogPath(path.join(home, 'logs'), { dagId: ti.dag_id, runId: ti.run_id, taskId: ti.task_id, mapIndex: ti.map_index, tryNumber: ti.try_number }),
      'utf8',
    );
    expect(log.match(/Pausing task as DEFERRED/g)).toHaveLength(1);
    expect(log.match(/Resuming in executeComplete\(\)/g)).toHaveLength(1);
    expect(await db.knex('trigger').count({ n: '*' })).toEqual([{ n: 0 }]);

    // A stopping triggerer hands its triggers back and ends its job.
    secondTriggerer.kill('SIGTERM');
    await exited(secondTriggerer);
    expect(await db.knex('job').where({ id: second.triggerer_id }).first('state')).toEqual({ state: 'success' });
  });
});
