import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/resolveConfig.ts';
import { Fernet, generateFernetKey } from '../../core/crypto/fernet.ts';
import { InvalidFernetToken } from '../../core/errors.ts';
import { memoryLogger } from '../../core/logger.ts';
import { startWebserver } from '../../webserver/startWebserver.ts';
import { startTestApi } from '../helpers/api.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const { knex } = db;
const FIRST_KEY = generateFernetKey();
const config = await testConfig(tempDagsFolder(), db.url, { AIRFLOW__CORE__FERNET_KEY: FIRST_KEY });
const api = await startTestApi(knex, config);
const cwd = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-cwd-'));
const cliEnv = (home: string, extra: Record<string, string> = {}) => ({
  AIRFLOW_HOME: home,
  AIRFLOW__DATABASE__URL: db.url,
  AIRFLOW__CORE__DAGS_FOLDER: tempDagsFolder(),
  ...extra,
});

const VARIABLE_VALUE = 'variable-value-in-clear-7731';
const PASSWORD = 'connection-password-5519';
const EXTRA_TOKEN = 'extra-token-value-2291';

const decrypts = (key: string, token: string) => {
  try {
    return new Fernet(key).decrypt(token);
  } catch (error) {
    if (error instanceof InvalidFernetToken) return null;
    throw error;
  }
};

describe('secrets at rest (Fernet)', () => {
  it('stores variable values, connection passwords and extras as Fernet tokens with is_encrypted / is_extra_encrypted set', async () => {
    expect((await api.call('POST', '/variables', { body: { key: 'plain_name', value: VARIABLE_VALUE } })).status).toBe(200);
    const created = await api.call('POST', '/connections', {
      body: {
        connection_id: 'warehouse',
        conn_type: 'postgres',
        host: 'db.example',
        password: PASSWORD,
        extra: JSON.stringify({ token: EXTRA_TOKEN, region: 'eu' }),
      },
    });
    expect(created.status).toBe(200);

    const variable = await knex('variable').where('key', 'plain_name').first();
    const connection = await knex('connection').where('conn_id', 'warehouse').first();
    // No plaintext anywhere in the rows, whatever column.
    expect(JSON.stringify([variable, connection])).not.toMatch(new RegExp(`${VARIABLE_VALUE}|${PASSWORD}|${EXTRA_TOKEN}`));
    expect(variable).toMatchObject({ is_encrypted: true, val: expect.stringMatching(/^gAAAAA/) });
    expect(connection).toMatchObject({ is_encrypted: true, is_extra_encrypted: true, host: 'db.example' });
    // Real Fernet tokens under the configured key: any Fernet implementation with the key reads them.
    expect(decrypts(FIRST_KEY, variable.val)).toBe(VARIABLE_VALUE);
    expect(decrypts(FIRST_KEY, connection.password)).toBe(PASSWORD);
    expect(JSON.parse(decrypts(FIRST_KEY, connection.extra)!)).toEqual({ token: EXTRA_TOKEN, region: 'eu' });
    // And the API reads them back in clear where it shows them.
    expect((await api.call('GET', '/variables/plain_name')).json.value).toBe(VARIABLE_VALUE);
  });

  it('reads plaintext rows from before encryption; rotate-fernet-key encrypts them and moves every row to the first key', async () => {
    await knex('variable').insert({ key: 'legacy_var', val: 'legacy-value-8812', is_encrypted: false });
    await knex('connection').insert({ conn_id: 'legacy_conn', conn_type: 'http', password: 'legacy-password-4410', extra: '{"region":"us"}' });
    expect((await api.call('GET', '/variables/legacy_var')).json.value).toBe('legacy-value-8812');
    expect((await api.call('GET', '/connections/legacy_conn')).json.extra).toBe('{"region":"us"}');

    const newKey = generateFernetKey();
    const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
    const rotated = await runCli(['rotate-fernet-key'], { env: cliEnv(home, { AIRFLOW__CORE__FERNET_KEY: `${newKey},${FIRST_KEY}` }), cwd });
    expect(rotated.stderr).toBe('');
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain('Re-encrypted 2 variable(s) and 2 connection(s)');

    const variables = await knex('variable').orderBy('key');
    const connections = await knex('connection').orderBy('conn_id');
    expect(JSON.stringify([variables, connections])).not.toMatch(/legacy-value-8812|legacy-password-4410|"region"/);
    for (const row of variables) {
      expect(row.is_encrypted).toBe(true);
      expect(decrypts(newKey, row.val)).not.toBeNull();
      expect(decrypts(FIRST_KEY, row.val)).toBeNull();
    }
    for (const row of connections) {
      expect(row).toMatchObject({ is_encrypted: true, is_extra_encrypted: true });
      expect(decrypts(newKey, row.password)).not.toBeNull();
    }
    expect(decrypts(newKey, variables.find((v) => v.key === 'legacy_var').val)).toBe('legacy-value-8812');
    expect(decrypts(newKey, connections.find((c) => c.conn_id === 'legacy_conn').extra)).toBe('{"region":"us"}');
  });

  it('a webserver whose key cannot decrypt answers a clear 500 naming core.fernet_key and keeps serving; a malformed key is never echoed', async () => {
    await knex('variable')
      .where('key', 'plain_name')
      .update({ val: new Fernet(generateFernetKey()).encrypt('x'), is_encrypted: true }); // under a key nobody has
    const wrong = await api.call('GET', '/variables/plain_name');
    expect(wrong.status).toBe(500);
    expect(wrong.json.detail).toMatch(/Cannot decrypt variable 'plain_name'.*core\.fernet_key \(AIRFLOW__CORE__FERNET_KEY\)/);
    expect((await api.call('GET', '/pools')).status).toBe(200);
    // The connection list shows nothing secret, so it never decrypts: it works; the one connection does not.
    await knex('connection')
      .where('conn_id', 'warehouse')
      .update({ password: new Fernet(generateFernetKey()).encrypt('x'), is_encrypted: true });
    expect((await api.call('GET', '/connections')).status).toBe(200);
    const one = await api.call('GET', '/connections/warehouse');
    expect(one.status).toBe(500);
    expect(one.json.detail).toMatch(/Cannot decrypt the password of connection 'warehouse'.*core\.fernet_key/);

    const badConfig = await testConfig(tempDagsFolder(), db.url, { AIRFLOW__CORE__FERNET_KEY: 'CHANGE_ME_TO_A_KEY' });
    const server = await startWebserver({ knex, config: badConfig, logger: memoryLogger(), port: 0, host: '127.0.0.1' });
    try {
      const auth = { authorization: `Basic ${Buffer.from('admin:correct horse battery').toString('base64')}` };
      const response = await fetch(`${server.url}/api/v1/variables`, { headers: auth });
      const body = await response.text();
      expect(response.status).toBe(500);
      expect(body).toMatch(/core\.fernet_key.*is not a Fernet key/);
      expect(body).not.toContain('CHANGE_ME_TO_A_KEY');
      expect((await fetch(`${server.url}/api/v1/pools`, { headers: auth })).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('config list and get-value never print the Fernet key', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
    const env = cliEnv(home, { AIRFLOW__CORE__FERNET_KEY: FIRST_KEY });
    const list = await runCli(['config', 'list', '-o', 'json'], { env, cwd });
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(FIRST_KEY);
    expect(JSON.parse(list.stdout)).toContainEqual({ section: 'core', key: 'fernet_key', value: '***' });
    const plain = await runCli(['config', 'list', '--section', 'core'], { env, cwd });
    expect(plain.stdout).toContain('fernet_key = ***');
    const value = await runCli(['config', 'get-value', 'core', 'fernet_key'], { env, cwd });
    expect(value.code).toBe(1);
    expect(`${value.stdout}${value.stderr}`).not.toContain(FIRST_KEY);
    expect(value.stderr).toContain('core.fernet_key is a secret');
  });

  it('get-value never prints the session secret key or the database password either', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
    const env = cliEnv(home, { AIRFLOW__WEBSERVER__SECRET_KEY: 'session-key-do-not-print' });
    const key = await runCli(['config', 'get-value', 'webserver', 'secret_key'], { env, cwd });
    expect(key.code).toBe(1);
    expect(`${key.stdout}${key.stderr}`).not.toContain('session-key-do-not-print');
    expect(key.stderr).toContain('webserver.secret_key is a secret');
    const url = await runCli(['config', 'get-value', 'database', 'url'], { env, cwd });
    expect(url.code).toBe(0);
    const password = new URL(env.AIRFLOW__DATABASE__URL).password;
    expect(password).not.toBe('');
    expect(url.stdout).not.toContain(password);
  });
});

describe('secrets at rest without core.fernet_key', () => {
  it('generates one key into $AIRFLOW_HOME/fernet.key (mode 0600) that every process of the home shares', async () => {
    const other = await createTestDatabase();
    const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
    const env = { AIRFLOW_HOME: home, AIRFLOW__DATABASE__URL: other.url, AIRFLOW__CORE__DAGS_FOLDER: tempDagsFolder() };
    // Three processes racing to create it: one key, none fails.
    const runs = await Promise.all([1, 2, 3].map(() => runCli(['rotate-fernet-key'], { env, cwd })));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const file = path.join(home, 'fernet.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readFileSync(file, 'utf8').trim();
    expect(() => new Fernet(key)).not.toThrow();

    // A webserver of the same home encrypts with it; a CLI process of the home decrypts what it wrote.
    const homeConfig = await resolveConfig({ cwd: home, env });
    const server = await startWebserver({ knex: other.knex, config: homeConfig, logger: memoryLogger(), port: 0, host: '127.0.0.1' });
    try {
      await other
        .knex('users')
        .insert({ username: 'admin', role: 'Admin', password_hash: (await knex('users').where('username', 'admin').first()).password_hash });
      const auth = { authorization: `Basic ${Buffer.from('admin:correct horse battery').toString('base64')}`, 'content-type': 'application/json' };
      const created = await fetch(`${server.url}/api/v1/variables`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ key: 'k', value: 'value-under-generated-key' }),
      });
      expect(created.status).toBe(200);
    } finally {
      await server.stop();
    }
    const stored = await other.knex('variable').where('key', 'k').first();
    expect(decrypts(key, stored.val)).toBe('value-under-generated-key');
    const rotated = await runCli(['rotate-fernet-key'], { env, cwd });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(decrypts(key, (await other.knex('variable').where('key', 'k').first()).val)).toBe('value-under-generated-key');
  });
});
