import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { createUser, type Role } from '../../db/models/user.ts';
import { SECRET_KEY_FILE } from '../../webserver/secretKey.ts';
import { startWebserver } from '../../webserver/startWebserver.ts';
import { PASSWORD, startTestApi } from '../helpers/api.ts';
import { launchBrowser, logIn } from '../helpers/browser.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const { knex } = db;
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(knex, { dagId: 'session_dag' }, { a: {} });
const server = await startTestApi(knex, config);
const browser = await launchBrowser();
const cliEnv = { AIRFLOW_HOME: config.airflowHome, AIRFLOW__DATABASE__URL: db.url, AIRFLOW__CORE__DAGS_FOLDER: config.core.dagsFolder };

/** Logs a new user in through the browser and keeps what an attacker who copied the cookie would have: the cookie and the page's CSRF token. */
async function savedSession(username: string, role: Role, baseUrl = server.url) {
  await createUser(knex, { username, password: PASSWORD, role });
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page, baseUrl, username, PASSWORD);
  const cookies = await context.cookies(baseUrl);
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
  return { page, cookie, csrf, cookies };
}

async function home(cookie: string, baseUrl = server.url) {
  const response = await fetch(`${baseUrl}/`, { headers: { cookie }, redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), html: await response.text() };
}

async function createVariable(session: { cookie: string; csrf: string }, key: string) {
  const response = await fetch(`${server.url}/admin/variables`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: session.csrf, key, value: 'v' }),
  });
  return { status: response.status, created: Boolean(await knex('variable').where('key', key).first('id')) };
}

async function logOut(page: Page) {
  await Promise.all([page.waitForURL((url) => url.pathname === '/login'), page.click('form.logout button[type=submit]')]);
}

describe('web UI sessions are server-side and revocable', () => {
  it('a saved session cookie stops working after logout', async () => {
    const session = await savedSession('lou', 'Op');
    expect(await createVariable(session, 'before_logout')).toEqual({ status: 303, created: true });
    await logOut(session.page);
    expect(await home(session.cookie)).toMatchObject({ status: 302, location: '/login?next=%2F' });
    expect(await createVariable(session, 'after_logout')).toEqual({ status: 401, created: false });
  });

  it('a saved session cookie stops working after `airflow users delete`', async () => {
    const session = await savedSession('dee', 'Op');
    expect((await home(session.cookie)).status).toBe(200);
    const deleted = await runCli(['users', 'delete', '-u', 'dee'], { env: cliEnv });
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(await home(session.cookie)).toMatchObject({ status: 302, location: '/login?next=%2F' });
    expect(await createVariable(session, 'by_deleted_user')).toEqual({ status: 401, created: false });
  });

  it('a role change ends the session (`airflow users add-role`), and the next login gets the new role from the database', async () => {
    const session = await savedSession('rory', 'Op');
    const changed = await runCli(['users', 'add-role', '-u', 'rory', '-r', 'Viewer'], { env: cliEnv });
    expect(changed.code, changed.stderr).toBe(0);
    expect(await createVariable(session, 'by_demoted_op')).toEqual({ status: 401, created: false });
    await logIn(session.page, server.url, 'rory', PASSWORD);
    const again = {
      cookie: (await session.page.context().cookies(server.url)).map((c) => `${c.name}=${c.value}`).join('; '),
      csrf: (await session.page.locator('meta[name=csrf-token]').getAttribute('content'))!,
    };
    expect(await createVariable(again, 'by_viewer')).toEqual({ status: 403, created: false });
  });

  it('a role changed by any other path (here plain SQL) also ends the session at its next request', async () => {
    const session = await savedSession('sam', 'Admin');
    expect((await home(session.cookie)).status).toBe(200);
    await knex('users').where('username', 'sam').update({ role: 'Viewer' });
    expect(await createVariable(session, 'by_sql_demoted')).toEqual({ status: 401, created: false });
  });

  it('the cookie holds only a random id; the table keeps its SHA-256, never the id', async () => {
    const session = await savedSession('hash_check', 'Viewer');
    const value = decodeURIComponent(session.cookies.find((c) => c.name === 'airflow_ts_session')!.value);
    const id = /^s:([A-Za-z0-9_-]{43})\.[A-Za-z0-9+/]+$/.exec(value)?.[1];
    expect(id, value).toBeDefined();
    const rows = await knex('session').join('users', 'users.id', 'session.user_id').where('users.username', 'hash_check').select('id_hash');
    expect(rows).toEqual([{ id_hash: createHash('sha256').update(id!).digest('hex') }]);
    expect(JSON.stringify(await knex('session').select())).not.toContain(id);
  });

  it('a session survives a webserver restart: the secret key is generated once into $AIRFLOW_HOME with mode 0600', async () => {
    const restartConfig = await testConfig(config.core.dagsFolder, db.url);
    const first = await startWebserver({ knex, config: restartConfig, logger: memoryLogger(), port: 0, host: '127.0.0.1' });
    const session = await savedSession('restart_me', 'Viewer', first.url);
    await first.stop();
    const second = await startWebserver({ knex, config: restartConfig, logger: memoryLogger(), port: 0, host: '127.0.0.1' });
    afterAll(() => second.stop());
    const page = await home(session.cookie, second.url);
    expect(page.status).toBe(200);
    expect(page.html).toContain('session_dag');
    expect(page.html).toContain('restart_me');
    expect(statSync(path.join(restartConfig.airflowHome, SECRET_KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  it('webserver processes starting at once in one $AIRFLOW_HOME agree on one generated key', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
    const module = fileURLToPath(new URL('../../webserver/secretKey.ts', import.meta.url));
    const script = `const { webserverSecretKey } = await import(${JSON.stringify(module)}); process.stdout.write(webserverSecretKey({ airflowHome: process.argv[1], webserver: { secretKey: '' } }));`;
    const keys = await Promise.all(
      Array.from({ length: 4 }, () =>
        promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, home], { timeout: 30_000 }),
      ),
    );
    expect(new Set(keys.map((k) => k.stdout)).size).toBe(1);
    expect(keys[0]!.stdout.length).toBeGreaterThanOrEqual(43);
    expect(readdirSync(home)).toEqual([SECRET_KEY_FILE]); // no temporary file left behind
  });

  it('webserver.secretKey from the config wins: no key file is written', async () => {
    const configured = await testConfig(config.core.dagsFolder, db.url, { AIRFLOW__WEBSERVER__SECRET_KEY: 'k'.repeat(40) });
    const started = await startWebserver({ knex, config: configured, logger: memoryLogger(), port: 0, host: '127.0.0.1' });
    afterAll(() => started.stop());
    expect((await fetch(`${started.url}/login`)).status).toBe(200);
    expect(existsSync(path.join(configured.airflowHome, SECRET_KEY_FILE))).toBe(false);
  });

  it('sessions end 12 hours after login, enforced by the server (clock injected)', async () => {
    let now = new Date('2026-01-01T08:00:00Z');
    const clocked = await startWebserver({ knex, config, logger: memoryLogger(), port: 0, host: '127.0.0.1', now: () => now });
    afterAll(() => clocked.stop());
    const session = await savedSession('twelve_hours', 'Viewer', clocked.url);
    now = new Date('2026-01-01T19:59:00Z');
    expect((await home(session.cookie, clocked.url)).status).toBe(200);
    now = new Date('2026-01-01T20:00:01Z');
    expect(await home(session.cookie, clocked.url)).toMatchObject({ status: 302, location: '/login?next=%2F' });
  });
});
