import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { transitionTaskInstance } from '../../db/transitions.ts';
import { workloadOf } from '../../db/taskWorkload.ts';
import type { ExecutorEvent } from '../../executors/base.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { taskLogPath } from '../../logging/fileTaskHandler.ts';
import { applyExecutorEvents } from '../../scheduler/executorEvents.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

// A warm worker dies while the executor hands it work, so the executor's send() hits EPIPE on a real
// broken IPC channel. Under load this once took `airflow standalone` down with an unhandled 'error'.
const db = await createTestDatabase();
const dags = tempDagsFolder();
writeDag(
  dags,
  'victim.ts',
  `import { DAG, FunctionOperator } from 'airflow-ts';
const dag = new DAG({ dagId: 'victim' });
new FunctionOperator({ dag, taskId: 'first', retries: 1, retryDelay: 0, fn: () => 'first' });
new FunctionOperator({ dag, taskId: 'second', fn: () => 'second' });
export default dag;
`,
);
writeDag(
  dags,
  'many.ts',
  `import { DAG, FunctionOperator } from 'airflow-ts';
const dag = new DAG({ dagId: 'many' });
for (let i = 0; i < 2; i++) new FunctionOperator({ dag, taskId: 't' + i, retries: 3, retryDelay: 0, fn: () => i });
export default dag;
`,
);
writeDag(
  dags,
  'slow.ts',
  `import { DAG, FunctionOperator } from 'airflow-ts';
const dag = new DAG({ dagId: 'slow' });
for (let i = 0; i < 5; i++) new FunctionOperator({ dag, taskId: 't' + i, fn: () => new Promise((resolve) => setTimeout(() => resolve(i), 300)) });
export default dag;
`,
);
const config = await testConfig(dags, db.url, { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '1' });
await parseDags(config, db.knex);
const logger = memoryLogger();
const executor = createExecutor(config, db.url, logger);
afterAll(() => executor.terminate());

/** This process's warm worker children (runner/workerMain.ts). */
function workerPids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes('workerMain');
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * A dead process not yet reaped by us, with every thread gone: only then are its files, and so its end
 * of the IPC channel, closed (the main thread shows 'Z' while the others still exit).
 */
const deadUnreaped = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z' && readdirSync(`/proc/${pid}/task`).length === 1;
};

async function queuedTi(runId: string, taskId: string, dagId = 'victim') {
  const ti = await db.knex('task_instance').where({ dag_id: dagId, run_id: runId, task_id: taskId }).first();
  for (const to of ['scheduled', 'queued'] as const) await transitionTaskInstance(db.knex, ti.id, { to, now: new Date() });
  return db.knex('task_instance').where('id', ti.id).first();
}

describe('a warm worker whose IPC channel breaks', () => {
  it('does not take the executor down: the try fails with the reason in its log, and a new worker runs the next task', async () => {
    const before = new Set(workerPids());
    await executor.start({ jobId: null });
    const [worker] = await eventually("the executor's worker", () => {
      const ours = workerPids().filter((pid) => !before.has(pid));
      return ours.length === 1 && ours;
    });
    const run = await triggerDagRun(db.knex, { dagId: 'victim', now: new Date() });
    const first = await queuedTi(run.run_id, 'first');
    const events: ExecutorEvent[] = [];
    executor.onEvent(() => events.push(...executor.drainEvents()));

    // Kill the worker and, before this process has noticed (no await in between), hand it work:
    // its end of the channel is closed, so the write fails with EPIPE.
    process.kill(worker!, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (!deadUnreaped(worker!)) if (Date.now() > deadline) throw new Error('the worker did not die');
    executor.queue(workloadOf(first));

    const failed = await eventually('the try to be reported', () => events.find((e) => e.tiId === first.id), 30_000);
    expect(failed.outcome).toBe('failed');
    expect(failed.info, JSON.stringify(logger.entries)).toMatch(/EPIPE/);
    await applyExecutorEvents(db.knex, events.splice(0), { now: new Date(), logger, baseLogFolder: config.logging.baseLogFolder });
    expect(await db.knex('task_instance').where('id', first.id).first('state')).toEqual({ state: 'up_for_retry' });
    const log = readFileSync(
      taskLogPath(config.logging.baseLogFolder, { dagId: 'victim', runId: run.run_id, taskId: 'first', mapIndex: -1, tryNumber: first.try_number }),
      'utf8',
    );
    expect(log).toMatch(/ended without recording a result; marked up_for_retry. Reason: could not send to worker \d+: write EPIPE/);

    // The executor replaced its worker and goes on.
    const second = await queuedTi(run.run_id, 'second');
    executor.queue(workloadOf(second));
    const done = await eventually('the next task to be reported', () => events.find((e) => e.tiId === second.id), 60_000);
    expect(done.outcome).toBe('success');
    expect(await db.knex('task_instance').where('id', second.id).first('state')).toEqual({ state: 'success' });
    expect(workerPids()).not.toContain(worker);
  });
});

describe('a warm worker that retires after core.workerMaxTasks', () => {
  it('is given no more work while it exits: the task waiting for its slot runs in a new worker, once', async () => {
    // Workers read their config from the environment the executor gives them: a copy of this process's.
    process.env.AIRFLOW__CORE__WORKER_MAX_TASKS = '1';
    const local = createExecutor(config, db.url, memoryLogger());
    delete process.env.AIRFLOW__CORE__WORKER_MAX_TASKS;
    try {
      await local.start({ jobId: null });
      const run = await triggerDagRun(db.knex, { dagId: 'many', now: new Date() });
      const tis = [await queuedTi(run.run_id, 't0', 'many'), await queuedTi(run.run_id, 't1', 'many')];
      const events: ExecutorEvent[] = [];
      local.onEvent(() => events.push(...local.drainEvents()));
      // One slot: t1 waits, and is handed out the moment t0's worker reports t0 done, and retires.
      for (const ti of tis) local.queue(workloadOf(ti));
      await eventually('both tasks to be reported', () => tis.every((ti) => events.some((e) => e.tiId === ti.id)), 60_000);
      expect(events.map((e) => e.outcome)).toEqual(['success', 'success']);
      const rows = await db
        .knex('task_instance')
        .whereIn(
          'id',
          tis.map((ti) => ti.id),
        )
        .orderBy('task_id')
        .select('state', 'try_number', 'pid');
      expect(rows.map(({ state, try_number }) => ({ state, try_number }))).toEqual([
        { state: 'success', try_number: 1 },
        { state: 'success', try_number: 1 },
      ]);
      expect(rows[1].pid).not.toBe(rows[0].pid); // t1 ran in a new worker, not in the one shutting down
    } finally {
      await local.terminate();
    }
  });
});

/** When a process started, in epoch ms (to ~10 ms): its start in ticks since boot, and boot time from /proc/uptime (btime is whole seconds). */
function processStartedAt(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  const bootedAt = Date.now() - Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]) * 1000;
  return bootedAt + ticks * 10; // USER_HZ is 100 on Linux
}

describe("a warm worker's replacement", () => {
  it('starts while the retiring worker runs its last tasks, so the next task does not wait for a cold start', async () => {
    // workerMaxTasks 4: after its second task (half its life) the worker asks for its replacement.
    process.env.AIRFLOW__CORE__WORKER_MAX_TASKS = '4';
    const local = createExecutor(config, db.url, memoryLogger());
    delete process.env.AIRFLOW__CORE__WORKER_MAX_TASKS;
    try {
      await local.start({ jobId: null });
      const run = await triggerDagRun(db.knex, { dagId: 'slow', now: new Date() });
      const tis: Awaited<ReturnType<typeof queuedTi>>[] = [];
      for (let i = 0; i < 5; i++) tis.push(await queuedTi(run.run_id, `t${i}`, 'slow'));
      const events: ExecutorEvent[] = [];
      local.onEvent(() => events.push(...local.drainEvents()));
      for (const ti of tis) local.queue(workloadOf(ti));
      // The fifth task runs in the replacement; read its pid's start while that process is alive.
      const fifth = await eventually('the fifth task to start', async () => {
        const row = await db.knex('task_instance').where('id', tis[4].id).first('pid', 'state');
        return row.pid && row;
      });
      const spareStartedAt = processStartedAt(fifth.pid);
      await eventually('all five tasks to be reported', () => tis.every((ti) => events.some((e) => e.tiId === ti.id)), 60_000);
      const rows = await db.knex('task_instance').where({ dag_id: 'slow', run_id: run.run_id }).orderBy('task_id').select('state', 'pid', 'end_date');
      expect(rows.map((r) => r.state)).toEqual(Array(5).fill('success'));
      expect(new Set(rows.slice(0, 4).map((r) => r.pid)).size).toBe(1); // one worker ran four tasks, then retired
      expect(rows[4].pid).not.toBe(rows[0].pid);
      // The replacement was started before the old worker's fourth (last) task ended: 300 ms of margin.
      expect(spareStartedAt).toBeLessThan(new Date(rows[3].end_date).getTime());
    } finally {
      await local.terminate();
    }
  });
});
