import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { transitionTaskInstance } from '../../db/transitions.ts';
import { pullXComs } from '../../db/models/xcom.ts';
import { failZombies } from '../../scheduler/executorEvents.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { taskLogPath } from '../../logging/fileTaskHandler.ts';
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
    const logOf = (attempt: number) =>
      taskLogPath(config.logging.baseLogFolder, { dagId: 'retrying', runId: run.run_id, taskId: 'flaky', mapIndex: -1, tryNumber: attempt });
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
    // The command sleeps an hour: the run can end within the test's deadline only if the timeout kills it.
    const pidFile = newPidFile();
    const { run, tis } = await runDagInProcess(config, db.knex, 'timing_out', { pidFile });
    expect(run.state).toBe('failed');
    expect(tis[0]!.state).toBe('failed');
    await eventually(async () => (isAlive(readPid(pidFile)) ? undefined : true)); // the `sleep 3600` itself was killed
    const log = readFileSync(
      taskLogPath(config.logging.baseLogFolder, { dagId: 'timing_out', runId: run.run_id, taskId: 'sleepy', mapIndex: -1, tryNumber: 1 }),
      'utf8',
    );
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
    const log = readFileSync(
      taskLogPath(config.logging.baseLogFolder, { dagId: 'too_big', runId: run.run_id, taskId: 'huge', mapIndex: -1, tryNumber: 1 }),
      'utf8',
    );
    expect(log).toMatch(/Task 'huge' pushed XCom 'return_value' of 5002 bytes, over the limit of 1000 bytes/);
    expect(existsSync(config.logging.baseLogFolder)).toBe(true);
  });
});

describe('callbacks, external state changes and zombies', () => {
  it('calls onSuccessCallback and onFailureCallback with the context (and the exception)', async () => {
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-marker-')), 'calls');
    const { states } = await runDagInProcess(config, db.knex, 'callbacks', { marker });
    expect(states).toEqual({ ok: 'success', broken: 'failed' });
    expect(readFileSync(marker, 'utf8')).toBe('success:ok\nfailure:broken:boom\n');
  });

  it('stops a running task whose state someone changed (here: marked success) and keeps that state', async () => {
    // The command sleeps an hour: the run can end within the test's deadline only if the sleep is stopped.
    const pidFile = newPidFile();
    const running = runDagInProcess(config, db.knex, 'interruptible', { pidFile });
    const ti = await eventually(async () => db.knex('task_instance').where({ dag_id: 'interruptible', state: 'running' }).first());
    await transitionTaskInstance(db.knex, ti.id, { to: 'success', now: new Date() });
    const { run, states } = await running;
    expect(states).toEqual({ long: 'success' });
    expect(run.state).toBe('success');
    await eventually(async () => (isAlive(readPid(pidFile)) ? undefined : true)); // the `sleep 3600` itself was stopped
    await eventually(async () => {
      const log = readFileSync(
        taskLogPath(config.logging.baseLogFolder, { dagId: 'interruptible', runId: run.run_id, taskId: 'long', mapIndex: -1, tryNumber: 1 }),
        'utf8',
      );
      return /state changed externally to success/.test(log) && /result was not recorded/.test(log) ? true : undefined;
    });
  });

  it('fails the try of a running task whose runner stopped heartbeating (zombie), with a retry if one is left', async () => {
    await triggerDagRun(db.knex, { dagId: 'retrying', runId: 'zombie_run', conf: { counter: '/dev/null' }, now: new Date() });
    const ti = await db.knex('task_instance').where({ dag_id: 'retrying', run_id: 'zombie_run' }).first();
    const longAgo = new Date(Date.now() - 3_600_000);
    for (const to of ['scheduled', 'queued', 'running'] as const) await transitionTaskInstance(db.knex, ti.id, { to, now: longAgo });
    // Heartbeats are written and judged by the database's clock.
    await db
      .knex('task_instance')
      .where('id', ti.id)
      .update({ last_heartbeat_at: db.knex.raw("now() - interval '1 hour'") });
    expect(await failZombies(db.knex, { now: new Date(), thresholdMs: 300_000, logger: memoryLogger() })).toBe(1);
    expect(await db.knex('task_instance').where('id', ti.id).first('state', 'try_number')).toEqual({ state: 'up_for_retry', try_number: 1 });
  });
});

const pidFiles: string[] = [];
// Should a kill be broken, the hour-long sleeps must not outlive the test.
afterAll(() => {
  for (const file of pidFiles) if (existsSync(file) && isAlive(readPid(file))) process.kill(readPid(file), 'SIGKILL');
});

function newPidFile(): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-pid-')), 'pid');
  pidFiles.push(file);
  return file;
}

function readPid(file: string): number {
  return Number(readFileSync(file, 'utf8').trim());
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 50));
  }
}
