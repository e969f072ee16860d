import { describe, expect, it } from 'vitest';
import { fernetFor } from '../../core/crypto/fernetKey.ts';
import { loadVariablesAndConnections } from '../../db/metastoreBackend.ts';
import { startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
const api = await startTestApi(db.knex, config);

const PASSWORD = 'hunter2-db-password';
const KEY_IN_EXTRA = 'extra-api-key-value';
const warehouse = {
  connection_id: 'warehouse',
  conn_type: 'postgres',
  description: 'the warehouse',
  host: 'db.example.com',
  login: 'etl',
  schema: 'analytics',
  port: 5432,
  password: PASSWORD,
  extra: JSON.stringify({ sslmode: 'require', api_key: KEY_IN_EXTRA, nested: { client_secret: KEY_IN_EXTRA, region: 'eu' } }),
};

/** Every response of the suite, to check that no secret ever left the server. */
const texts: string[] = [];
async function call(...args: Parameters<typeof api.call>) {
  const response = await api.call(...args);
  texts.push(response.text);
  return response;
}

describe('REST API: connections', () => {
  it('creates a connection; the password and secret keys of extra never come back', async () => {
    const created = await call('POST', '/connections', { as: 'Op', body: warehouse });
    expect(created.status).toBe(200);
    expect(created.json).toEqual({
      connection_id: 'warehouse',
      conn_type: 'postgres',
      description: 'the warehouse',
      host: 'db.example.com',
      login: 'etl',
      schema: 'analytics',
      port: 5432,
      extra: expect.any(String),
    });
    expect(JSON.parse(created.json.extra)).toEqual({ sslmode: 'require', api_key: '***', nested: { client_secret: '***', region: 'eu' } });
    expect(created.text).not.toContain(PASSWORD);
    expect(created.text).not.toContain(KEY_IN_EXTRA);
    expect(created.text).not.toContain('password');

    const one = await call('GET', '/connections/warehouse', { as: 'Op' });
    expect(one.json).toEqual(created.json);
    for (const role of ['Viewer', 'User'] as const) {
      const denied = await call('GET', '/connections/warehouse', { as: role });
      expect(denied.status).toBe(403);
      expect(denied.text).not.toContain('db.example.com');
      expect((await call('GET', '/connections', { as: role })).status).toBe(403);
    }
    expect(one.text).not.toContain(PASSWORD);

    // Stored as given: the task runner's read path gets the real values.
    const stored = (await loadVariablesAndConnections(db.knex, fernetFor(config))).connections.get('warehouse');
    expect(stored).toMatchObject({ password: PASSWORD, host: 'db.example.com', port: 5432, extra: { api_key: KEY_IN_EXTRA } });
  });

  it('lists without extra or password, with total_entries, paging and order_by', async () => {
    await call('POST', '/connections', { body: { connection_id: 'a_http', conn_type: 'http', host: 'api.example.com', password: PASSWORD } });
    await call('POST', '/connections', { body: { connection_id: 'b_ssh', conn_type: 'ssh', port: 22, password: PASSWORD } });
    const all = await call('GET', '/connections', { as: 'Op' });
    expect(all.status).toBe(200);
    expect(all.json.total_entries).toBe(3);
    expect(all.json.connections.map((c: { connection_id: string }) => c.connection_id)).toEqual(['warehouse', 'a_http', 'b_ssh']);
    expect(all.json.connections[2]).toEqual({ connection_id: 'b_ssh', conn_type: 'ssh', description: null, host: null, login: null, schema: null, port: 22 });
    expect(all.text).not.toContain(PASSWORD);
    expect(all.text).not.toContain('extra');
    const page = await call('GET', '/connections?order_by=connection_id&limit=2&offset=1');
    expect(page.json.total_entries).toBe(3);
    expect(page.json.connections.map((c: { connection_id: string }) => c.connection_id)).toEqual(['b_ssh', 'warehouse']);
    expect((await call('GET', '/connections?order_by=-conn_type')).json.connections[0].connection_id).toBe('b_ssh');
    expect((await call('GET', '/connections?order_by=password')).status).toBe(400);
    expect((await call('GET', '/connections?limit=1001')).status).toBe(400);
  });

  it('409 for a duplicate id; 400 for invalid bodies; 404 for unknown ids', async () => {
    const dup = await call('POST', '/connections', { body: { connection_id: 'warehouse', conn_type: 'mysql', password: 'other' } });
    expect(dup.status).toBe(409);
    expect(dup.json.detail).toMatch(/'warehouse' already exists/);
    expect((await loadVariablesAndConnections(db.knex, fernetFor(config))).connections.get('warehouse')?.password).toBe(PASSWORD);
    const bad = [
      { conn_type: 'http' },
      { connection_id: 'x' },
      { connection_id: 'has space', conn_type: 'http' },
      { connection_id: 'x'.repeat(251), conn_type: 'http' },
      { connection_id: 'x', conn_type: 'http', port: 70_000 },
      { connection_id: 'x', conn_type: 'http', port: '5432' },
      { connection_id: 'x', conn_type: 'http', port: 1.5 },
      { connection_id: 'x', conn_type: 'http', host: 'h'.repeat(501) },
      { connection_id: 'x', conn_type: 'http', password: 'nul\u0000' },
      { connection_id: 'x', conn_type: 'http', extra: { not: 'a string' } },
      { connection_id: 'x', conn_type: 'http', is_encrypted: true },
    ];
    for (const body of bad) expect((await call('POST', '/connections', { body })).status, JSON.stringify(body)).toBe(400);
    expect((await call('GET', '/connections/nope')).status).toBe(404);
    expect((await call('PATCH', '/connections/nope', { body: { host: 'h' } })).status).toBe(404);
    expect((await call('DELETE', '/connections/nope')).status).toBe(404);
  });

  it('PATCH changes the given fields or the update_mask ones; a masked *** in extra keeps the stored secret', async () => {
    const before = (await call('GET', '/connections/warehouse')).json;
    const changedExtra = JSON.parse(before.extra);
    changedExtra.sslmode = 'verify-full';
    const patched = await call('PATCH', '/connections/warehouse', {
      as: 'Op',
      body: { host: 'db2.example.com', port: 6432, extra: JSON.stringify(changedExtra) },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ connection_id: 'warehouse', host: 'db2.example.com', port: 6432, login: 'etl', schema: 'analytics' });
    expect(JSON.parse(patched.json.extra)).toEqual({ sslmode: 'verify-full', api_key: '***', nested: { client_secret: '***', region: 'eu' } });
    let stored = (await loadVariablesAndConnections(db.knex, fernetFor(config))).connections.get('warehouse')!;
    expect(stored.extra).toEqual({ sslmode: 'verify-full', api_key: KEY_IN_EXTRA, nested: { client_secret: KEY_IN_EXTRA, region: 'eu' } });
    expect(stored.password).toBe(PASSWORD);

    const masked = await call('PATCH', '/connections/warehouse?update_mask=password,login', {
      body: { login: 'loader', password: 'new-password-value', host: 'ignored' },
    });
    expect(masked.json).toMatchObject({ login: 'loader', host: 'db2.example.com' });
    expect(masked.text).not.toContain('new-password-value');
    stored = (await loadVariablesAndConnections(db.knex, fernetFor(config))).connections.get('warehouse')!;
    expect(stored.password).toBe('new-password-value');

    expect((await call('PATCH', '/connections/warehouse', { body: { connection_id: 'renamed' } })).status).toBe(400);
    expect((await call('PATCH', '/connections/warehouse?update_mask=connection_id', { body: { connection_id: 'warehouse' } })).status).toBe(400);
    expect((await call('PATCH', '/connections/warehouse?update_mask=hostname', { body: { host: 'x' } })).status).toBe(400);
    expect((await call('PATCH', '/connections/warehouse?update_mask=host', { body: { port: 1 } })).status).toBe(400);
    expect((await call('PATCH', '/connections/warehouse', { body: { conn_type: null } })).status).toBe(400);
    expect((await call('PATCH', '/connections/warehouse', { body: { password: 42 } })).status).toBe(400);
    expect((await call('PATCH', '/connections/warehouse', { as: 'User', body: { host: 'x' } })).status).toBe(403);
  });

  it('masked values inside arrays are restored too; deeply nested extra is masked wholesale, never a 500', async () => {
    const extra = JSON.stringify({ hosts: [{ name: 'h1', password: KEY_IN_EXTRA }], token: KEY_IN_EXTRA });
    const created = await call('POST', '/connections', { body: { connection_id: 'arrays', conn_type: 'generic', extra } });
    expect(JSON.parse(created.json.extra)).toEqual({ hosts: [{ name: 'h1', password: '***' }], token: '***' });
    const edited = JSON.parse(created.json.extra);
    edited.hosts[0].name = 'h2';
    await call('PATCH', '/connections/arrays?update_mask=extra', { body: { extra: JSON.stringify(edited) } });
    expect((await loadVariablesAndConnections(db.knex, fernetFor(config))).connections.get('arrays')?.extra).toEqual({
      hosts: [{ name: 'h2', password: KEY_IN_EXTRA }],
      token: KEY_IN_EXTRA,
    });

    const deep = '{"a":'.repeat(50_000) + JSON.stringify({ password: KEY_IN_EXTRA }) + '}'.repeat(50_000);
    const stored = await call('POST', '/connections', { body: { connection_id: 'deep', conn_type: 'generic', extra: deep } });
    expect(stored.status).toBe(200);
    expect(stored.json.extra).toContain('***');
    expect((await call('PATCH', '/connections/deep', { body: { extra: deep.replace(KEY_IN_EXTRA, '***') } })).status).toBe(200);
    await call('DELETE', '/connections/deep');
    await call('DELETE', '/connections/arrays');
  });

  it('extra that is not a JSON object is refused with a 400 naming the field (POST and PATCH), and nothing is stored', async () => {
    for (const extra of ['not json at all', '{"timeout": 30', '[1, 2]', '"a string"']) {
      const created = await call('POST', '/connections', { body: { connection_id: 'raw_extra', conn_type: 'generic', extra } });
      expect(created.status, extra).toBe(400);
      expect(created.json.detail, extra).toMatch(/^extra: must be a JSON object/);
    }
    expect((await loadVariablesAndConnections(db.knex, fernetFor(config))).connections.get('raw_extra')).toBeUndefined();
    expect((await call('POST', '/connections', { body: { connection_id: 'raw_extra', conn_type: 'generic', extra: '{"timeout": 30}' } })).status).toBe(200);
    const patched = await call('PATCH', '/connections/raw_extra', { body: { extra: '{"timeout": 30' } });
    expect(patched.status).toBe(400);
    expect(patched.json.detail).toMatch(/^extra: must be a JSON object, e\.g\. \{"timeout": 30\}; it is not valid JSON/);
    expect((await loadVariablesAndConnections(db.knex, fernetFor(config))).connections.get('raw_extra')?.extra).toEqual({ timeout: 30 });
  });

  it('an extra stored before it had to be JSON is returned as stored (nothing to mask)', async () => {
    await db.knex('connection').insert({ conn_id: 'legacy_extra', conn_type: 'generic', extra: 'not json at all', is_extra_encrypted: false });
    expect((await call('GET', '/connections/legacy_extra')).json.extra).toBe('not json at all');
  });

  it('DELETE removes a connection; Viewer and User cannot', async () => {
    expect((await call('DELETE', '/connections/a_http', { as: 'Viewer' })).status).toBe(403);
    expect((await call('DELETE', '/connections/a_http', { as: 'User' })).status).toBe(403);
    expect((await call('DELETE', '/connections/a_http', { as: 'Op' })).status).toBe(204);
    expect((await call('GET', '/connections/a_http')).status).toBe(404);
    expect((await loadVariablesAndConnections(db.knex, fernetFor(config))).connections.get('a_http')).toBeUndefined();
  });

  it('POST /connections/test is disabled (403), as Airflow by default', async () => {
    const response = await call('POST', '/connections/test', { body: warehouse });
    expect(response.status).toBe(403);
    expect(response.json.detail).toMatch(/Testing connections is disabled/);
    expect((await call('POST', '/connections/test', { as: 'Viewer', body: {} })).status).toBe(403);
    expect((await call('POST', '/connections/test', { as: null, body: {} })).status).toBe(401);
  });

  it('audit events name the connection and fields, never the password or extra values', async () => {
    const rows = await db.knex('log').where('event', 'like', 'connection.%').orderBy('id').select('event', 'owner', 'extra');
    expect(rows.map((r) => r.event)).toEqual([
      ...['connection.create', 'connection.create', 'connection.create', 'connection.edit', 'connection.edit'],
      ...['connection.create', 'connection.edit', 'connection.create', 'connection.edit', 'connection.delete', 'connection.delete'], // arrays, deep
      ...['connection.create', 'connection.delete'],
    ]);
    expect(rows[0]).toMatchObject({ owner: 'op' });
    expect(JSON.parse(rows[4]!.extra)).toEqual({ connection_id: 'warehouse', fields: ['password', 'login'] });
    expect(JSON.stringify(rows)).not.toMatch(/hunter2|new-password-value|extra-api-key-value/);
  });

  it('no response in this suite contained a password or a secret from extra', () => {
    expect(texts.length).toBeGreaterThan(30);
    for (const text of texts) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('new-password-value');
      expect(text).not.toContain(KEY_IN_EXTRA);
    }
  });
});
