import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { getSerializedDag } from '../../db/models/serializedDag.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { decidesDownstream } from '../../runner/miniScheduler.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const dags = tempDagsFolder();
const mark = path.join(mkdtempSync(path.join(os.tmpdir(), 'reduce-mark-')), 'alarm-ran');
// A reduce (all_success) after six mapped instances: the workers' mini scheduler only decides it after the last one.
writeDag(
  dags,
  'reduce_all_success.ts',
  [
    "import { DAG, task } from 'airflow-ts';",
    "const dag = new DAG({ dagId: 'reduce_all_success' });",
    'const list = task({ dag }, function list() { return [1, 2, 3, 4, 5, 6]; });',
    'const each = task({ dag }, function each(x: number) { return x * 10; });',
    'const total = task({ dag }, function total(xs: number[]) { return xs; });',
    'total(each.expand(list()));',
    'export default dag;',
    '',
  ].join('\n'),
);
// A one_failed downstream fires on the first failed instance, while a sibling still runs: that sibling waits for
// the alarm's mark (with a deadline), so the run only succeeds in order if the alarm did not wait for it.
writeDag(
  dags,
  'reduce_one_failed.ts',
  [
    "import { existsSync, writeFileSync } from 'node:fs';",
    "import { DAG, task } from 'airflow-ts';",
    `const MARK = ${JSON.stringify(mark)};`,
    "const dag = new DAG({ dagId: 'reduce_one_failed' });",
    'const list = task({ dag }, function list() { return [0, 1]; });',
    'const each = task({ dag, retries: 0 }, async function each(x: number) {',
    "  if (x === 0) throw new Error('element 0 fails');",
    '  const deadline = Date.now() + 60_000;',
    '  while (!existsSync(MARK)) {',
    "    if (Date.now() > deadline) return 'alarm never ran';",
    '    await new Promise((resolve) => setTimeout(resolve, 50));',
    '  }',
    "  return 'alarm ran first';",
    '});',
    "const alarm = task({ dag, triggerRule: 'one_failed' }, function alarm(_xs: unknown) { writeFileSync(MARK, 'x'); return 'alarm'; });",
    'alarm(each.expand(list()));',
    'export default dag;',
    '',
  ].join('\n'),
);
const config = await testConfig(dags, db.url, { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '2' });
await parseDags(config, db.knex);
const logger = memoryLogger();
const scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, logger), logger });
await scheduler.start();
afterAll(() => scheduler.stop(5_000));

/** Triggers the DAG and waits for its run to finish. */
async function runToEnd(dagId: string) {
  await db.knex('dag').where('dag_id', dagId).update({ is_paused: false });
  const run = await triggerDagRun(db.knex, { dagId, conf: {}, now: new Date() });
  scheduler.wake();
  return eventually(
    'the run to finish',
    async () => {
      const row = await db.knex('dag_run').where('id', run.id).first();
      return row.state === 'success' || row.state === 'failed' ? row : null;
    },
    90_000,
  );
}

const tisOf = (run: { dag_id: string; run_id: string }, taskId: string) =>
  db.knex('task_instance').where({ dag_id: run.dag_id, run_id: run.run_id, task_id: taskId }).orderBy('map_index');

describe('a reduce after mapped instances under the LocalExecutor (real workers, mini scheduler)', () => {
  it('all_success: the reduce runs once, after the last instance, with every value; a worker decides it only when no sibling is unfinished', async () => {
    const run = await runToEnd('reduce_all_success');
    expect(run.state).toBe('success');
    const each = await tisOf(run, 'each');
    expect(each.map((ti: { state: string }) => ti.state)).toEqual(Array(6).fill('success'));
    const [total] = await tisOf(run, 'total');
    expect([total.state, total.try_number]).toEqual(['success', 1]);
    const lastEnd = Math.max(...each.map((ti: { end_date: Date }) => ti.end_date.getTime()));
    expect(total.start_date.getTime()).toBeGreaterThanOrEqual(lastEnd);
    expect((await db.knex('xcom').where({ dag_run_id: run.id, task_id: 'total' }).first()).value).toEqual([10, 20, 30, 40, 50, 60]);

    // The probe: with instance 5 unfinished, instance 0's success need not decide the reduce; the last one's must.
    const dag = await getSerializedDag(db.knex, 'reduce_all_success');
    expect(await decidesDownstream(db.knex, dag, each[0])).toBe(true);
    await db.knex('task_instance').where('id', each[5].id).update({ state: 'running' });
    expect(await decidesDownstream(db.knex, dag, each[0])).toBe(false);
    expect(await decidesDownstream(db.knex, dag, each[5])).toBe(true); // itself does not count
    const [list] = await tisOf(run, 'list');
    expect(await decidesDownstream(db.knex, dag, list)).toBe(true); // unmapped: decided as before
    expect(await decidesDownstream(db.knex, dag, total)).toBe(false); // no downstream tasks
    await db.knex('task_instance').where('id', each[5].id).update({ state: 'success' });
  });

  it('one_failed: the downstream runs on the first failed instance while a sibling is still running, and is always decided', async () => {
    const run = await runToEnd('reduce_one_failed');
    const each = await tisOf(run, 'each');
    expect(each.map((ti: { map_index: number; state: string }) => [ti.map_index, ti.state])).toEqual([
      [0, 'failed'],
      [1, 'success'],
    ]);
    expect((await db.knex('xcom').where({ dag_run_id: run.id, task_id: 'each', map_index: 1 }).first()).value).toBe('alarm ran first');
    const [alarm] = await tisOf(run, 'alarm');
    expect(alarm.state).toBe('success');
    expect(alarm.end_date.getTime()).toBeLessThanOrEqual(each[1].end_date.getTime());

    const dag = await getSerializedDag(db.knex, 'reduce_one_failed');
    await db.knex('task_instance').where('id', each[1].id).update({ state: 'running' });
    expect(await decidesDownstream(db.knex, dag, each[0])).toBe(true); // one_failed may fire early: never skipped
    await db.knex('task_instance').where('id', each[1].id).update({ state: 'success' });
  });
});
