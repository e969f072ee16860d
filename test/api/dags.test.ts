import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';
import { startTestApi } from '../helpers/api.ts';

const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(
  db.knex,
  { dagId: 'alpha', schedule: '@daily', startDate: new Date('2025-01-01T00:00:00Z'), tags: ['etl', 'daily'] },
  { a: {}, b: { upstream: ['a'] } },
  { paused: true },
);
await registerDag(db.knex, { dagId: 'beta', tags: ['ml'] }, { only: {} }, { paused: false });
await registerDag(db.knex, { dagId: 'gamma_report', schedule: { hours: 6 }, startDate: new Date('2025-01-01T00:00:00Z') }, { only: {} }, { paused: true });
const api = await startTestApi(db.knex, config);

describe('REST API: authentication and errors', () => {
  it("401 without credentials, with Airflow's problem shape; health and version need none", async () => {
    const response = await api.call('GET', '/dags', { as: null });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.json).toMatchObject({ title: 'Unauthorized', status: 401, type: expect.stringMatching(/Unauthenticated$/), detail: expect.any(String) });
    expect((await api.call('GET', '/health', { as: null })).json).toEqual({
      metadatabase: { status: 'healthy' },
      scheduler: { status: 'unhealthy', latest_scheduler_heartbeat: null },
    });
    expect((await api.call('GET', '/version', { as: null })).json).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it('401 for a wrong password; 403 when the role forbids (a Viewer cannot pause)', async () => {
    const wrong = await api.call('GET', '/dags', { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` }, as: null });
    expect(wrong.status).toBe(401);
    const viewer = await api.call('PATCH', '/dags/alpha', { as: 'Viewer', body: { is_paused: false } });
    expect(viewer.status).toBe(403);
    expect(viewer.json.detail).toMatch(/Viewer role cannot/);
    expect((await api.call('GET', '/dags/alpha', { as: 'Viewer' })).status).toBe(200);
  });

  it('400 for malformed JSON, unknown fields and bad query values; 404 for unknown ids and paths', async () => {
    expect((await api.call('PATCH', '/dags/alpha', { rawBody: '{"is_paused": tru' })).json).toMatchObject({
      status: 400,
      detail: expect.stringMatching(/not valid JSON/),
    });
    expect((await api.call('PATCH', '/dags/alpha', { body: { is_paused: 'yes' } })).status).toBe(400);
    expect((await api.call('PATCH', '/dags/alpha', { body: { is_paused: true, owners: ['x'] } })).status).toBe(400);
    expect((await api.call('GET', '/dags?limit=abc')).status).toBe(400);
    expect((await api.call('GET', '/dags?order_by=secret_column')).status).toBe(400);
    expect((await api.call('GET', '/dags/nope')).json).toMatchObject({ status: 404, detail: expect.stringMatching(/DAG 'nope' not found/) });
    expect((await api.call('GET', '/no/such/thing')).status).toBe(404);
  });

  it('413 for a body over the size limit, never a 500', async () => {
    const response = await api.call('PATCH', '/dags/alpha', { rawBody: JSON.stringify({ is_paused: true, pad: 'x'.repeat(2_000_000) }) });
    expect(response.status).toBe(413);
  });
});

describe('REST API: DAGs', () => {
  it("lists DAGs with Airflow's fields and total_entries, filtered and paged", async () => {
    const all = await api.call('GET', '/dags');
    expect(all.status).toBe(200);
    expect(all.json.total_entries).toBe(3);
    expect(all.json.dags.map((d: { dag_id: string }) => d.dag_id)).toEqual(['alpha', 'beta', 'gamma_report']);
    expect(all.json.dags[0]).toMatchObject({
      dag_id: 'alpha',
      is_paused: true,
      is_active: true,
      owners: ['airflow'],
      tags: [{ name: 'etl' }, { name: 'daily' }],
      schedule_interval: { __type: 'CronExpression', value: '@daily' },
      timetable_description: '@daily',
      file_token: expect.stringMatching(/^[0-9a-f]{32}$/),
      fileloc: '/virtual/alpha.ts',
    });
    expect(all.json.dags[2].schedule_interval).toEqual({ __type: 'TimeDelta', days: 0, seconds: 21600, microseconds: 0 });
    const page = await api.call('GET', '/dags?limit=1&offset=1&order_by=-dag_id');
    expect(page.json).toMatchObject({ total_entries: 3, dags: [{ dag_id: 'beta' }] });
    expect((await api.call('GET', '/dags?tags=ml')).json.dags.map((d: { dag_id: string }) => d.dag_id)).toEqual(['beta']);
    expect((await api.call('GET', '/dags?paused=true')).json.total_entries).toBe(2);
    expect((await api.call('GET', '/dags?dag_id_pattern=report')).json.dags.map((d: { dag_id: string }) => d.dag_id)).toEqual(['gamma_report']);
  });

  it('PATCH pauses one DAG, and PATCH /dags pauses by pattern', async () => {
    const one = await api.call('PATCH', '/dags/alpha?update_mask=is_paused', { as: 'User', body: { is_paused: false } });
    expect(one.json).toMatchObject({ dag_id: 'alpha', is_paused: false });
    expect(await db.knex('dag').where('dag_id', 'alpha').first('is_paused')).toEqual({ is_paused: false });
    expect((await api.call('PATCH', '/dags/alpha?update_mask=owners', { body: { is_paused: true } })).status).toBe(400);
    const bulk = await api.call('PATCH', '/dags?dag_id_pattern=~', { body: { is_paused: true } });
    expect(bulk.json.total_entries).toBe(3);
    expect(await db.knex('dag').where('is_paused', false).count({ n: '*' })).toEqual([{ n: 0 }]);
    expect((await api.call('PATCH', '/dags', { body: { is_paused: true } })).status).toBe(400);
  });

  it("DELETE removes a DAG's metadata", async () => {
    expect((await api.call('DELETE', '/dags/beta', { as: 'Viewer' })).status).toBe(403);
    expect((await api.call('DELETE', '/dags/beta')).status).toBe(204);
    expect((await api.call('GET', '/dags/beta')).status).toBe(404);
    expect((await api.call('DELETE', '/dags/beta')).status).toBe(404);
  });

  it('serves an OpenAPI document of exactly the implemented routes', async () => {
    const doc = (await api.call('GET', '/openapi.json', { as: null })).json;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/dags'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['limit', 'offset', 'tags', 'dag_id_pattern']),
    );
    expect(doc.paths['/dags/{dag_id}'].patch.requestBody).toBeDefined();
    expect(Object.keys(doc.paths)).toContain('/health');
  });
});

describe('REST API: malformed URLs', () => {
  it('a path with broken percent-encoding is a 400, not a 500', async () => {
    expect((await api.call('GET', '/dags/%E0%A4%A')).status).toBe(400);
  });
});

describe('REST API: values the database refuses', () => {
  it('a NUL byte in a path segment is a 400, not a 500', async () => {
    expect((await api.call('GET', '/dags/a%00b')).status).toBe(400);
  });
});
