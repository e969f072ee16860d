import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { parseDags, runDagInProcess, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();

/** `make` is mapped over four elements, `one` is not; `pull` and the mapped `each` read them with ti.xcomPull. */
const DAG_FILE = `import { BashOperator, DAG, getCurrentContext, task } from 'airflow-ts';
const dag = new DAG({ dagId: 'xcom_pull_map_indexes' });
const make = task({ dag }, function make(x: number) { return x * 10; });
const one = task({ dag }, function one() { return 'solo'; });
const made = make.expand([1, 2, 3, 4]);
const solo = one();
const pull = task({ dag }, async function pull(_made: number[], _solo: string) {
  const { ti } = getCurrentContext();
  return {
    all: await ti.xcomPull({ taskIds: 'make' }),
    second: await ti.xcomPull({ taskIds: 'make', mapIndexes: 1 }),
    picked: await ti.xcomPull({ taskIds: 'make', mapIndexes: [3, 0, 9] }),
    tasksAtIndexes: await ti.xcomPull({ taskIds: ['one', 'make'], mapIndexes: [2, -1] }),
    tasksAtIndex: await ti.xcomPull({ taskIds: ['make', 'one'], mapIndexes: 2 }),
    tasks: await ti.xcomPull({ taskIds: ['make', 'one', 'nope'] }),
    solo: await ti.xcomPull({ taskIds: 'one' }),
    soloAtMinusOne: await ti.xcomPull({ taskIds: 'one', mapIndexes: -1 }),
    soloAsList: await ti.xcomPull({ taskIds: 'one', mapIndexes: [-1] }),
    noSuchIndex: await ti.xcomPull({ taskIds: 'make', mapIndexes: 9, default: 'none' }),
    noSuchTask: await ti.xcomPull({ taskIds: 'nope', default: 'none' }),
    noIndexes: await ti.xcomPull({ taskIds: 'make', mapIndexes: [] }),
  };
});
pull(made, solo);
const each = task({ dag }, async function each(_made: number[], _solo: string, x: number) {
  const { ti } = getCurrentContext();
  return { x, mapIndex: ti.mapIndex, solo: await ti.xcomPull({ taskIds: 'one' }), all: await ti.xcomPull({ taskIds: 'make' }), mine: await ti.xcomPull({ taskIds: 'make', mapIndexes: ti.mapIndex }) };
});
each.partial(made, solo).expand([0, 3]);
const echo = new BashOperator({ dag, taskId: 'echo', bashCommand: "echo {{ ti.xcom_pull(task_ids='make', map_indexes=[2, 1]) | join('+') }} {{ ti.xcom_pull('make', map_indexes=3) }} {{ ti.xcom_pull('nope', default='-') }}" });
made.then(echo);
const bad = task({ dag }, async function bad(_made: number[]) { return getCurrentContext().ti.xcomPull({ taskIds: 'make', mapIndexes: -2 }); });
bad(made);
export default dag;
`;

describe('ti.xcomPull({ taskIds, mapIndexes }) as in Airflow 2.10 (real parser, in-process executor, real database)', () => {
  it('one task and one map index give a value; lists give lists in the order asked; a mapped task without map indexes gives every value in map-index order', async () => {
    const dags = tempDagsFolder();
    writeDag(dags, 'xcom_pull_map_indexes.ts', DAG_FILE);
    const config = await testConfig(dags, db.url);
    await parseDags(config, db.knex);
    const { run, tis } = await runDagInProcess(config, db.knex, 'xcom_pull_map_indexes');
    const xcom = async (taskId: string, mapIndex = -1) =>
      (await db.knex('xcom').where({ dag_run_id: run.id, task_id: taskId, map_index: mapIndex, key: 'return_value' }).first())?.value;

    expect(await xcom('pull')).toEqual({
      all: [10, 20, 30, 40],
      second: 20,
      picked: [40, 10], // ordered as asked; index 9 has no XCom and is left out
      tasksAtIndexes: ['solo', 30], // task ids first, as asked, then map indexes
      tasksAtIndex: [30],
      tasks: [10, 20, 30, 40, 'solo'],
      solo: 'solo',
      soloAtMinusOne: 'solo',
      soloAsList: ['solo'],
      noSuchIndex: 'none',
      noSuchTask: 'none',
      noIndexes: [],
    });
    // In a mapped instance nothing defaults to its own map index (Airflow 2.10): it asks for one explicitly.
    expect(await xcom('each', 0)).toEqual({ x: 0, mapIndex: 0, solo: 'solo', all: [10, 20, 30, 40], mine: 10 });
    expect(await xcom('each', 1)).toEqual({ x: 3, mapIndex: 1, solo: 'solo', all: [10, 20, 30, 40], mine: 20 });
    expect(await xcom('echo')).toBe('30+20 40 -');
    const bad = tis.find((ti: { task_id: string }) => ti.task_id === 'bad') as { state: string };
    expect(bad.state).toBe('failed');
    expect(run.state).toBe('failed');
  });
});
