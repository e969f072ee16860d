import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pullXComs } from '../../db/models/xcom.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { parseDags, runDagInProcess, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();

describe('example_dynamic_mapping end to end (real parser, in-process executor, real database)', () => {
  it('chunks each document, embeds each chunk in its own mapped instance and reduces them into an index', async () => {
    const dags = tempDagsFolder();
    copyFileSync(fileURLToPath(new URL('../../dags/example_dynamic_mapping.ts', import.meta.url)), path.join(dags, 'example_dynamic_mapping.ts'));
    const config = await testConfig(dags, db.url);
    await parseDags(config, db.knex);
    const { run, tis } = await runDagInProcess(config, db.knex, 'example_dynamic_mapping');
    expect(run.state).toBe('success');
    const instances = (taskId: string) =>
      tis
        .filter((ti: { task_id: string }) => ti.task_id === taskId)
        .sort((a: { map_index: number }, b: { map_index: number }) => a.map_index - b.map_index)
        .map((ti: { map_index: number; state: string }) => [ti.map_index, ti.state]);
    expect(instances('list_documents')).toEqual([[-1, 'success']]);
    expect(instances('chunk')).toEqual([0, 1, 2].map((i) => [i, 'success']));
    expect(instances('embed')).toEqual([0, 1, 2, 3, 4].map((i) => [i, 'success']));
    expect(instances('build_index')).toEqual([[-1, 'success']]);

    const [index] = (await pullXComs(db.knex, run.id, ['build_index'])) as [{ size: number; keys: string[] }];
    expect(index).toEqual({ size: 5, keys: ['intro#0', 'intro#1', 'mapping#0', 'mapping#1', 'mapping#2'] });
    // Each embed instance pushed its own deterministic vector under its map index.
    const vectors = await db.knex('xcom').where({ dag_run_id: run.id, task_id: 'embed' }).orderBy('map_index').select('map_index', 'value');
    expect(vectors.map((x: { map_index: number }) => x.map_index)).toEqual([0, 1, 2, 3, 4]);
    const first = vectors[0].value as { docId: string; vector: number[] };
    expect(first.docId).toBe('intro');
    expect(first.vector).toHaveLength(4);
    expect(first.vector.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(new Set(vectors.map((x: { value: { vector: number[] } }) => JSON.stringify(x.value.vector))).size).toBe(5);
  });
});
