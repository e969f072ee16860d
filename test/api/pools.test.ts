import { describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(db.knex, { dagId: 'pooled' }, { t: {} });
const api = await startTestApi(db.knex, config);

/** Task instances of one run of 'pooled', each with a state, pool and pool_slots. */
async function insertTaskInstances(runId: string, rows: { state: string | null; pool: string; slots: number }[]) {
  await db.knex('dag_run').insert({ dag_id: 'pooled', run_id: runId, logical_date: new Date('2025-01-01T00:00:00Z'), state: 'running', run_type: 'manual' });
  await db
    .knex('task_instance')
    .insert(rows.map((r, i) => ({ dag_id: 'pooled', run_id: runId, task_id: `t${i}`, state: r.state, pool: r.pool, pool_slots: r.slots })));
}

describe('REST API: pools', () => {
  it('lists default_pool with 128 open slots; needs credentials', async () => {
    expect((await api.call('GET', '/pools', { as: null })).status).toBe(401);
    const list = await api.call('GET', '/pools', { as: 'Viewer' });
    expect(list.status).toBe(200);
    expect(list.json).toEqual({
      pools: [
        {
          name: 'default_pool',
          slots: 128,
          occupied_slots: 0,
          running_slots: 0,
          queued_slots: 0,
          scheduled_slots: 0,
          deferred_slots: 0,
          open_slots: 128,
          description: 'Default pool',
          include_deferred: false,
        },
      ],
      total_entries: 1,
    });
  });

  it('creates pools (Op and up); 409 for a duplicate; 400 for bad slots and bodies', async () => {
    for (const role of ['Viewer', 'User'] as const) expect((await api.call('POST', '/pools', { as: role, body: { name: 'x', slots: 1 } })).status).toBe(403);
    const created = await api.call('POST', '/pools', { as: 'Op', body: { name: 'gpu', slots: 10, description: 'GPU boxes' } });
    expect(created.status).toBe(200);
    expect(created.json).toEqual({
      name: 'gpu',
      slots: 10,
      occupied_slots: 0,
      running_slots: 0,
      queued_slots: 0,
      scheduled_slots: 0,
      deferred_slots: 0,
      open_slots: 10,
      description: 'GPU boxes',
      include_deferred: false,
    });
    expect((await api.call('POST', '/pools', { body: { name: 'gpu', slots: 3 } })).status).toBe(409);
    expect((await api.call('POST', '/pools', { body: { name: 'default_pool', slots: 3 } })).status).toBe(409);
    expect((await api.call('POST', '/pools', { body: { name: 'zero', slots: 0, include_deferred: true } })).json).toMatchObject({
      name: 'zero',
      slots: 0,
      open_slots: 0,
      include_deferred: true,
    });
    const bad = [
      { name: 'x' },
      { slots: 1 },
      { name: 'x', slots: -1 },
      { name: 'x', slots: 1.5 },
      { name: 'x', slots: '4' },
      { name: 'x', slots: 2 ** 31 },
      { name: '', slots: 1 },
      { name: 'n'.repeat(257), slots: 1 },
      { name: 'x', slots: 1, occupied_slots: 0 },
      { name: 'x', slots: 1, include_deferred: 'yes' },
      { name: 'x\u0000', slots: 1 },
    ];
    for (const body of bad) expect((await api.call('POST', '/pools', { body })).status, JSON.stringify(body)).toBe(400);
    expect((await api.call('GET', '/pools/x')).status).toBe(404);
  });

  it('counts the slots of task instances by state (pool_slots summed); deferred occupy only with include_deferred', async () => {
    await api.call('POST', '/pools', { body: { name: 'counted', slots: 10 } });
    await insertTaskInstances('counted_run', [
      { state: 'running', pool: 'counted', slots: 1 },
      { state: 'running', pool: 'counted', slots: 2 },
      { state: 'queued', pool: 'counted', slots: 1 },
      { state: 'scheduled', pool: 'counted', slots: 1 },
      { state: 'scheduled', pool: 'counted', slots: 3 },
      { state: 'deferred', pool: 'counted', slots: 4 },
      { state: 'success', pool: 'counted', slots: 5 },
      { state: 'up_for_retry', pool: 'counted', slots: 5 },
      { state: null, pool: 'counted', slots: 5 },
      { state: 'running', pool: 'default_pool', slots: 2 },
      { state: 'running', pool: 'no_such_pool', slots: 7 },
    ]);
    const pool = await api.call('GET', '/pools/counted', { as: 'Viewer' });
    expect(pool.json).toEqual({
      name: 'counted',
      slots: 10,
      occupied_slots: 4,
      running_slots: 3,
      queued_slots: 1,
      scheduled_slots: 4,
      deferred_slots: 4,
      open_slots: 6,
      description: null,
      include_deferred: false,
    });
    const withDeferred = await api.call('PATCH', '/pools/counted?update_mask=include_deferred', { body: { include_deferred: true } });
    expect(withDeferred.json).toMatchObject({ include_deferred: true, occupied_slots: 8, open_slots: 2, deferred_slots: 4 });
    const shrunk = await api.call('PATCH', '/pools/counted?update_mask=slots', { body: { slots: 5 } });
    expect(shrunk.json).toMatchObject({ slots: 5, occupied_slots: 8, open_slots: -3 });
    expect((await api.call('GET', '/pools/default_pool')).json).toMatchObject({ running_slots: 2, occupied_slots: 2, open_slots: 126 });
  });

  it('lists with total_entries, paging and order_by', async () => {
    const all = await api.call('GET', '/pools');
    expect(all.json.total_entries).toBe(4);
    expect(all.json.pools.map((p: { name: string }) => p.name)).toEqual(['default_pool', 'gpu', 'zero', 'counted']);
    const page = await api.call('GET', '/pools?order_by=-slots&limit=2&offset=1');
    expect(page.json.total_entries).toBe(4);
    expect(page.json.pools.map((p: { name: string }) => p.name)).toEqual(['gpu', 'counted']);
    expect((await api.call('GET', '/pools?order_by=name')).json.pools.map((p: { name: string }) => p.name)).toEqual(['counted', 'default_pool', 'gpu', 'zero']);
    expect((await api.call('GET', '/pools?order_by=open_slots')).status).toBe(400);
    expect((await api.call('GET', '/pools?limit=x')).status).toBe(400);
  });

  it('PATCH needs name and slots unless update_mask names the fields; renames; 409 for a taken name', async () => {
    await api.call('POST', '/pools', { body: { name: 'etl', slots: 2 } });
    expect((await api.call('PATCH', '/pools/etl', { body: { slots: 3 } })).json.detail).toMatch(/Missing required field\(s\): name/);
    const full = await api.call('PATCH', '/pools/etl', { as: 'Op', body: { name: 'etl', slots: 3, description: 'nightly' } });
    expect(full.json).toMatchObject({ name: 'etl', slots: 3, description: 'nightly' });
    expect((await api.call('PATCH', '/pools/etl?update_mask=description', { body: { description: null } })).json).toMatchObject({
      slots: 3,
      description: null,
    });
    expect((await api.call('PATCH', '/pools/etl?update_mask=open_slots', { body: { slots: 1 } })).status).toBe(400);
    expect((await api.call('PATCH', '/pools/etl?update_mask=slots', { body: { name: 'etl' } })).status).toBe(400);
    expect((await api.call('PATCH', '/pools/etl?update_mask=slots', { body: { slots: -1 } })).status).toBe(400);
    expect((await api.call('PATCH', '/pools/etl', { as: 'User', body: { name: 'etl', slots: 1 } })).status).toBe(403);
    expect((await api.call('PATCH', '/pools/nope', { body: { name: 'nope', slots: 1 } })).status).toBe(404);

    const taken = await api.call('PATCH', '/pools/etl?update_mask=name', { body: { name: 'gpu' } });
    expect(taken.status).toBe(409);
    expect((await api.call('GET', '/pools/etl')).json.slots).toBe(3);
    const renamed = await api.call('PATCH', '/pools/etl', { body: { name: 'etl_v2', slots: 4 } });
    expect(renamed.json).toMatchObject({ name: 'etl_v2', slots: 4 });
    expect((await api.call('GET', '/pools/etl')).status).toBe(404);
  });

  it('default_pool: slots and description can change; it cannot be renamed or deleted (400)', async () => {
    expect((await api.call('PATCH', '/pools/default_pool?update_mask=slots', { body: { slots: 64 } })).json).toMatchObject({ name: 'default_pool', slots: 64 });
    expect((await api.call('PATCH', '/pools/default_pool', { body: { name: 'default_pool', slots: 32, description: 'smaller' } })).json).toMatchObject({
      slots: 32,
      description: 'smaller',
    });
    const rename = await api.call('PATCH', '/pools/default_pool', { body: { name: 'other', slots: 32 } });
    expect(rename.status).toBe(400);
    expect(rename.json.detail).toMatch(/default_pool cannot be renamed/);
    expect((await api.call('PATCH', '/pools/default_pool?update_mask=name', { body: { name: 'other' } })).status).toBe(400);
    const del = await api.call('DELETE', '/pools/default_pool');
    expect(del.status).toBe(400);
    expect(del.json.detail).toMatch(/default_pool cannot be deleted/);
    expect((await api.call('GET', '/pools/default_pool')).json).toMatchObject({ name: 'default_pool', slots: 32 });
  });

  it('DELETE removes a pool (Op and up); 404 after', async () => {
    expect((await api.call('DELETE', '/pools/zero', { as: 'Viewer' })).status).toBe(403);
    expect((await api.call('DELETE', '/pools/zero', { as: 'Op' })).status).toBe(204);
    expect((await api.call('DELETE', '/pools/zero')).status).toBe(404);
    expect((await api.call('GET', '/pools/zero')).status).toBe(404);
  });

  it('audits every change with its user', async () => {
    const rows = await db.knex('log').where('event', 'like', 'pool.%').orderBy('id').select('event', 'owner', 'extra');
    expect(rows.map((r) => r.event)).toEqual([
      'pool.create', // gpu
      'pool.create', // zero
      'pool.create', // counted
      'pool.edit',
      'pool.edit',
      'pool.create', // etl
      'pool.edit',
      'pool.edit',
      'pool.edit', // rename
      'pool.edit', // default_pool slots
      'pool.edit',
      'pool.delete',
    ]);
    expect(rows[0]).toMatchObject({ owner: 'op' });
    expect(rows.at(-1)).toMatchObject({ owner: 'op', extra: JSON.stringify({ pool: 'zero' }) });
    expect(JSON.parse(rows[8]!.extra)).toEqual({ pool: 'etl', set: { pool: 'etl_v2', slots: 4 } });
  });
});
