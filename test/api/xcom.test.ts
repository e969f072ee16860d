import { describe, expect, it } from 'vitest';
import { pushXCom } from '../../db/models/xcom.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(db.knex, { dagId: 'producer' }, { extract: {}, load: { upstream: ['extract'] } }, { paused: true });
await registerDag(db.knex, { dagId: 'other' }, { only: {} }, { paused: true });
const api = await startTestApi(db.knex, config);

const day = (d: number) => new Date(Date.UTC(2025, 0, d));
const r1 = await triggerDagRun(db.knex, { dagId: 'producer', runId: 'r1', logicalDate: day(1), now: new Date() });
const r2 = await triggerDagRun(db.knex, { dagId: 'producer', runId: 'r2', logicalDate: day(2), now: new Date() });
const o1 = await triggerDagRun(db.knex, { dagId: 'other', runId: 'o1', logicalDate: day(1), now: new Date() });
const push = (run: { id: number; dag_id: string; run_id: string }, taskId: string, key: string, value: unknown, mapIndex = -1) =>
  pushXCom(db.knex, { dagRunId: run.id, dagId: run.dag_id, runId: run.run_id, taskId, mapIndex }, key, value, 1024 * 1024);
await push(r1, 'extract', 'return_value', { rows: 3, names: ['a', 'b'] });
await push(r1, 'extract', 'greeting', 'hello');
await push(r1, 'extract', 'count', 42);
await push(r1, 'extract', 'chunk', [1], 0);
await push(r2, 'extract', 'return_value', null);
await push(o1, 'only', 'return_value', true);

const base = '/dags/producer/dagRuns/r1/taskInstances/extract/xcomEntries';
const keys = (entries: { key: string }[]) => entries.map((e) => e.key);

describe('REST API: XCom entries', () => {
  it("lists a task instance's entries without values, with total_entries", async () => {
    const response = await api.call('GET', base, { as: 'Viewer' });
    expect(response.status).toBe(200);
    expect(response.json.total_entries).toBe(4);
    expect(keys(response.json.xcom_entries)).toEqual(['count', 'greeting', 'return_value', 'chunk']);
    expect(response.json.xcom_entries[0]).toEqual({
      key: 'count',
      timestamp: expect.stringMatching(/\+00:00$/),
      execution_date: '2025-01-01T00:00:00.000+00:00',
      map_index: -1,
      task_id: 'extract',
      dag_id: 'producer',
    });
  });

  it('filters by map_index and xcom_key, and pages', async () => {
    expect(keys((await api.call('GET', `${base}?map_index=0`)).json.xcom_entries)).toEqual(['chunk']);
    expect((await api.call('GET', `${base}?xcom_key=greeting`)).json.total_entries).toBe(1);
    const page = await api.call('GET', `${base}?limit=2&offset=1`);
    expect(page.json.total_entries).toBe(4);
    expect(keys(page.json.xcom_entries)).toEqual(['greeting', 'return_value']);
  });

  it('~ lists across task instances, runs and DAGs', async () => {
    const all = await api.call('GET', '/dags/~/dagRuns/~/taskInstances/~/xcomEntries?xcom_key=return_value');
    expect(all.json.xcom_entries.map((e: { dag_id: string; execution_date: string }) => `${e.dag_id}@${e.execution_date.slice(0, 10)}`)).toEqual([
      'other@2025-01-01',
      'producer@2025-01-01',
      'producer@2025-01-02',
    ]);
    expect((await api.call('GET', '/dags/producer/dagRuns/~/taskInstances/extract/xcomEntries')).json.total_entries).toBe(5);
    expect((await api.call('GET', '/dags/producer/dagRuns/r2/taskInstances/~/xcomEntries')).json.total_entries).toBe(1);
  });

  it('404 for unknown DAGs, runs and task instances; 400 for bad filters; 401 without credentials', async () => {
    expect((await api.call('GET', '/dags/nope/dagRuns/r1/taskInstances/extract/xcomEntries')).status).toBe(404);
    expect((await api.call('GET', '/dags/producer/dagRuns/nope/taskInstances/extract/xcomEntries')).status).toBe(404);
    expect((await api.call('GET', '/dags/producer/dagRuns/r1/taskInstances/ghost/xcomEntries')).status).toBe(404);
    expect((await api.call('GET', '/dags/producer/dagRuns/r1/taskInstances/load/xcomEntries')).json).toEqual({ xcom_entries: [], total_entries: 0 });
    expect((await api.call('GET', `${base}?map_index=first`)).status).toBe(400);
    expect((await api.call('GET', `${base}?limit=-1`)).status).toBe(400);
    expect((await api.call('GET', base, { as: null })).status).toBe(401);
  });
});

describe('REST API: one XCom entry', () => {
  it('returns the value as a string by default, as Airflow does', async () => {
    const response = await api.call('GET', `${base}/return_value`, { as: 'Viewer' });
    expect(response.json).toEqual({
      key: 'return_value',
      timestamp: expect.any(String),
      execution_date: '2025-01-01T00:00:00.000+00:00',
      map_index: -1,
      task_id: 'extract',
      dag_id: 'producer',
      value: '{"rows":3,"names":["a","b"]}',
    });
    expect((await api.call('GET', `${base}/greeting`)).json.value).toBe('hello');
    expect((await api.call('GET', `${base}/count`)).json.value).toBe('42');
    expect((await api.call('GET', '/dags/producer/dagRuns/r2/taskInstances/extract/xcomEntries/return_value')).json.value).toBe('null');
  });

  it('returns the JSON value itself with stringify=false; deserialize changes nothing', async () => {
    expect((await api.call('GET', `${base}/return_value?stringify=false`)).json.value).toEqual({ rows: 3, names: ['a', 'b'] });
    expect((await api.call('GET', `${base}/count?stringify=false`)).json.value).toBe(42);
    expect((await api.call('GET', `${base}/count?deserialize=true`)).json.value).toBe('42');
    expect((await api.call('GET', `${base}/chunk?map_index=0&stringify=false`)).json).toMatchObject({ map_index: 0, value: [1] });
  });

  it('404 for a missing key or map index; 400 for bad query values', async () => {
    expect((await api.call('GET', `${base}/nope`)).status).toBe(404);
    expect((await api.call('GET', `${base}/chunk`)).status).toBe(404);
    expect((await api.call('GET', '/dags/producer/dagRuns/nope/taskInstances/extract/xcomEntries/return_value')).status).toBe(404);
    expect((await api.call('GET', `${base}/count?stringify=maybe`)).status).toBe(400);
    expect((await api.call('GET', `${base}/count?map_index=-2`)).status).toBe(400);
    expect((await api.call('GET', `${base}/count?map_index=99999999999`)).status).toBe(400);
    expect((await api.call('GET', `${base}/%00`)).status).toBe(400);
  });
});
