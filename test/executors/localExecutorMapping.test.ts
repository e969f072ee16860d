import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const dags = tempDagsFolder();
// list -> each (mapped over list's output) -> total: the worker that finishes `list` runs the mini scheduler,
// which must leave the unexpanded `each` to the scheduler.
writeDag(
  dags,
  'local_mapping.ts',
  [
    "import { DAG, task } from 'airflow-ts';",
    "const dag = new DAG({ dagId: 'local_mapping' });",
    'const list = task({ dag }, function list() { return [1, 2, 3, 4, 5]; });',
    'const each = task({ dag }, function each(offset: number, x: number) { return offset + x * x; });',
    'const total = task({ dag }, function total(xs: number[]) { return xs; });',
    'total(each.partial(100).expand(list()));',
    'export default dag;',
    '',
  ].join('\n'),
);
// A classic operator mapped over a product, one field a task output transformed by .map() in the worker.
writeDag(
  dags,
  'local_mapped_bash.ts',
  [
    "import { BashOperator, DAG, task } from 'airflow-ts';",
    "const dag = new DAG({ dagId: 'local_mapped_bash' });",
    "const names = task({ dag }, function names() { return ['ann', 'bob']; });",
    "BashOperator.partial({ dag, taskId: 'say', appendEnv: true })",
    '  .expand({ bashCommand: [\'echo "hi $WHO"\', \'echo "bye $WHO {{ ti.map_index }}"\'], env: names().map((n) => ({ WHO: n.toUpperCase() })) });',
    'export default dag;',
    '',
  ].join('\n'),
);
copyFileSync(fileURLToPath(new URL('../../dags/example_mapped_operators.ts', import.meta.url)), path.join(dags, 'example_mapped_operators.ts'));
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
    60_000,
  );
}

describe('dynamic task mapping under the LocalExecutor (real worker processes, mini scheduler)', () => {
  it('expands over an upstream output, runs every instance in the workers and reduces their results in order', async () => {
    await db.knex('dag').where('dag_id', 'local_mapping').update({ is_paused: false });
    const run = await triggerDagRun(db.knex, { dagId: 'local_mapping', conf: {}, now: new Date() });
    scheduler.wake();
    const finished = await eventually(
      'the run to finish',
      async () => {
        const row = await db.knex('dag_run').where('id', run.id).first();
        return row.state === 'success' || row.state === 'failed' ? row : null;
      },
      60_000,
    );
    const each = await db.knex('task_instance').where({ dag_id: 'local_mapping', run_id: run.run_id, task_id: 'each' }).orderBy('map_index');
    expect(each.map((ti: { map_index: number; state: string; try_number: number }) => [ti.map_index, ti.state, ti.try_number])).toEqual([
      [0, 'success', 1],
      [1, 'success', 1],
      [2, 'success', 1],
      [3, 'success', 1],
      [4, 'success', 1],
    ]);
    const total = await db.knex('xcom').where({ dag_run_id: run.id, task_id: 'total' }).first();
    expect(total.value).toEqual([101, 104, 109, 116, 125]);
    expect(finished.state).toBe('success');
  });

  it('runs a mapped BashOperator in the workers: each builds its operator from its combination, the .map() function applied there', async () => {
    const finished = await runToEnd('local_mapped_bash');
    const xcoms = await db.knex('xcom').where({ dag_run_id: finished.id, task_id: 'say' }).orderBy('map_index').select('map_index', 'value');
    expect(xcoms.map((x: { map_index: number; value: unknown }) => [x.map_index, x.value])).toEqual([
      [0, 'hi ANN'],
      [1, 'hi BOB'],
      [2, 'bye ANN 2'],
      [3, 'bye BOB 3'],
    ]);
    expect(finished.state).toBe('success');
  });

  it('runs example_mapped_operators to success in the workers', async () => {
    const finished = await runToEnd('example_mapped_operators');
    expect(finished.state).toBe('success');
    const manifest = await db.knex('xcom').where({ dag_run_id: finished.id, task_id: 'manifest' }).first();
    expect(manifest.value).toMatchObject({ files: 3, labels: [expect.stringMatching(/^orders\.csv=[0-9a-f]{12}$/), expect.any(String), expect.any(String)] });
    const counts = await db
      .knex('task_instance')
      .where({ dag_id: 'example_mapped_operators', run_id: finished.run_id })
      .groupBy('task_id')
      .select('task_id')
      .count({ n: '*' });
    expect(Object.fromEntries((counts as unknown as { task_id: string; n: string }[]).map((c) => [c.task_id, Number(c.n)]))).toEqual({
      list_files: 1,
      late_files: 1,
      checksum: 6,
      describe: 4,
      label: 3,
      manifest: 1,
    });
  });
});
