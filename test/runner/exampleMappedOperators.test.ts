import { createHash } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { parseDags, runDagInProcess, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const digest = (algorithm: string, text: string) => createHash(algorithm).update(text).digest('hex').slice(0, 12);

describe('example_mapped_operators end to end (real parser, in-process executor, real database)', () => {
  it('checksums every file with every algorithm, describes every file, labels each file with its digest and gathers a manifest', async () => {
    const dags = tempDagsFolder();
    copyFileSync(fileURLToPath(new URL('../../dags/example_mapped_operators.ts', import.meta.url)), path.join(dags, 'example_mapped_operators.ts'));
    const config = await testConfig(dags, db.url);
    await parseDags(config, db.knex);
    const { run, tis } = await runDagInProcess(config, db.knex, 'example_mapped_operators');
    expect(run.state).toBe('success');
    expect(tis.every((ti: { state: string }) => ti.state === 'success')).toBe(true);
    const values = async (taskId: string) =>
      (await db.knex('xcom').where({ dag_run_id: run.id, task_id: taskId }).orderBy('map_index').select('value')).map((x: { value: unknown }) => x.value);

    const files = ['orders.csv', 'customers.csv', 'events.json'];
    expect(await values('checksum')).toEqual([...files.map((f) => digest('sha256', f)), ...files.map((f) => digest('md5', f))]);
    const ds = run.logical_date.toISOString().slice(0, 10);
    expect(await values('describe')).toEqual([...files, 'refunds.csv'].map((f, i) => `${ds}: ${f} is instance ${i}`));
    const labels = files.map((f) => `${f}=${digest('sha256', f)}`);
    expect(await values('label')).toEqual(labels);
    expect(await values('manifest')).toEqual([{ files: 3, labels }]);
  });
});
