import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import type { SerializedDag } from '../../core/serialize.ts';
import { findDagRun } from '../../db/models/dagRun.ts';
import { InProcessExecutor } from '../../executors/inProcessExecutor.ts';
import { runBackfillJob } from '../../scheduler/backfillJob.ts';
import { clearTaskInstances } from '../../services/clearTaskInstances.ts';
import { markTaskInstances } from '../../services/markTaskInstances.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { parseDags, runDagInProcess, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();

/** `square` mapped over 1..4, `total` the reduce; a run to the end, then the same run again after a change. */
const DAG_FILE = `import { DAG, task } from 'airflow-ts';
const dag = new DAG({ dagId: 'clear_one_instance' });
const square = task({ dag }, function square(x: number) { return x * x; });
const total = task({ dag }, function total(xs: number[]) { return xs.reduce((a, b) => a + b, 0); });
total(square.expand([1, 2, 3, 4]));
export default dag;
`;

describe('clear and mark one instance of a mapped task (real scheduler loop, in-process executor, real database)', () => {
  it('clearing map index 2 with downstream runs that instance and the reduce again, and no other instance', async () => {
    const dags = tempDagsFolder();
    writeDag(dags, 'clear_one_instance.ts', DAG_FILE);
    const config = await testConfig(dags, db.url);
    await parseDags(config, db.knex);
    const { run } = await runDagInProcess(config, db.knex, 'clear_one_instance');
    expect(run.state).toBe('success');
    const dag = (await db.knex('serialized_dag').where('dag_id', 'clear_one_instance').first()).data as SerializedDag;
    const tries = async () =>
      (
        await db.knex('task_instance').where({ run_id: run.run_id }).orderBy(['task_id', 'map_index']).select('task_id', 'map_index', 'try_number', 'state')
      ).map((t: { task_id: string; map_index: number; try_number: number; state: string }) => `${t.task_id}[${t.map_index}] ${t.state} ${t.try_number}`);

    const cleared = await clearTaskInstances(db.knex, { dag, runIds: [run.run_id], taskIds: ['square'], mapIndex: 2, downstream: true, now: new Date() });
    expect(cleared.map((t) => `${t.task_id}[${t.map_index}]`).sort()).toEqual(['square[2]', 'total[-1]']);
    const xcomOf2 = await db.knex('xcom').where({ dag_run_id: run.id, task_id: 'square', map_index: 2 }).first();
    expect(xcomOf2).toBeUndefined(); // its XCom went with it; the others' stay
    expect(await db.knex('xcom').where({ dag_run_id: run.id, task_id: 'square' }).count({ n: '*' })).toEqual([{ n: 3 }]);

    const logger = memoryLogger();
    const executor = new InProcessExecutor({ knex: db.knex, config, logger });
    await runBackfillJob({ knex: db.knex, config, executor, logger, dagId: 'clear_one_instance', runIds: [run.run_id], ignorePause: true, pollMs: 20 });
    expect((await findDagRun(db.knex, 'clear_one_instance', run.run_id))!.state).toBe('success');
    expect(await tries()).toEqual(['square[0] success 1', 'square[1] success 1', 'square[2] success 2', 'square[3] success 1', 'total[-1] success 2']);
    const reduce = await db.knex('xcom').where({ dag_run_id: run.id, task_id: 'total' }).first('value');
    expect(reduce.value).toBe(30);

    // Marking one instance failed changes it alone, also with downstream: the reduce (unmapped) is marked too.
    const marked = await markTaskInstances(db.knex, {
      dag,
      run: (await findDagRun(db.knex, 'clear_one_instance', run.run_id))!,
      taskIds: ['square'],
      mapIndex: 1,
      downstream: true,
      state: 'failed',
      dryRun: false,
      now: new Date(),
    });
    expect(marked.map((t) => `${t.task_id}[${t.map_index}]`)).toEqual(['square[1]', 'total[-1]']);
    expect(await tries()).toEqual(['square[0] success 1', 'square[1] failed 1', 'square[2] success 2', 'square[3] success 1', 'total[-1] failed 2']);
  });
});
