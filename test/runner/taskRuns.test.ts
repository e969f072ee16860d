import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pullXComs } from '../../db/xcom.ts';
import { taskLogPath } from '../../runner/taskLog.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { parseDags, runDagInProcess, testConfig } from '../helpers/runtime.ts';
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const db = await createTestDatabase();
const dags = tempDagsFolder();
copyFileSync(fileURLToPath(new URL('../fixtures/runs/behaviours.ts', import.meta.url)), path.join(dags, 'behaviours.ts'));
const config = await testConfig(dags, db.url, { AIRFLOW__CORE__XCOM_MAX_SIZE: '1000' });
await parseDags(config, db.knex);

describe('task runs end to end (in-process executor, real database)', () => {
  it('retries a failing task and succeeds on the second try, with one log file per attempt', async () => {
    const counter = path.join(mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-counter-')), 'tries');
    const { run, tis } = await runDagInProcess(config, db.knex, 'retrying', { counter });
    expect(run.state).toBe('success');
    expect(tis[0]).toMatchObject({ task_id: 'flaky', state: 'success', try_number: 2 });
    const logOf = (attempt: number) => taskLogPath(config.logging.baseLogFolder, { dagId: 'retrying', runId: run.run_id, taskId: 'flaky', mapIndex: -1, tryNumber: attempt });
    expect(readFileSync(logOf(1), 'utf8')).toMatch(/first try fails/);
    expect(readFileSync(logOf(1), 'utf8')).toMatch(/Marked up_for_retry/);
    expect(readFileSync(logOf(2), 'utf8')).toMatch(/outcome success/);
    expect(await pullXComs(db.knex, run.id, ['flaky'])).toEqual(['second try worked']);
  });

  it('AirflowFailException fails the task at once, without retries', async () => {
    const { run, tis } = await runDagInProcess(config, db.knex, 'fail_fast');
    expect(run.state).toBe('failed');
    expect(tis[0]).toMatchObject({ state: 'failed', try_number: 1 });
  });

  it('executionTimeout kills the bash process and fails the try', async () => {
    const started = Date.now();
    const { run, tis } = await runDagInProcess(config, db.knex, 'timing_out');
    expect(run.state).toBe('failed');
    expect(tis[0]!.state).toBe('failed');
    expect(Date.now() - started).toBeLessThan(25_000); // `sleep 30` did not run to its end
    const log = readFileSync(taskLogPath(config.logging.baseLogFolder, { dagId: 'timing_out', runId: run.run_id, taskId: 'sleepy', mapIndex: -1, tryNumber: 1 }), 'utf8');
    expect(log).toMatch(/timed out after 1 s \(executionTimeout\)/);
  });

  it('a branch skips the path not taken and the join still runs', async () => {
    const { run, states } = await runDagInProcess(config, db.knex, 'branching');
    expect(states).toEqual({ pick: 'success', left: 'success', right: 'skipped', after_right: 'skipped', join: 'success' });
    expect(run.state).toBe('success');
  });

  it('a short circuit skips everything downstream, whatever its trigger rules', async () => {
    const { states } = await runDagInProcess(config, db.knex, 'short_circuit');
    expect(states).toEqual({ gate: 'success', next: 'skipped', last: 'skipped' });
  });

  it('XComs flow from task to task, through functions and templates, with params from conf', async () => {
    const { run, states } = await runDagInProcess(config, db.knex, 'xcom_flow', { factor: 2 });
    expect(states).toEqual({ produce: 'success', consume: 'success', echo: 'success' });
    expect(await pullXComs(db.knex, run.id, ['produce', 'consume', 'echo'])).toEqual([{ rows: 14 }, 28, 'got 28']);
  });

  it('an XCom over core.xcomMaxSize fails the task with a message naming the task and the size', async () => {
    const { run, tis } = await runDagInProcess(config, db.knex, 'too_big');
    expect(tis[0]!.state).toBe('failed');
    const log = readFileSync(taskLogPath(config.logging.baseLogFolder, { dagId: 'too_big', runId: run.run_id, taskId: 'huge', mapIndex: -1, tryNumber: 1 }), 'utf8');
    expect(log).toMatch(/Task 'huge' pushed XCom 'return_value' of 5002 bytes, over the limit of 1000 bytes/);
    expect(existsSync(config.logging.baseLogFolder)).toBe(true);
  });
});
