import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { rootTaskGroup, type SerializedDag } from '../../core/serialize.ts';
import { pullXComs } from '../../db/models/xcom.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { parseDags, runDagInProcess, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();

describe('example_mapped_task_groups end to end (real parser, scheduler expansion, in-process executor, real database)', () => {
  it('runs the mapped group once per region, its nested group included, and reports the totals in region order', async () => {
    const dags = tempDagsFolder();
    copyFileSync(fileURLToPath(new URL('../../dags/example_mapped_task_groups.ts', import.meta.url)), path.join(dags, 'example_mapped_task_groups.ts'));
    const config = await testConfig(dags, db.url);
    await parseDags(config, db.knex);
    const stored = (await db.knex('serialized_dag').where('dag_id', 'example_mapped_task_groups').first()).data as SerializedDag;
    const perRegion = rootTaskGroup(stored).groups[0]!;
    expect([perRegion.groupId, perRegion.expandInput, perRegion.taskIds, perRegion.groups.map((g) => [g.groupId, g.taskIds])]).toEqual([
      'per_region',
      { xcomArg: { taskId: 'regions', key: 'return_value' } },
      ['per_region.fetch', 'per_region.summarize'],
      [['per_region.validate', ['per_region.validate.check_rows', 'per_region.validate.dedupe']]],
    ]);

    const { run, tis } = await runDagInProcess(config, db.knex, 'example_mapped_task_groups');
    expect(run.state).toBe('success');
    const grouped = ['per_region.fetch', 'per_region.validate.check_rows', 'per_region.validate.dedupe', 'per_region.summarize'];
    const rows = (tis as { task_id: string; map_index: number; state: string }[]).map((t) => `${t.task_id}[${t.map_index}] ${t.state}`).sort();
    expect(rows).toEqual(['regions[-1] success', 'report[-1] success', ...grouped.flatMap((id) => [0, 1, 2].map((i) => `${id}[${i}] success`))].sort());
    expect(await db.knex('xcom').where({ dag_run_id: run.id, task_id: 'per_region.validate.dedupe', map_index: 1 }).first('value')).toEqual({
      value: [
        { id: 'us-0', region: 'us', amount: 50 },
        { id: 'us-1', region: 'us', amount: 5 },
      ],
    });
    expect(await pullXComs(db.knex, run.id, ['report'])).toEqual(['eu 42 EUR, us 55 EUR, apac 7 EUR']);
  });
});
