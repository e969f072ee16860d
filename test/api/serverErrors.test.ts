import { describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(db.knex, { dagId: 'unreadable' }, { only: {} });
// A serialized form this code cannot read (written by another version, or damaged): the server's problem, not the client's.
await db
  .knex('serialized_dag')
  .where('dag_id', 'unreadable')
  .update({ data: JSON.stringify({ dag_id: 'unreadable' }) });
await registerDag(db.knex, { dagId: 'readable' }, { only: {} });
const api = await startTestApi(db.knex, config);

describe('REST API: errors the server did not expect', () => {
  it('answers 500 with an error id that the log holds with the stack; the response holds no stack', async () => {
    const response = await api.call('GET', '/dags/unreadable/tasks', { as: 'Viewer' });
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.json).toMatchObject({ status: 500, title: 'Internal Server Error', type: expect.stringMatching(/Unknown$/) });
    const id = /error id ([0-9a-f-]{36})/.exec(response.json.detail)?.[1];
    expect(id).toBeDefined();
    expect(response.json.instance).toBe(`urn:uuid:${id}`);
    expect(response.text).not.toMatch(/TypeError|Cannot read|\.ts:\d+/);

    const logged = api.logger.entries.filter((e) => e.level === 'error' && e.meta.errorId === id);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.message).toContain(`GET /api/v1/dags/unreadable/tasks failed (error id ${id})`);
    expect(String(logged[0]!.meta.error)).toMatch(/TypeError[\s\S]*dagDetails\.ts/);
  });

  it('gives each failure its own id', async () => {
    const ids = await Promise.all([1, 2].map(async () => (await api.call('GET', '/dags/unreadable/tasks')).json.instance));
    expect(new Set(ids).size).toBe(2);
  });

  it('keeps client errors as they were: no id, nothing logged as an error', async () => {
    const before = api.logger.entries.filter((e) => e.level === 'error').length;
    const missing = await api.call('GET', '/dags/nope/tasks');
    expect(missing.status).toBe(404);
    expect(missing.json.instance).toBeUndefined();
    const badOrder = await api.call('GET', '/dags/readable/tasks?order_by=nope');
    expect(badOrder.status).toBe(400);
    expect(api.logger.entries.filter((e) => e.level === 'error').length).toBe(before);
  });
});
