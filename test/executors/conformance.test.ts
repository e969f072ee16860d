import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../config/schema.ts';
import { memoryLogger } from '../../core/logger.ts';
import type { SerializedDag } from '../../core/serialize.ts';
import type { ExecutorEvent } from '../../executors/base.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { taskLogPath } from '../../logging/fileTaskHandler.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { clearTaskInstances } from '../../services/clearTaskInstances.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';
import { IMAGE, startFakeCluster } from '../kubernetes/fakeCluster.ts';

/**
 * The executor conformance suite: the same behaviours, through a real
 * scheduler, for every executor (as BullMQ runs one suite against each of
 * its backends). Every task runs in a real process (a warm worker, an
 * `airflow tasks run` process, or a "pod" the fake Kubernetes API server
 * starts) against this file's database. An executor only reports what
 * happened to its processes (ADR 0002); these tests check that what it
 * reports is enough for the scheduler to finish every run correctly.
 */

// Task processes inherit this environment (pods get it below): their heartbeat, which is how a running
// try notices it was cleared, as fast as the test config's.
process.env.AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC = '0.2';

const db = await createTestDatabase();
const dags = tempDagsFolder();
copyFileSync(fileURLToPath(new URL('../fixtures/runs/conformance.ts', import.meta.url)), path.join(dags, 'conformance.ts'));
await parseDags(await testConfig(dags, db.url), db.knex);
const cluster = await startFakeCluster({ deleteGraceMs: 1_000 });

/** The KubernetesExecutor's settings: pods run in the fake cluster's AIRFLOW_HOME, with this file's database and DAGs. */
const kubernetesEnv = {
  AIRFLOW_HOME: cluster.home,
  AIRFLOW__CORE__EXECUTOR: 'KubernetesExecutor',
  AIRFLOW__CORE__PARALLELISM: '2',
  AIRFLOW__KUBERNETES__CONFIG_FILE: cluster.kubeconfig,
  AIRFLOW__KUBERNETES__NAMESPACE: 'airflow',
  AIRFLOW__KUBERNETES__WORKER_CONTAINER_IMAGE: IMAGE,
  AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: '0.2',
  AIRFLOW__KUBERNETES__ENV: JSON.stringify({
    AIRFLOW_HOME: cluster.home,
    AIRFLOW__DATABASE__URL: db.url,
    AIRFLOW__CORE__DAGS_FOLDER: dags,
    AIRFLOW__CORE__LOAD_EXAMPLES: 'false',
    AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC: '0.2',
  }),
};

const executors: { name: string; key: string; parallelism: number; env: Record<string, string> }[] = [
  { name: 'SequentialExecutor', key: 'sequential', parallelism: 1, env: { AIRFLOW__CORE__EXECUTOR: 'SequentialExecutor' } },
  {
    name: 'LocalExecutor (warm workers)',
    key: 'local_warm',
    parallelism: 2,
    env: { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '2' },
  },
  {
    name: 'LocalExecutor (core.executeTasksNewProcess)',
    key: 'local_process',
    parallelism: 2,
    env: { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '2', AIRFLOW__CORE__EXECUTE_TASKS_NEW_PROCESS: 'true' },
  },
  { name: 'KubernetesExecutor (fake API server)', key: 'kubernetes', parallelism: 2, env: kubernetesEnv },
];

// Should a stop be broken, the hour-long sleep must not outlive the test.
const pidFiles: string[] = [];
afterAll(() => {
  for (const file of pidFiles) if (isAlive(readPid(file))) process.kill(readPid(file), 'SIGKILL');
});

describe.each(executors)('$name', ({ key, parallelism, env }) => {
  let config: ResolvedConfig;
  let scheduler: Scheduler;
  /** Every event the executor reported, as the scheduler drained them. */
  const events: ExecutorEvent[] = [];
  beforeAll(async () => {
    config = await testConfig(dags, db.url, env);
    const logger = memoryLogger();
    const executor = createExecutor(config, db.url, logger);
    const drain = executor.drainEvents.bind(executor);
    executor.drainEvents = () => {
      const drained = drain();
      events.push(...drained);
      return drained;
    };
    scheduler = new Scheduler({ knex: db.knex, config, executor, logger });
    await scheduler.start();
  });
  afterAll(() => scheduler.stop(5_000));

  /** Triggers a run of `dagId` with a scratch folder of its own as `conf.dir`. */
  async function trigger(dagId: string) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `airflow-ts-conformance-${key}-`));
    const run = await triggerDagRun(db.knex, { dagId, runId: `${key}__${dagId}`, conf: { dir }, now: new Date() });
    scheduler.wake(true);
    return { run, dir };
  }

  async function finished(dagId: string, runId: string): Promise<string> {
    return eventually(`${dagId} ${runId} to finish`, async () => {
      const row = await db.knex('dag_run').where({ dag_id: dagId, run_id: runId }).first('state');
      return row?.state === 'success' || row?.state === 'failed' ? (row.state as string) : undefined;
    });
  }

  const taskInstance = (dagId: string, runId: string, taskId: string) =>
    db.knex('task_instance').where({ dag_id: dagId, run_id: runId, task_id: taskId }).first('id', 'state', 'try_number', 'start_date', 'end_date');
  const xcomOf = async (dagId: string, runId: string, taskId: string) =>
    (await db.knex('xcom').where({ dag_id: dagId, run_id: runId, task_id: taskId, key: 'return_value' }).first('value'))?.value;
  const logOf = (dagId: string, runId: string, taskId: string, tryNumber: number) =>
    readFileSync(taskLogPath(config.logging.baseLogFolder, { dagId, runId, taskId, mapIndex: -1, tryNumber }), 'utf8');

  it('runs tasks to success and records their XComs, from one task process to the next', async () => {
    const { run } = await trigger('conformance_xcom');
    expect(await finished('conformance_xcom', run.run_id)).toBe('success');
    expect(await taskInstance('conformance_xcom', run.run_id, 'consume')).toMatchObject({ state: 'success', try_number: 1 });
    expect(await xcomOf('conformance_xcom', run.run_id, 'produce')).toEqual({ n: 21 });
    expect(await xcomOf('conformance_xcom', run.run_id, 'consume')).toBe(42);
  });

  it('retries a failing task, which succeeds on try 2 after exactly two attempts', async () => {
    const { run, dir } = await trigger('conformance_retry');
    expect(await finished('conformance_retry', run.run_id)).toBe('success');
    expect(readFileSync(path.join(dir, 'tries'), 'utf8')).toBe('1\n2\n');
    const ti = await taskInstance('conformance_retry', run.run_id, 'flaky');
    expect(ti).toMatchObject({ state: 'success', try_number: 2 });
    // Each report names its try: the scheduler may queue try 2 before it reads try 1's report, which must not fail it.
    const reports = await eventually('the report of try 2', () => {
      const about = events.filter((e) => e.tiId === ti.id);
      return about.length >= 2 && about;
    });
    expect(reports.map((e) => e.tryNumber)).toEqual([1, 2]);
    expect(await xcomOf('conformance_retry', run.run_id, 'flaky')).toBe('succeeded on try 2');
    expect(logOf('conformance_retry', run.run_id, 'flaky', 1)).toMatch(/the first attempt fails/);
  });

  it('reports a process killed mid-task to the scheduler, which fails the try (the task is not lost)', async () => {
    const { run, dir } = await trigger('conformance_killed');
    // The zombie threshold is 300 s: within the deadline only the executor's event can fail the try.
    expect(await finished('conformance_killed', run.run_id)).toBe('failed');
    expect(existsSync(path.join(dir, 'pid'))).toBe(true); // the task did start, and killed its own process
    expect(await taskInstance('conformance_killed', run.run_id, 'victim')).toMatchObject({ state: 'failed', try_number: 1 });
    // The try's log says why: its runner is gone, so the scheduler wrote the executor's report there.
    expect(logOf('conformance_killed', run.run_id, 'victim', 1)).toMatch(/ended without recording a result; marked failed\. Reason: /);
  });

  it(`runs at most ${parallelism} task(s) at once (core.parallelism)`, async () => {
    const { run, dir } = await trigger('conformance_parallel');
    const started = () => readdirSync(dir).filter((f) => f.startsWith('started-')).length;
    try {
      await eventually(`${parallelism} task(s) to start`, () => started() >= parallelism);
      // No more start while these hold: a full scheduler pass that began after they started, and ended
      // (the next one began), had every chance to hand out another task and did not.
      const since = Date.now();
      const pass = await eventually('a full pass after they started', () => scheduler['lastFullPass'] > since && scheduler['lastFullPass']);
      await eventually('that pass to end', () => scheduler['lastFullPass'] > pass);
      expect(started()).toBe(parallelism);
      const active = await db.knex('task_instance').where({ dag_id: 'conformance_parallel', run_id: run.run_id }).whereIn('state', ['queued', 'running']);
      expect(active).toHaveLength(parallelism);
    } finally {
      writeFileSync(path.join(dir, 'release'), ''); // even on failure, so the held tasks end
    }
    expect(await finished('conformance_parallel', run.run_id)).toBe('success');
    // Most task instances running at any instant, from their recorded start and end times.
    const tis: { start_date: Date; end_date: Date }[] = await db.knex('task_instance').where({ dag_id: 'conformance_parallel', run_id: run.run_id });
    const edges = tis.flatMap((ti) => [
      [ti.start_date.getTime(), 1],
      [ti.end_date.getTime(), -1],
    ]);
    edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    let running = 0;
    let most = 0;
    for (const [, delta] of edges) most = Math.max(most, (running += delta!));
    expect(most).toBe(parallelism);
  });

  it('stops a running task that is cleared, and runs it again as try 2', async () => {
    const { run, dir } = await trigger('conformance_clear');
    const pidFile = path.join(dir, 'pid');
    pidFiles.push(pidFile);
    await eventually('try 1 to run its shell', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
    const pid = readPid(pidFile);
    const { data: dag } = (await db.knex('serialized_dag').where('dag_id', 'conformance_clear').first('data')) as { data: SerializedDag };
    const cleared = await clearTaskInstances(db.knex, { dag, runIds: [run.run_id], taskIds: ['hold'], now: new Date() });
    expect(cleared.map((ti) => ti.state)).toEqual(['running']);
    scheduler.wake(true);
    // The hour-long sleep can end within the deadline only if try 1 was stopped.
    await eventually("try 1's process to be stopped", () => !isAlive(pid));
    expect(await finished('conformance_clear', run.run_id)).toBe('success');
    expect(await taskInstance('conformance_clear', run.run_id, 'hold')).toMatchObject({ state: 'success', try_number: 2 });
    expect(await xcomOf('conformance_clear', run.run_id, 'hold')).toBe('ran again on try 2');
  });
});

function readPid(file: string): number {
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : 0;
}

function isAlive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
