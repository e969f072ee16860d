import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pullXComs } from '../../db/models/xcom.ts';
import { AIRFLOW_BIN, runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';

const db = await createTestDatabase();
const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
chmodSync(home, 0o755);
const dags = tempDagsFolder(['pipeline.ts']);
const cwd = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-cwd-'));
const baseEnv = {
  AIRFLOW_HOME: home,
  AIRFLOW__DATABASE__URL: db.url,
  AIRFLOW__CORE__DAGS_FOLDER: dags,
  AIRFLOW__CORE__LOAD_EXAMPLES: 'false',
  AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '0.1',
};

/** Polls `check` until it returns a value, or fails with `what` after the deadline. */

describe.each([
  ['SequentialExecutor', { AIRFLOW__CORE__EXECUTOR: 'SequentialExecutor' }],
  ['LocalExecutor', { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '2' }],
  ['LocalExecutor, a fresh process per task', { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__EXECUTE_TASKS_NEW_PROCESS: 'true' }],
])('airflow scheduler with the %s', (_name, executorEnv) => {
  const env = { ...baseEnv, ...executorEnv };
  const runId = `e2e_${executorEnv.AIRFLOW__CORE__EXECUTOR}_${'AIRFLOW__CORE__EXECUTE_TASKS_NEW_PROCESS' in executorEnv ? 'strict' : 'warm'}`;
  it('runs a triggered DAG from a temporary dags folder to success, XComs flowing task to task, and stops cleanly on SIGTERM', async () => {
    const scheduler = spawn(process.execPath, [AIRFLOW_BIN, 'scheduler'], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    scheduler.stdout.on('data', (c: Buffer) => (output += c.toString()));
    scheduler.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => scheduler.on('exit', (code) => resolve(code)));
    try {
      // The scheduler parses the folder itself; the DAG is unpaused at creation and catchup is off,
      // so it also creates the latest scheduled run. We trigger a manual one on top.
      await eventually('the DAG to be parsed', async () => (await db.knex('serialized_dag').where('dag_id', 'fixture_pipeline').first()) ?? undefined);
      const trigger = await runCli(['dags', 'trigger', 'fixture_pipeline', '--run-id', runId, '-o', 'json'], { env, cwd });
      expect(trigger.code, trigger.stderr).toBe(0);
      const run = await eventually('the run to finish', async () => {
        const row = await db.knex('dag_run').where({ dag_id: 'fixture_pipeline', run_id: runId }).first();
        return row && (row.state === 'success' || row.state === 'failed') ? row : undefined;
      });
      expect(run.state, output).toBe('success');
      expect(await pullXComs(db.knex, run.id, ['count', 'double', 'report'])).toEqual([21, 42, `total=42 for ${run.logical_date.toISOString().slice(0, 10)}`]);
      const states = await runCli(['tasks', 'states-for-dag-run', 'fixture_pipeline', runId, '-o', 'json'], { env, cwd });
      const rows = JSON.parse(states.stdout) as { task_id: string; state: string; try_number: number; start_date: string }[];
      expect(rows.map((r) => [r.task_id, r.state, r.try_number])).toEqual([
        ['count', 'success', 1],
        ['double', 'success', 1],
        ['report', 'success', 1],
      ]);
      expect(rows[0]!.start_date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/);
    } finally {
      scheduler.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(await db.knex('job').where({ job_type: 'SchedulerJob', state: 'running' }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });
});
