import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fernetFor } from '../../core/crypto/fernetKey.ts';
import { memoryLogger } from '../../core/logger.ts';
import { createConnection } from '../../db/models/connection.ts';
import { BaseTrigger, registerTrigger, type TriggerEvent } from '../../core/trigger.ts';
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

// The fixture's FailingTrigger resolves; the triggerer's class under that classpath throws.
class FailingTrigger extends BaseTrigger<{ reason: string }> {
  static override readonly classpath = 'test.FailingTrigger';
  async run(): Promise<TriggerEvent> {
    throw new Error(`trigger blew up: ${this.kwargs.reason}`);
  }
}
registerTrigger(FailingTrigger);

const db = await createTestDatabase();
const dags = tempDagsFolder();
copyFileSync(fileURLToPath(new URL('../fixtures/runs/deferral.ts', import.meta.url)), path.join(dags, 'deferral.ts'));
copyFileSync(fileURLToPath(new URL('../../dags/example_deferrable.ts', import.meta.url)), path.join(dags, 'example_deferrable.ts'));
// One worker slot: a deferred task must give it up for anything else to run.
const config = await testConfig(dags, db.url, {
  AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
  AIRFLOW__CORE__PARALLELISM: '1',
  AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: '0.2',
  AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC: '0.2',
});
await parseDags(config, db.knex);
const logger = memoryLogger();
const scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, logger), logger, listenUrl: db.url });
await scheduler.start();
const triggerers = [new Triggerer({ knex: db.knex, config, logger, capacity: 12 }), new Triggerer({ knex: db.knex, config, logger, capacity: 12 })];
await Promise.all(triggerers.map((t) => t.start()));
afterAll(async () => {
  await Promise.all(triggerers.map((t) => t.stop()));
  await scheduler.stop(5_000);
});

async function runToEnd(dagId: string, conf: Record<string, unknown> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-defer-'));
  await db.knex('dag').where('dag_id', dagId).update({ is_paused: false });
  const run = await triggerDagRun(db.knex, { dagId, conf: { dir, ...conf }, now: new Date() });
  scheduler.wake(true);
  const finished = await eventually(
    `run ${run.run_id} to finish`,
    async () => (await db.knex('dag_run').where('id', run.id).whereIn('state', ['success', 'failed']).first()) as { id: number; run_id: string; state: string },
    60_000,
  );
  return { ...finished, dir };
}

const tiOf = (dagId: string, taskId: string) => db.knex('task_instance').where({ dag_id: dagId, task_id: taskId }).first();
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
const calls = (dir: string, file: string) =>
  existsSync(path.join(dir, file)) ? readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean).length : 0;

describe('deferral through a real scheduler, LocalExecutor and triggerers', () => {
  it('a deferred task resumes in its method with the trigger event, in the same try, and succeeds', async () => {
    const run = await runToEnd('defer_resume');
    expect(run.state).toBe('success');
    const ti = await tiOf('defer_resume', 'wait');
    expect([ti.state, ti.try_number, ti.trigger_id, ti.next_method]).toEqual(['success', 1, null, 'resumed']);
    const [xcom] = await pullXComs(db.knex, run.id, ['wait']);
    expect((xcom as { kwargs: unknown }).kwargs).toEqual({ note: 'kept' });
    expect(typeof (xcom as { event: unknown }).event).toBe('string'); // the DateTimeTrigger's moment
    expect([calls(run.dir, 'wait.execute'), calls(run.dir, 'wait.resumed')]).toEqual([1, 1]);
    const log = logOf(ti);
    expect(log).toMatch(/Pausing task as DEFERRED: airflow\.triggers\.temporal\.DateTimeTrigger/);
    expect(log).toMatch(/Resuming in resumed\(\) with the trigger's event/);
    expect(await db.knex('trigger').count({ n: '*' })).toEqual([{ n: 0 }]); // fired triggers are deleted
  });

  it('a deferral past its timeout fails the task with TaskDeferralTimeout in its log', async () => {
    const run = await runToEnd('defer_timeout');
    expect(run.state).toBe('failed');
    const ti = await tiOf('defer_timeout', 'wait');
    expect(ti.state).toBe('failed');
    expect(calls(run.dir, 'wait.resumed')).toBe(0);
    expect(logOf(ti)).toMatch(/TaskDeferralTimeout: The trigger did not fire within the defer timeout/);
    // The unused trigger is cleaned up by a triggerer.
    await eventually('the timed-out trigger to be deleted', async () => Number((await db.knex('trigger').count({ n: '*' }))[0]!.n) === 0);
  });

  it('a trigger that throws fails the task with the error in its log', async () => {
    const run = await runToEnd('defer_failing_trigger');
    expect(run.state).toBe('failed');
    const ti = await tiOf('defer_failing_trigger', 'fails');
    expect(logOf(ti)).toMatch(/TaskDeferralError: Trigger failure: trigger blew up: boom/);
  });

  it('a trigger whose kwargs hold a password the try knows is refused: the task fails and no trigger row holds it', async () => {
    await createConnection(
      db.knex,
      fernetFor(config, logger),
      { conn_id: 'partner_api', conn_type: 'http', password: 'correct-horse-battery' },
      { owner: null, at: new Date() },
    );
    const run = await runToEnd('defer_secret_refused');
    expect(run.state).toBe('failed');
    const ti = await tiOf('defer_secret_refused', 'leaks');
    const log = logOf(ti);
    expect(log).toMatch(/the kwargs of airflow\.triggers\.file\.FileTrigger hold a secret; pass a connection id instead/);
    expect(log).not.toContain('correct-horse-battery');
    expect(await db.knex('trigger').whereRaw('kwargs::text LIKE ?', ['%correct-horse%']).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('two triggerers share twenty deferred tasks and resume each exactly once', async () => {
    const run = await runToEnd('defer_many');
    expect(run.state).toBe('success');
    const counts = Array.from({ length: 20 }, (_, i) => [calls(run.dir, `wait_${i}.execute`), calls(run.dir, `wait_${i}.resumed`)]);
    expect(counts).toEqual(Array.from({ length: 20 }, () => [1, 1]));
  });

  it('deferrable: true gives the TimeDeltaSensor’s worker slot up: with parallelism 1 another task runs while it waits', async () => {
    const run = await runToEnd('deferrable_frees_slot');
    expect(run.state).toBe('success');
    const sensor = await tiOf('deferrable_frees_slot', 'sensor');
    const other = await tiOf('deferrable_frees_slot', 'other');
    expect([sensor.state, sensor.try_number, other.state]).toEqual(['success', 1, 'success']);
    // The sensor was claimed first (priority); `other` ran and ended before the sensor resumed.
    expect(other.start_date.getTime()).toBeGreaterThanOrEqual(sensor.start_date.getTime());
    expect(other.end_date.getTime()).toBeLessThan(sensor.end_date.getTime());
    expect(logOf(sensor)).toMatch(/Pausing task as DEFERRED/);
  });

  it('example_deferrable: both sensors wait in the triggerer, then the file lands and the report runs', async () => {
    await db.knex('dag').where('dag_id', 'example_deferrable').update({ is_paused: false });
    const run = await triggerDagRun(db.knex, { dagId: 'example_deferrable', now: new Date() });
    scheduler.wake(true);
    const ds = run.logical_date.toISOString().slice(0, 10);
    const folder = `/tmp/airflow-ts-landing/deferrable/${ds}`;
    try {
      await eventually(
        'the file sensor to defer',
        async () => (await db.knex('task_instance').where({ run_id: run.run_id, task_id: 'wait_for_ready' }).first())?.state === 'deferred',
      );
      // settle's moment (5 s after the inferred data interval's end, a past midnight) has passed: it did not wait.
      expect((await db.knex('task_instance').where({ run_id: run.run_id, task_id: 'settle' }).first()).state).toBe('success');
      const waiting = await db
        .knex('trigger as t')
        .join('task_instance as ti', 'ti.trigger_id', 't.id')
        .where('ti.run_id', run.run_id)
        .select('t.classpath', 'ti.task_id');
      expect(waiting).toEqual([{ classpath: 'airflow.triggers.file.FileTrigger', task_id: 'wait_for_ready' }]);
      mkdirSync(folder, { recursive: true });
      writeFileSync(path.join(folder, 'ready'), '');
      const finished = await eventually(
        'the run to finish',
        async () => (await db.knex('dag_run').where('id', run.id).whereIn('state', ['success', 'failed']).first()) ?? undefined,
      );
      expect(finished.state).toBe('success');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('deferrable DateTimeSensor: defers to a DateTimeTrigger at its rendered target time and resumes after it', async () => {
    const at = new Date(Date.now() + 1_500);
    const run = await runToEnd('deferrable_date_time', { at: at.toISOString() });
    expect(run.state).toBe('success');
    const sensor = await tiOf('deferrable_date_time', 'until');
    const log = logOf(sensor);
    expect(log).toContain(`Pausing task as DEFERRED: airflow.triggers.temporal.DateTimeTrigger {"moment":"${at.toISOString()}"}`);
    expect(log).toMatch(/Resuming in executeComplete\(\)/);
    expect(sensor.end_date.getTime()).toBeGreaterThanOrEqual(at.getTime());
  });

  it('a deferrable sensor whose deferral times out is skipped with softFail, the reason in its log', async () => {
    const run = await runToEnd('deferrable_soft_fail');
    const sensor = await tiOf('deferrable_soft_fail', 'never');
    expect([run.state, sensor.state]).toEqual(['success', 'skipped']);
    expect(logOf(sensor)).toMatch(/Sensor has timed out while deferred: no event within the timeout of 0\.5 s/);
  });
});
