import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { rootTaskGroup, serializeDag, type SerializedDag } from '../../core/serialize.ts';
import { pullXComs } from '../../db/models/xcom.ts';
import { createDagFileProcessor } from '../../scheduler/dagProcessing/createDagFileProcessor.ts';
import exampleTaskGroups from '../../dags/example_task_groups.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { parseDags, runDagInProcess, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();

describe('task groups end to end (real parser, in-process executor, real database)', () => {
  it('the nested-groups example parses, stores its group tree and runs to success under the prefixed task ids', async () => {
    const dags = tempDagsFolder();
    copyFileSync(fileURLToPath(new URL('../../dags/example_task_groups.ts', import.meta.url)), path.join(dags, 'example_task_groups.ts'));
    const config = await testConfig(dags, db.url);
    await parseDags(config, db.knex);

    const stored = (await db.knex('serialized_dag').where('dag_id', 'example_task_groups').first()).data as SerializedDag;
    expect(rootTaskGroup(stored)).toEqual(serializeDag(exampleTaskGroups).taskGroup);
    expect(stored.tasks.find((t) => t.taskId === 'transform.clean.dedupe')?.taskGroupId).toBe('transform.clean');

    const { run, states } = await runDagInProcess(config, db.knex, 'example_task_groups');
    expect(states).toEqual({
      'extract.customers': 'success',
      'extract.orders': 'success',
      load: 'success',
      start: 'success',
      'transform.clean.dedupe': 'success',
      'transform.clean.validate': 'success',
      'transform.join': 'success',
    });
    expect(run.state).toBe('success');
    expect(await pullXComs(db.knex, run.id, ['load'])).toEqual([2]);
  });

  it('a duplicate group id, or a parent group of another DAG, is an import error naming the file and the line', async () => {
    const dags = tempDagsFolder();
    const file = writeDag(
      dags,
      'duplicate_group.ts',
      [
        "import { DAG, EmptyOperator, TaskGroup } from 'airflow-ts';",
        "const dag = new DAG({ dagId: 'duplicate_group' });",
        "const first = new TaskGroup({ dag, groupId: 'extract' });",
        "new EmptyOperator({ dag, taskId: 'a', taskGroup: first });",
        "new TaskGroup({ dag, groupId: 'extract' });",
        'export default dag;',
        '',
      ].join('\n'),
    );
    const foreign = writeDag(
      dags,
      'foreign_group.ts',
      [
        "import { DAG, TaskGroup } from 'airflow-ts';",
        "const dag = new DAG({ dagId: 'foreign_group' });",
        "const other = new TaskGroup({ dag: new DAG({ dagId: 'other' }), groupId: 'theirs' });",
        "new TaskGroup({ dag, parentGroup: other, groupId: 'mine' });",
        'export default dag;',
        '',
      ].join('\n'),
    );
    const processor = createDagFileProcessor(await testConfig(dags, db.url), db.knex, memoryLogger());
    try {
      await processor.processAll();
    } finally {
      await processor.stop();
    }
    const error = await db.knex('import_error').where('filename', file).first();
    expect(error.message).toContain(`Group id 'extract' in DAG 'duplicate_group' is already used by another TaskGroup (defined at line 3 of ${file})`);
    expect(error.message).toContain(`(${file}:5)`);
    expect(error.line).toBe(5);
    expect(await db.knex('dag').where('dag_id', 'duplicate_group').first()).toBeUndefined();
    const other = await db.knex('import_error').where('filename', foreign).first();
    expect(other.message).toContain(
      `TaskGroup 'mine' in DAG 'foreign_group': parentGroup 'theirs' belongs to DAG 'other'; a group and its parent must be in the same DAG (${foreign}:4)`,
    );
    expect(other.line).toBe(4);
  });
});
