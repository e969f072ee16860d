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

describe('REST API: variables', () => {
  it("needs credentials; Viewer and User can neither read nor change (as Airflow's roles); Op creates and reads", async () => {
    expect((await api.call('GET', '/variables', { as: null })).status).toBe(401);
    expect((await api.call('POST', '/variables', { as: null, body: { key: 'k', value: 'v' } })).status).toBe(401);
    for (const role of ['Viewer', 'User'] as const) {
      const list = await api.call('GET', '/variables', { as: role });
      expect(list.status).toBe(403);
      expect(list.json.detail).toMatch(/needs Op or higher/);
    }
    expect((await api.call('GET', '/variables', { as: 'Op' })).status).toBe(200);
    for (const role of ['Viewer', 'User'] as const) {
      const denied = await api.call('POST', '/variables', { as: role, body: { key: 'k', value: 'v' } });
      expect(denied.status).toBe(403);
      expect(denied.json.detail).toMatch(/needs Op or higher/);
    }
    const created = await api.call('POST', '/variables', { as: 'Op', body: { key: 'bucket', value: 's3://data', description: 'where files land' } });
    expect(created.status).toBe(200);
    expect(created.json).toEqual({ key: 'bucket', value: 's3://data', description: 'where files land' });
    expect((await api.call('GET', '/variables/bucket', { as: 'Op' })).json).toEqual(created.json);
    for (const role of ['Viewer', 'User'] as const) {
      const one = await api.call('GET', '/variables/bucket', { as: role });
      expect(one.status).toBe(403);
      expect(one.text).not.toContain('s3://data');
      expect((await api.call('PATCH', '/variables/bucket', { as: role, body: { key: 'bucket', value: 'x' } })).status).toBe(403);
      expect((await api.call('DELETE', '/variables/bucket', { as: role })).status).toBe(403);
    }
  });

  it('a variable whose key holds a sensitive word (any case) shows *** in list, get and write responses; others show their value', async () => {
    const secret = 'sensitive-variable-value-3318';
    const keys = [
      'db_PASSWORD',
      'my_api_key',
      'Github_Token',
      'aws_secret_access',
      'gcp_keyfile_dict',
      'svc_service_account',
      'x_authorization',
      'ssh_private_key',
      'gpg_passphrase',
      'old_passwd',
      'apikey2',
      'oauth_access_token',
    ];
    for (const key of keys) {
      const created = await api.call('POST', '/variables', { as: 'Op', body: { key, value: secret } });
      expect(created.json).toEqual({ key, value: '***', description: null });
    }
    expect((await api.call('POST', '/variables', { as: 'Op', body: { key: 'plain_setting', value: 'visible-value' } })).json.value).toBe('visible-value');
    const patched = await api.call('PATCH', '/variables/db_PASSWORD', { as: 'Op', body: { key: 'db_PASSWORD', value: `${secret}-2` } });
    expect(patched.json.value).toBe('***');
    const list = await api.call('GET', '/variables?limit=100', { as: 'Op' });
    expect(list.text).not.toContain(secret);
    for (const key of keys) {
      expect(list.json.variables.find((v: { key: string }) => v.key === key).value).toBe('***');
      const one = await api.call('GET', `/variables/${key}`, { as: 'Admin' });
      expect(one.json.value).toBe('***');
    }
    expect(list.json.variables.find((v: { key: string }) => v.key === 'plain_setting').value).toBe('visible-value');
    // The task runner still reads the real value.
    expect((await loadVariablesAndConnections(db.knex, fernetFor(config))).variables.get('db_PASSWORD')).toBe(`${secret}-2`);
    for (const key of [...keys, 'plain_setting']) await api.call('DELETE', `/variables/${key}`);
  });

  it('409 for an existing key; 400 for bad bodies, never a 500', async () => {
    await api.call('POST', '/variables', { body: { key: 'dup', value: '1' } });
    const again = await api.call('POST', '/variables', { body: { key: 'dup', value: '2' } });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ status: 409, type: expect.stringMatching(/AlreadyExists$/), detail: expect.stringMatching(/'dup' already exists/) });
    expect((await api.call('GET', '/variables/dup')).json.value).toBe('1');
    const bad = [
      {},
      { key: 'a' },
      { key: 'a', value: 5 },
      { key: '', value: 'v' },
      { key: 'x'.repeat(251), value: 'v' },
      { key: 'a', value: 'v', extra_field: 1 },
      { key: 'nul\u0000key', value: 'v' },
      { key: 'a', value: 'nul\u0000value' },
      { key: 'a', value: 'v', description: 7 },
    ];
    for (const body of bad) expect((await api.call('POST', '/variables', { body })).status, JSON.stringify(body)).toBe(400);
    expect((await api.call('POST', '/variables', { rawBody: '{"key": ' })).status).toBe(400);
    expect((await api.call('POST', '/variables', { rawBody: '[1, 2]' })).status).toBe(400);
    expect((await api.call('GET', '/variables/%00')).status).toBe(400);
    expect((await api.call('GET', '/variables/a')).status).toBe(404);
  });

  it('addresses keys with slashes and spaces when URL-encoded', async () => {
    expect((await api.call('POST', '/variables', { body: { key: 'team/a b', value: 'v' } })).status).toBe(200);
    expect((await api.call('GET', `/variables/${encodeURIComponent('team/a b')}`)).json).toEqual({ key: 'team/a b', value: 'v', description: null });
    expect((await api.call('DELETE', `/variables/${encodeURIComponent('team/a b')}`)).status).toBe(204);
  });

  it('lists with values, total_entries, limit/offset and order_by', async () => {
    await db.knex('variable').delete();
    for (const key of ['c', 'a', 'b']) await api.call('POST', '/variables', { body: { key, value: `value of ${key}` } });
    const all = await api.call('GET', '/variables');
    expect(all.json.total_entries).toBe(3);
    expect(all.json.variables.map((v: { key: string }) => v.key)).toEqual(['c', 'a', 'b']); // by id: creation order
    expect(all.json.variables[0]).toEqual({ key: 'c', value: 'value of c', description: null });
    const page = await api.call('GET', '/variables?order_by=-key&limit=1&offset=1');
    expect(page.json).toEqual({ variables: [{ key: 'b', value: 'value of b', description: null }], total_entries: 3 });
    expect((await api.call('GET', '/variables?order_by=key')).json.variables.map((v: { key: string }) => v.key)).toEqual(['a', 'b', 'c']);
    expect((await api.call('GET', '/variables?order_by=is_encrypted')).status).toBe(400);
    expect((await api.call('GET', '/variables?limit=0')).status).toBe(400);
    expect((await api.call('GET', '/variables?offset=-1')).status).toBe(400);
    expect((await api.call('GET', '/variables?offset=10')).json).toEqual({ variables: [], total_entries: 3 });
  });

  it('PATCH updates value and description, or only the update_mask fields', async () => {
    await api.call('POST', '/variables', { body: { key: 'p', value: 'one', description: 'first' } });
    const full = await api.call('PATCH', '/variables/p', { as: 'Op', body: { key: 'p', value: 'two' } });
    expect(full.json).toEqual({ key: 'p', value: 'two', description: 'first' });
    const masked = await api.call('PATCH', '/variables/p?update_mask=description', { body: { key: 'p', value: 'ignored', description: 'second' } });
    expect(masked.json).toEqual({ key: 'p', value: 'two', description: 'second' });
    expect((await api.call('PATCH', '/variables/p?update_mask=value,description', { body: { key: 'p', value: 'three', description: null } })).json).toEqual({
      key: 'p',
      value: 'three',
      description: null,
    });

    const mismatch = await api.call('PATCH', '/variables/p', { body: { key: 'q', value: 'x' } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json.detail).toMatch(/does not match/);
    expect((await api.call('PATCH', '/variables/p?update_mask=key', { body: { key: 'p', value: 'x' } })).status).toBe(400);
    expect((await api.call('PATCH', '/variables/p?update_mask=val', { body: { key: 'p', value: 'x' } })).status).toBe(400);
    expect((await api.call('PATCH', '/variables/p?update_mask=description', { body: { key: 'p', value: 'x' } })).status).toBe(400);
    expect((await api.call('PATCH', '/variables/p', { body: { key: 'p' } })).status).toBe(400);
    expect((await api.call('PATCH', '/variables/p', { body: { value: 'x' } })).status).toBe(400);
    expect((await api.call('PATCH', '/variables/nope', { body: { key: 'nope', value: 'x' } })).status).toBe(404);
    expect((await api.call('GET', '/variables/p')).json.value).toBe('three');
  });

  it("DELETE removes a variable; the task runner's read path sees the changes", async () => {
    await api.call('POST', '/variables', { body: { key: 'gone_soon', value: 'v' } });
    await api.call('POST', '/variables', { body: { key: 'stays', value: 'kept' } });
    expect((await loadVariablesAndConnections(db.knex, fernetFor(config))).variables.get('gone_soon')).toBe('v');
    const deleted = await api.call('DELETE', '/variables/gone_soon', { as: 'Op' });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await api.call('DELETE', '/variables/gone_soon')).status).toBe(404);
    expect((await api.call('GET', '/variables/gone_soon')).status).toBe(404);
    const { variables } = await loadVariablesAndConnections(db.knex, fernetFor(config));
    expect(variables.get('gone_soon')).toBeUndefined();
    expect(variables.get('stays')).toBe('kept');
  });

  it('writes an audit event per change with the user, naming fields but not values', async () => {
    await db.knex('log').delete();
    await api.call('POST', '/variables', { as: 'Op', body: { key: 'audited', value: 'top-secret-value' } });
    await api.call('PATCH', '/variables/audited', { as: 'Admin', body: { key: 'audited', value: 'other-secret' } });
    await api.call('POST', '/variables', { as: 'Op', body: { key: 'audited', value: 'conflict' } }); // 409: nothing happened, nothing logged
    await api.call('PATCH', '/variables/missing', { body: { key: 'missing', value: 'x' } }); // 404: likewise
    await api.call('DELETE', '/variables/audited', { as: 'Op' });
    const rows = await db.knex('log').orderBy('id').select('event', 'owner', 'dag_id', 'extra', 'dttm');
    expect(rows.map((r) => [r.event, r.owner])).toEqual([
      ['variable.create', 'op'],
      ['variable.edit', 'admin'],
      ['variable.delete', 'op'],
    ]);
    expect(rows.every((r) => r.dag_id === null && r.dttm instanceof Date)).toBe(true);
    expect(JSON.parse(rows[1]!.extra)).toEqual({ key: 'audited', fields: ['val'] });
    expect(JSON.stringify(rows)).not.toMatch(/secret/);
  });
});
