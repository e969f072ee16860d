import { describe, expect, it } from 'vitest';
import type { TiState } from '../../core/state.ts';
import { expandTaskInstance } from '../../db/models/taskInstance.ts';
import { transitionTaskInstance } from '../../db/transitions.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

// The REST v1 routes of mapped task instances: listMapped, GET/PATCH .../{task_id}/{map_index}, and map_index in every JSON.
const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(
  db.knex,
  { dagId: 'fan', startDate: new Date('2025-01-01T00:00:00Z') },
  { listing: {}, embed: { upstream: ['listing'] }, unexpanded: {} },
  { paused: true },
);
const api = await startTestApi(db.knex, config);
await triggerDagRun(db.knex, { dagId: 'fan', runId: 'r1', logicalDate: new Date('2025-01-01T00:00:00Z'), now: new Date() });

const tiId = async (taskId: string, mapIndex: number) =>
  (await db.knex('task_instance').where({ dag_id: 'fan', run_id: 'r1', task_id: taskId, map_index: mapIndex }).first('id')).id as number;
async function walk(taskId: string, mapIndex: number, states: TiState[]) {
  const id = await tiId(taskId, mapIndex);
  for (const to of states) await transitionTaskInstance(db.knex, id, { to, now: new Date() });
}
// 'embed' is expanded into 4 instances as the scheduler does (ADR 0016); 2 of them ran.
const embedId = await tiId('embed', -1);
await db.knex.transaction((trx) => expandTaskInstance(trx, embedId, 4, new Date()));
await walk('embed', 1, ['scheduled', 'queued', 'running', 'success']);
await walk('embed', 3, ['scheduled', 'queued', 'running', 'failed']);

const BASE = '/dags/fan/dagRuns/r1/taskInstances';
const mapIndexes = (tis: { map_index: number }[]) => tis.map((t) => t.map_index);

describe('REST API: mapped task instances', () => {
  it('listMapped lists the expanded instances in map-index order, with the same fields as any task instance', async () => {
    const unmapped = (await api.call('GET', `${BASE}/listing`, { as: 'Viewer' })).json;
    const response = await api.call('GET', `${BASE}/embed/listMapped`, { as: 'Viewer' });
    expect(response.status).toBe(200);
    expect(Object.keys(response.json).sort()).toEqual(['task_instances', 'total_entries']);
    expect(response.json.total_entries).toBe(4);
    expect(mapIndexes(response.json.task_instances)).toEqual([0, 1, 2, 3]);
    for (const ti of response.json.task_instances) expect(Object.keys(ti).sort()).toEqual(Object.keys(unmapped).sort());
    expect(response.json.task_instances[1]).toMatchObject({ task_id: 'embed', dag_run_id: 'r1', map_index: 1, state: 'success', try_number: 1 });
    expect(unmapped.map_index).toBe(-1);
  });

  it("every task-instance JSON carries the row's map_index: the run's list, the batch list and a try's log by map index", async () => {
    const list = (await api.call('GET', BASE)).json.task_instances.filter((t: { task_id: string }) => t.task_id === 'embed');
    expect(mapIndexes(list)).toEqual([0, 1, 2, 3]);
    const batch = (await api.call('POST', '/dags/~/dagRuns/~/taskInstances/list', { body: { task_ids: ['embed'] } })).json;
    expect([batch.total_entries, mapIndexes(batch.task_instances)]).toEqual([4, [0, 1, 2, 3]]);
    expect((await api.call('GET', `${BASE}/embed/logs/1?map_index=1`)).status).toBe(200);
    expect((await api.call('GET', `${BASE}/embed/logs/1`)).status).toBe(404); // map index -1 is gone once expanded
  });

  it('listMapped pages (limit/offset), orders (order_by, - for descending) and filters (state) as the spec lists', async () => {
    const page = await api.call('GET', `${BASE}/embed/listMapped?limit=2&offset=1`);
    expect(page.json.total_entries).toBe(4);
    expect(mapIndexes(page.json.task_instances)).toEqual([1, 2]);
    expect(mapIndexes((await api.call('GET', `${BASE}/embed/listMapped?order_by=-map_index`)).json.task_instances)).toEqual([3, 2, 1, 0]);
    expect(mapIndexes((await api.call('GET', `${BASE}/embed/listMapped?order_by=state`)).json.task_instances)).toEqual([3, 1, 0, 2]);
    const failed = await api.call('GET', `${BASE}/embed/listMapped?state=failed`);
    expect([failed.json.total_entries, mapIndexes(failed.json.task_instances)]).toEqual([1, [3]]);
    expect((await api.call('GET', `${BASE}/embed/listMapped?order_by=pid`)).status).toBe(400);
  });

  it('listMapped of an unknown task or run is a 404; of an unexpanded task, an empty list', async () => {
    expect((await api.call('GET', `${BASE}/nope/listMapped`)).status).toBe(404);
    expect((await api.call('GET', '/dags/fan/dagRuns/nope/taskInstances/embed/listMapped')).status).toBe(404);
    expect((await api.call('GET', `${BASE}/unexpanded/listMapped`)).json).toEqual({ task_instances: [], total_entries: 0 });
  });

  it('GET .../{task_id}/{map_index} answers one instance; an unknown map index is a 404', async () => {
    const one = await api.call('GET', `${BASE}/embed/3`, { as: 'Viewer' });
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ task_id: 'embed', map_index: 3, state: 'failed' });
    expect((await api.call('GET', `${BASE}/embed/9`)).status).toBe(404);
    expect((await api.call('GET', `${BASE}/embed/-1`)).status).toBe(400);
  });

  it('GET .../{task_id} of an expanded mapped task is a 404 that asks for the map index, as in Airflow', async () => {
    const response = await api.call('GET', `${BASE}/embed`);
    expect(response.status).toBe(404);
    expect(response.json.detail).toMatch(/mapped: add the map_index/);
    expect((await api.call('GET', `${BASE}/unexpanded`)).json.map_index).toBe(-1);
  });

  it('PATCH .../{task_id}/{map_index} marks only that instance (dry run by default) through the mark service', async () => {
    expect((await api.call('PATCH', `${BASE}/embed/3`, { as: 'Viewer', body: { new_state: 'success' } })).status).toBe(403);
    const dry = await api.call('PATCH', `${BASE}/embed/3`, { as: 'User', body: { new_state: 'success' } });
    expect(dry.status).toBe(200);
    expect(dry.json).toMatchObject({ task_id: 'embed', dag_run_id: 'r1', dag_id: 'fan' });
    expect((await api.call('GET', `${BASE}/embed/3`)).json.state).toBe('failed');
    const real = await api.call('PATCH', `${BASE}/embed/3`, { body: { new_state: 'success', dry_run: false } });
    expect(real.status).toBe(200);
    const states = (await api.call('GET', `${BASE}/embed/listMapped`)).json.task_instances.map((t: { state: string | null }) => t.state);
    expect(states).toEqual([null, 'success', null, 'success']);
    expect((await api.call('PATCH', `${BASE}/embed/7`, { body: { new_state: 'success', dry_run: false } })).status).toBe(404);
  });
});
