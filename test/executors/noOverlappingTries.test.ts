import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { transitionTaskInstance } from '../../db/transitions.ts';
import { runTaskInstance } from '../../runner/runTaskInstance.ts';
import { taskLogPath } from '../../logging/fileTaskHandler.ts';
import { applyExecutorEvents } from '../../scheduler/executorEvents.ts';
import { TRY_MARK_ENV } from '../../core/tryMark.ts';
import { tryMark } from '../../runner/tryProcesses.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

// A try's body appends "start N" to a file, sleeps (try 1: 10 s, long enough for its retry to start
// meanwhile; try 2: 1 s), appends "end N". Try 1's runner process is killed with SIGKILL mid-body; the
// retry must not start while anything of try 1 still runs.
const db = await createTestDatabase();
const dags = tempDagsFolder();
writeDag(
  dags,
  'overlap.ts',
  `import { BashOperator, DAG } from 'airflow-ts';
const dag = new DAG({ dagId: 'overlap' });
new BashOperator({ dag, taskId: 'body', retries: 1, retryDelay: 0,
  bashCommand: 'echo start $AIRFLOW_CTX_TRY_NUMBER >> {{ dag_run.conf.out }}; sleep $(( AIRFLOW_CTX_TRY_NUMBER == 1 ? 10 : 1 )); echo end $AIRFLOW_CTX_TRY_NUMBER >> {{ dag_run.conf.out }}' });
new BashOperator({ dag, taskId: 'quick', retries: 1, retryDelay: 0, bashCommand: 'echo quick' });
export default dag;
`,
);
writeDag(
  dags,
  'spinning.ts',
  `import { DAG, FunctionOperator } from 'airflow-ts';
import { writeFileSync } from 'node:fs';
const dag = new DAG({ dagId: 'spinning' });
new FunctionOperator({ dag, taskId: 'spin', retries: 1, retryDelay: 0, fn: (ctx) => {
  if (ctx.ti.tryNumber > 1) return 'try ' + ctx.ti.tryNumber;
  writeFileSync(ctx.dagRun.conf.pidFile, String(process.pid));
  for (;;) {}
} });
export default dag;
`,
);
await parseDags(await testConfig(dags, db.url), db.knex);
await db.knex('dag').where('dag_id', 'overlap').update({ is_paused: false });

let scheduler: Scheduler | null = null;
afterAll(() => scheduler?.stop(5_000));

/** Processes on this host running try `tryNumber` of overlap.body (by the AIRFLOW_CTX_* variables BashOperator gives bash). */
function processesOfTry(runId: string, tryNumber: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
    } catch {
      continue;
    }
    if (
      environ.includes('AIRFLOW_CTX_DAG_ID=overlap') &&
      environ.includes(`AIRFLOW_CTX_RUN_ID=${runId}`) &&
      environ.includes(`AIRFLOW_CTX_TRY_NUMBER=${tryNumber}`)
    )
      found.push(Number(entry));
  }
  return found;
}

const lines = (file: string): string[] => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
};

describe.each([
  ['a warm worker', {}],
  ['a task process (core.executeTasksNewProcess)', { AIRFLOW__CORE__EXECUTE_TASKS_NEW_PROCESS: 'true' }],
])('a BashOperator try whose runner is killed with SIGKILL mid-body (%s)', (_name, env) => {
  it('is not retried while its bash still runs: no bash of try 1 survives and its output never interleaves with try 2', async () => {
    const config = await testConfig(dags, db.url, { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '2', ...env });
    scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, memoryLogger()), logger: memoryLogger() });
    await scheduler.start();
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-overlap-')), 'out');
    const run = await triggerDagRun(db.knex, { dagId: 'overlap', conf: { out }, now: new Date() });
    scheduler.wake();

    await eventually('try 1 to start its body', () => lines(out).includes('start 1'), 60_000);
    const ti = await db.knex('task_instance').where({ dag_id: 'overlap', run_id: run.run_id }).first();
    expect(ti).toMatchObject({ state: 'running', try_number: 1 });
    expect(processesOfTry(run.run_id, 1).length).toBeGreaterThan(0);
    process.kill(ti.pid, 'SIGKILL'); // the runner: the warm worker, or the `airflow tasks run` process

    await eventually('try 2 to start its body', () => lines(out).includes('start 2'), 60_000);
    expect(processesOfTry(run.run_id, 1)).toEqual([]);
    const finished = await eventually('the run to finish', async () => {
      const row = await db.knex('dag_run').where('id', run.id).first('state');
      return row.state === 'running' || row.state === 'queued' ? undefined : row.state;
    });
    expect(finished).toBe('success');
    // Try 1 was killed mid-sleep: it never ends, and try 2 runs alone.
    expect(lines(out)).toEqual(['start 1', 'start 2', 'end 2']);
    await scheduler.stop(5_000);
    scheduler = null;
  });
});

describe('a scheduler whose shutdown drain ends before a BashOperator try does', () => {
  it('kills the try with everything it started before reporting it failed: nothing of it runs next to its retry', async () => {
    const config = await testConfig(dags, db.url, { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '2' });
    scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, memoryLogger()), logger: memoryLogger() });
    await scheduler.start();
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-overlap-')), 'out');
    const run = await triggerDagRun(db.knex, { dagId: 'overlap', conf: { out }, now: new Date() });
    scheduler.wake();
    await eventually('try 1 to start its body', () => lines(out).includes('start 1'), 60_000);
    await scheduler.stop(500); // SIGTERM's drain, with a grace shorter than the body
    scheduler = null;
    expect(processesOfTry(run.run_id, 1)).toEqual([]);
    const ti = await db.knex('task_instance').where({ dag_id: 'overlap', run_id: run.run_id, task_id: 'body' }).first('state', 'try_number');
    expect(ti).toEqual({ state: 'up_for_retry', try_number: 1 });
  });
});

describe('an `airflow tasks run` process whose event loop is blocked (core.executeTasksNewProcess)', () => {
  it('is killed by the retry that follows its try being failed as a zombie', async () => {
    const config = await testConfig(dags, db.url, {
      AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
      AIRFLOW__CORE__EXECUTE_TASKS_NEW_PROCESS: 'true',
      AIRFLOW__SCHEDULER__ZOMBIE_TASK_THRESHOLD: '3',
      AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: '0.5',
    });
    scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, memoryLogger()), logger: memoryLogger() });
    await scheduler.start();
    await db.knex('dag').where('dag_id', 'spinning').update({ is_paused: false });
    const pidFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-spin-')), 'pid');
    const run = await triggerDagRun(db.knex, { dagId: 'spinning', conf: { pidFile }, now: new Date() });
    scheduler.wake();
    const runner = Number(await eventually('try 1 to spin', () => lines(pidFile)[0], 60_000));
    const state = await eventually(
      'the run to finish',
      async () => {
        const row = await db.knex('dag_run').where('id', run.id).first('state');
        return row.state === 'running' || row.state === 'queued' ? undefined : row.state;
      },
      60_000,
    );
    expect(state).toBe('success');
    expect(await db.knex('task_instance').where({ dag_id: 'spinning', run_id: run.run_id }).first('try_number')).toEqual({ try_number: 2 });
    const runnerState = () => {
      try {
        return readFileSync(`/proc/${runner}/stat`, 'latin1').split(') ')[1]![0];
      } catch {
        return 'gone';
      }
    };
    expect(runnerState()).toMatch(/^(Z|gone)$/); // killed (a zombie until reaped) or reaped
    await db.knex('dag').where('dag_id', 'spinning').update({ is_paused: true });
    await scheduler.stop(5_000);
    scheduler = null;
  });
});

describe("the exit of an earlier try's process, reported while the retry runs", () => {
  it('does not fail the retry', async () => {
    const run = await triggerDagRun(db.knex, { dagId: 'overlap', now: new Date() });
    const ti = await db.knex('task_instance').where({ dag_id: 'overlap', run_id: run.run_id, task_id: 'quick' }).first();
    for (const to of ['scheduled', 'queued', 'running', 'up_for_retry', 'scheduled', 'queued', 'running'] as const)
      await transitionTaskInstance(db.knex, ti.id, { to, now: new Date() });
    const stale = { tiId: ti.id, outcome: 'failed' as const, info: 'the process of try 1 was killed', tryNumber: 1 };
    expect(await applyExecutorEvents(db.knex, [stale], { now: new Date(), logger: memoryLogger() })).toMatchObject({ failed: 0 });
    expect(await db.knex('task_instance').where('id', ti.id).first('state', 'try_number')).toEqual({ state: 'running', try_number: 2 });
    // The same event about the running try does fail it.
    expect(await applyExecutorEvents(db.knex, [{ ...stale, tryNumber: 2 }], { now: new Date(), logger: memoryLogger() })).toMatchObject({ failed: 1 });
  });
});

describe('a retry on a host where an earlier try of its task instance still runs (its runner and executor died with no one to kill it)', () => {
  it('kills the earlier try first and says so in its log', async () => {
    const config = await testConfig(dags, db.url);
    const run = await triggerDagRun(db.knex, { dagId: 'overlap', now: new Date() });
    const ti = await db.knex('task_instance').where({ dag_id: 'overlap', run_id: run.run_id, task_id: 'quick' }).first();
    for (const to of ['scheduled', 'queued', 'running', 'up_for_retry', 'scheduled', 'queued'] as const)
      await transitionTaskInstance(db.knex, ti.id, { to, now: new Date() });
    // What try 1 left behind: a process with try 1's mark, in a process group of its own.
    const leftover = spawn('sleep', ['300'], { env: { ...process.env, [TRY_MARK_ENV]: tryMark(db.url, ti.id, 1) }, detached: true, stdio: 'ignore' });
    const gone = new Promise((resolve) => leftover.once('exit', (_code, signal) => resolve(signal)));
    try {
      const outcome = await runTaskInstance({
        knex: db.knex,
        config,
        logger: memoryLogger(),
        dagId: 'overlap',
        taskId: 'quick',
        runId: run.run_id,
        mapIndex: -1,
      });
      expect(outcome).toBe('success');
      expect(await gone).toBe('SIGKILL');
      const log = readFileSync(
        taskLogPath(config.logging.baseLogFolder, { dagId: 'overlap', runId: run.run_id, taskId: 'quick', mapIndex: -1, tryNumber: 2 }),
        'utf8',
      );
      expect(log).toMatch(/Killed 1 process\(es\) an earlier try of this task instance left running on this host/);
    } finally {
      leftover.kill('SIGKILL');
    }
  });
});
