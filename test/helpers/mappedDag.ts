import { readFileSync } from 'node:fs';
import { taskLogPath } from '../../logging/fileTaskHandler.ts';
import { createTestDatabase } from './database.ts';
import { tempDagsFolder, writeDag } from './dagsFolder.ts';
import { parseDags, runDagInProcess, testConfig } from './runtime.ts';

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

export interface MappedTi {
  map_index: number;
  state: string;
  note: string | null;
}

/**
 * Writes a DAG file (`imports` from 'airflow-ts', then `const dag = new DAG({ dagId })`, then `body`), parses it
 * with the real parser and runs its DAG to the end in this process against the real database.
 */
export async function runDagFile(db: TestDatabase, dagId: string, imports: string[], body: string, env: Record<string, string> = {}) {
  const dags = tempDagsFolder();
  const source = [
    `import { ${['DAG', ...imports].join(', ')} } from 'airflow-ts';`,
    `const dag = new DAG({ dagId: '${dagId}' });`,
    body,
    'export default dag;',
    '',
  ];
  writeDag(dags, `${dagId}.ts`, source.join('\n'));
  const config = await testConfig(dags, db.url, env);
  await parseDags(config, db.knex);
  const result = await runDagInProcess(config, db.knex, dagId);
  /** The task's instances as [map index, state], by map index. */
  const states = (taskId: string) =>
    (result.tis as (MappedTi & { task_id: string })[])
      .filter((ti) => ti.task_id === taskId)
      .sort((a, b) => a.map_index - b.map_index)
      .map((ti) => [ti.map_index, ti.state]);
  const instances = (taskId: string) =>
    (result.tis as (MappedTi & { task_id: string })[]).filter((ti) => ti.task_id === taskId).sort((a, b) => a.map_index - b.map_index);
  /** The task's return values as [map index, value], by map index. */
  const xcoms = async (taskId: string): Promise<[number, unknown][]> =>
    (await db.knex('xcom').where({ dag_run_id: result.run.id, task_id: taskId, key: 'return_value' }).orderBy('map_index').select('map_index', 'value')).map(
      (x: { map_index: number; value: unknown }) => [x.map_index, x.value],
    );
  /** The log of the first try of one instance. */
  const log = (taskId: string, mapIndex: number) =>
    readFileSync(taskLogPath(config.logging.baseLogFolder, { dagId, runId: result.run.run_id, taskId, mapIndex, tryNumber: 1 }), 'utf8');
  return { ...result, config, states, instances, xcoms, log };
}
