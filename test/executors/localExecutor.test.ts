import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { pullXComs } from '../../db/models/xcom.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const dags = tempDagsFolder();
copyFileSync(fileURLToPath(new URL('../fixtures/runs/local_executor.ts', import.meta.url)), path.join(dags, 'local_executor.ts'));
writeDag(dags, 'versioned.ts', versioned('v1'));
const config = await testConfig(dags, db.url, { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '2' });
await parseDags(config, db.knex);

// One scheduler with a real LocalExecutor (real worker processes) for the whole file.
const logger = memoryLogger();
const scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, logger), logger });
await scheduler.start();
afterAll(() => scheduler.stop(5_000));

function versioned(value: string): string {
  return `import { DAG, FunctionOperator } from 'airflow-ts';\nconst dag = new DAG({ dagId: 'versioned' });\nnew FunctionOperator({ dag, taskId: 'answer', fn: () => '${value}' });\nexport default dag;\n`;
}

async function runToEnd(dagId: string, conf: Record<string, unknown> = {}) {
  await db.knex('dag').where('dag_id', dagId).update({ is_paused: false });
  const run = await triggerDagRun(db.knex, { dagId, conf, now: new Date() });
  scheduler.wake();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const row = await db.knex('dag_run').where('id', run.id).first();
    if (row.state === 'success' || row.state === 'failed') return row;
    if (Date.now() > deadline) throw new Error(`run ${run.run_id} did not finish`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('LocalExecutor', () => {
  it('runs tasks in parallel up to core.parallelism and never more', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-parallel-'));
    const finished = runToEnd('parallel', { dir });
    const started = () => readdirSync(dir).filter((f) => f.startsWith('started-')).length;
    // The tasks hold until released, so two of them are running at once whatever the machine's speed.
    try {
      await eventually('two tasks to start', () => started() >= 2);
      // No third one: the positive event is a full scheduler pass that began after both were running and
      // ended (the next one began); it had every chance to queue a third and did not.
      const since = Date.now();
      const pass = await eventually('a full pass after both started', () => scheduler['lastFullPass'] > since && scheduler['lastFullPass'], 30_000);
      await eventually('that pass to end', () => scheduler['lastFullPass'] > pass, 30_000);
      expect(started()).toBe(2);
      expect(
        await db
          .knex('task_instance')
          .where({ dag_id: 'parallel' })
          .whereIn('state', ['queued', 'running'])
          .count({ n: '*' })
          .then(([row]) => Number(row!.n)),
      ).toBe(2);
    } finally {
      writeFileSync(path.join(dir, 'release'), ''); // even on failure, so the held tasks do not block the next tests
    }
    const run = await finished;
    expect(run.state).toBe('success');
    const tis: { start_date: Date; end_date: Date }[] = await db.knex('task_instance').where({ dag_id: 'parallel', run_id: run.run_id });
    // Most task instances running at any instant, from their own start/end times.
    const edges = tis.flatMap((ti) => [
      [ti.start_date.getTime(), 1],
      [ti.end_date.getTime(), -1],
    ]);
    edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    let running = 0;
    let most = 0;
    for (const [, delta] of edges) most = Math.max(most, (running += delta!));
    expect(most).toBe(2);
  });

  it('a worker killed with SIGKILL mid-task fails that try, and the retry runs it to success', async () => {
    const pidFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-pid-')), 'pid');
    const finished = runToEnd('killable', { pidFile });
    const deadline = Date.now() + 30_000;
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8') === '') {
      if (Date.now() > deadline) throw new Error('the task never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    const run = await finished;
    expect(run.state).toBe('success');
    const ti = await db.knex('task_instance').where({ dag_id: 'killable', run_id: run.run_id }).first();
    expect(ti).toMatchObject({ state: 'success', try_number: 2 });
    expect(await pullXComs(db.knex, run.id, ['victim'])).toEqual(['survived on try 2']);
  });

  it('picks up a DAG file edited between runs', async () => {
    const first = await runToEnd('versioned');
    expect(await pullXComs(db.knex, first.id, ['answer'])).toEqual(['v1']);
    writeFileSync(path.join(dags, 'versioned.ts'), versioned('v2'));
    await parseDags(config, db.knex);
    const second = await runToEnd('versioned');
    expect(await pullXComs(db.knex, second.id, ['answer'])).toEqual(['v2']);
  });
});
