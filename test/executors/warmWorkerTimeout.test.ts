import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { taskLogPath } from '../../logging/fileTaskHandler.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

// Task bodies that hang after starting a child process: two run past their executionTimeout of 1 s,
// one ignoring its cancellation (awaits forever), one blocking its worker's event loop so the worker's
// own timeout cannot fire; a third blocks the event loop and has no executionTimeout (its worker goes
// silent). With one slot, `after` runs only if each stuck try gives its slot back.
const db = await createTestDatabase();
const dags = tempDagsFolder();
writeDag(
  dags,
  'stuck.ts',
  `import { DAG, FunctionOperator } from 'airflow-ts';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const dag = new DAG({ dagId: 'stuck' });
const startChild = (ctx, name) => writeFileSync(ctx.dagRun.conf.dir + '/' + name, String(spawn('sleep', ['300'], { stdio: 'ignore' }).pid));
const ignores = new FunctionOperator({ dag, taskId: 'ignores', executionTimeout: { seconds: 1 }, fn: (ctx) => {
  startChild(ctx, 'ignores');
  return new Promise(() => {});
} });
const blocks = new FunctionOperator({ dag, taskId: 'blocks', executionTimeout: { seconds: 1 }, triggerRule: 'all_done', fn: (ctx) => {
  startChild(ctx, 'blocks');
  for (;;) {}
} });
const spins = new FunctionOperator({ dag, taskId: 'spins', triggerRule: 'all_done', fn: (ctx) => {
  startChild(ctx, 'spins');
  for (;;) {}
} });
const after = new FunctionOperator({ dag, taskId: 'after', triggerRule: 'all_done', fn: () => 'ran' });
ignores.then(blocks).then(spins).then(after);
export default dag;
`,
);
// A worker silent for half the zombie threshold (9 s) is killed: after the executionTimeout watchdog (1 + 7 s).
const config = await testConfig(dags, db.url, {
  AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
  AIRFLOW__CORE__PARALLELISM: '1',
  AIRFLOW__SCHEDULER__ZOMBIE_TASK_THRESHOLD: '18',
});
await parseDags(config, db.knex);
await db.knex('dag').where('dag_id', 'stuck').update({ is_paused: false });
const scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, memoryLogger()), logger: memoryLogger() });
await scheduler.start();
afterAll(() => scheduler.stop(5_000));

const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

describe('a warm worker whose task hangs', () => {
  it('kills the body and its children and gives the slot back, whether the body ignores its cancellation or blocks the worker, with or without a timeout', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-stuck-'));
    const run = await triggerDagRun(db.knex, { dagId: 'stuck', conf: { dir }, now: new Date() });
    scheduler.wake();
    await eventually(
      'the run to finish',
      async () => {
        const row = await db.knex('dag_run').where('id', run.id).first('state');
        return row.state === 'running' || row.state === 'queued' ? undefined : row.state;
      },
      120_000,
    );
    const tis = await db.knex('task_instance').where({ dag_id: 'stuck', run_id: run.run_id }).orderBy('task_id');
    expect(Object.fromEntries(tis.map((ti: { task_id: string; state: string }) => [ti.task_id, ti.state]))).toEqual({
      after: 'success',
      blocks: 'failed',
      ignores: 'failed',
      spins: 'failed',
    });
    for (const name of ['ignores', 'blocks', 'spins']) {
      expect(alive(Number(readFileSync(path.join(dir, name), 'utf8')))).toBe(false);
    }
    const log = (taskId: string) =>
      readFileSync(taskLogPath(config.logging.baseLogFolder, { dagId: 'stuck', runId: run.run_id, taskId, mapIndex: -1, tryNumber: 1 }), 'utf8');
    expect(log('ignores')).toMatch(/timed out after 1 s \(executionTimeout\) and did not stop within 5 s/);
    expect(log('ignores')).toMatch(/ended without recording a result; marked failed/);
    expect(log('blocks')).toMatch(/past its executionTimeout of 1 s, and its worker did not stop it; the worker was killed/);
    expect(log('spins')).toMatch(/gave no sign of life for \d+ s while running a task \(its event loop is blocked\); the worker was killed/);
  }, 150_000);
});
