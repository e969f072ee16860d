import { describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
const api = await startTestApi(db.knex, config);

const errors = [
  {
    filename: '/dags/c_broken.ts',
    timestamp: new Date('2025-03-01T10:00:00Z'),
    message: 'SyntaxError',
    line: 3,
    stacktrace: 'SyntaxError: Unexpected token (/dags/c_broken.ts:3)',
  },
  {
    filename: '/dags/a_cycle.ts',
    timestamp: new Date('2025-03-02T10:00:00Z'),
    message: 'Cycle',
    line: 9,
    stacktrace: "Cycle detected in DAG 'a': x -> y -> x",
  },
  {
    filename: '/dags/b_throws.ts',
    timestamp: new Date('2025-03-03T10:00:00Z'),
    message: 'Error',
    line: null,
    stacktrace: 'Error: boom\n    at /dags/b_throws.ts:1:7',
  },
];
const ids: number[] = [];
for (const e of errors) ids.push((await db.knex('import_error').insert(e).returning('id'))[0].id);

describe('REST API: import errors', () => {
  it("lists import errors with Airflow's fields, by id by default", async () => {
    expect((await api.call('GET', '/importErrors', { as: null })).status).toBe(401);
    const list = await api.call('GET', '/importErrors', { as: 'Viewer' });
    expect(list.status).toBe(200);
    expect(list.json.total_entries).toBe(3);
    expect(list.json.import_errors[0]).toEqual({
      import_error_id: ids[0],
      timestamp: '2025-03-01T10:00:00.000+00:00',
      filename: '/dags/c_broken.ts',
      stack_trace: 'SyntaxError: Unexpected token (/dags/c_broken.ts:3)',
    });
    expect(list.json.import_errors.map((e: { import_error_id: number }) => e.import_error_id)).toEqual(ids);
  });

  it('pages and orders; total_entries counts them all', async () => {
    const page = await api.call('GET', '/importErrors?order_by=filename&limit=2&offset=1');
    expect(page.json.total_entries).toBe(3);
    expect(page.json.import_errors.map((e: { filename: string }) => e.filename)).toEqual(['/dags/b_throws.ts', '/dags/c_broken.ts']);
    expect((await api.call('GET', '/importErrors?order_by=-timestamp&limit=1')).json.import_errors[0].filename).toBe('/dags/b_throws.ts');
    expect(
      (await api.call('GET', '/importErrors?order_by=-import_error_id')).json.import_errors.map((e: { import_error_id: number }) => e.import_error_id),
    ).toEqual([...ids].reverse());
    expect((await api.call('GET', '/importErrors?order_by=message')).status).toBe(400);
    expect((await api.call('GET', '/importErrors?limit=-5')).status).toBe(400);
  });

  it('gets one by id; 404 unknown; 400 for an id that is not an integer', async () => {
    const one = await api.call('GET', `/importErrors/${ids[2]}`, { as: 'Viewer' });
    expect(one.json).toEqual({
      import_error_id: ids[2],
      timestamp: '2025-03-03T10:00:00.000+00:00',
      filename: '/dags/b_throws.ts',
      stack_trace: 'Error: boom\n    at /dags/b_throws.ts:1:7',
    });
    expect((await api.call('GET', '/importErrors/999999')).status).toBe(404);
    expect((await api.call('GET', '/importErrors/0')).status).toBe(404);
    expect((await api.call('GET', '/importErrors/-1')).status).toBe(404);
    expect((await api.call('GET', '/importErrors/99999999999999999999')).status).toBe(404);
    for (const id of ['abc', '1.5', '1e3', '%20', '0x10']) {
      const response = await api.call('GET', `/importErrors/${id}`);
      expect(response.status, id).toBe(400);
      expect(response.json.detail).toMatch(/import_error_id must be an integer/);
    }
  });
});
