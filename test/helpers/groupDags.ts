import type { SerializedDag } from '../../core/serialize.ts';
import { createTestDatabase } from './database.ts';
import { tempDagsFolder, writeDag } from './dagsFolder.ts';
import { parseDags, runDagInProcess, testConfig } from './runtime.ts';

/**
 * For a test file: a fresh database and a function that parses a DAG file (`body` after the import line
 * and the DAG) and runs its DAG to the end in this process.
 */
export async function groupDagRunner() {
  const db = await createTestDatabase();
  return async function runGroupDag(dagId: string, body: string[]) {
    const dags = tempDagsFolder();
    writeDag(
      dags,
      `${dagId}.ts`,
      [
        "import { BashOperator, DAG, EmptyOperator, getCurrentContext, task, taskGroup, type XComArg } from 'airflow-ts';",
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
  };
}
