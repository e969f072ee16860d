import { describe, expect, it } from 'vitest';
import { rootTaskGroup, type SerializedDag } from '../../core/serialize.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { parseDags, runDagInProcess, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();

/** Parses a DAG file (`body` after the import line and the DAG) and runs its DAG to the end in this process. */
export async function runGroupDag(dagId: string, body: string[]) {
  const dags = tempDagsFolder();
  writeDag(
    dags,
    `${dagId}.ts`,
    [
      "import { DAG, EmptyOperator, task, taskGroup, type XComArg } from 'airflow-ts';",
      `const dag = new DAG({ dagId: '${dagId}' });`,
      ...body,
      'export default dag;',
      '',
    ].join('\n'),
  );
  const config = await testConfig(dags, db.url);
  await parseDags(config, db.knex);
  const stored = (await db.knex('serialized_dag').where('dag_id', dagId).first()).data as SerializedDag;
  const result = await runDagInProcess(config, db.knex, dagId);
  const xcoms = async (taskId: string) =>
    (await db.knex('xcom').where({ dag_run_id: result.run.id, task_id: taskId }).orderBy('map_index').select('map_index', 'value')).map(
      (x: { map_index: number; value: unknown }) => [x.map_index, x.value],
    );
  return { ...result, stored, xcoms };
}

describe('taskGroup() end to end (real parser, in-process executor, real database)', () => {
  it('nested decorated groups are stored as a group tree and their output feeds a task outside them', async () => {
    const { run, states, stored, xcoms } = await runGroupDag('decorated_groups', [
      'const numbers = task({ dag }, function numbers() { return [3, 1, 3, 2]; });',
      'const dedupe = task({ dag }, function dedupe(xs: number[]) { return [...new Set(xs)]; });',
      'const sort = task({ dag }, function sort(xs: number[]) { return [...xs].sort(); });',
      'const total = task({ dag }, function total(xs: number[]) { return xs.reduce((a, b) => a + b, 0); });',
      'const clean = taskGroup({ dag }, function clean(xs: XComArg<number[]>) { return sort(dedupe(xs)); });',
      "const stats = taskGroup({ dag, tooltip: 'Clean, then add' }, function stats(xs: XComArg<number[]>) { return total(clean(xs)); });",
      'const report = task({ dag }, function report(n: number) { return `total ${n}`; });',
      'report(stats(numbers()));',
    ]);
    expect(rootTaskGroup(stored).groups).toEqual([
      {
        groupId: 'stats',
        label: 'stats',
        tooltip: 'Clean, then add',
        prefixGroupId: true,
        taskIds: ['stats.total'],
        groups: [{ groupId: 'stats.clean', label: 'clean', tooltip: '', prefixGroupId: true, taskIds: ['stats.clean.dedupe', 'stats.clean.sort'], groups: [] }],
      },
    ]);
    expect(run.state).toBe('success');
    expect(states).toEqual({ numbers: 'success', 'stats.clean.dedupe': 'success', 'stats.clean.sort': 'success', 'stats.total': 'success', report: 'success' });
    expect(await xcoms('stats.clean.sort')).toEqual([[-1, [1, 2, 3]]]);
    expect(await xcoms('report')).toEqual([[-1, 'total 6']]);
  });
});
