import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { fernetFor } from '../../core/crypto/fernetKey.ts';
import { getConnection } from '../../db/models/connection.ts';
import { getVariable } from '../../db/models/variable.ts';
import { PASSWORD, startTestApi } from '../helpers/api.ts';
import { launchBrowser, logIn, screenshot } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const { knex } = db;
const config = await testConfig(tempDagsFolder(), db.url);
const server = await startTestApi(knex, config);
const api = server;
const browser = await launchBrowser();

const SECRET_PASSWORD = 'hunter2-very-secret-pw';
const SECRET_TOKEN = 'tok-secret-123456';

async function loggedIn(username: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page, server.url, username, PASSWORD);
  return { context, page };
}

async function formPost(context: BrowserContext, path: string, fields: Record<string, string>) {
  const cookie = (await context.cookies(server.url)).map((c) => `${c.name}=${c.value}`).join('; ');
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  return { status: response.status, location: response.headers.get('location'), html: await response.text() };
}
const variable = (key: string) => getVariable(knex, fernetFor(config), key);
const connection = (connId: string) => getConnection(knex, fernetFor(config), connId);
const csrfOf = async (page: Page) => (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
const SAVE = 'form.admin-form button[type=submit]';

describe('web UI: admin pages', () => {
  it("creates, edits and deletes a variable (delete after a confirmation page), through the API's rules and audit log", async () => {
    const { context, page } = await loggedIn('op');
    await page.goto(`${server.url}/admin/variables`);
    await expect(page.locator('.list-empty').textContent()).resolves.toContain('No variables yet');

    await Promise.all([page.waitForURL(/\/admin\/variables\/new$/), page.click('text=+ Add variable')]);
    await page.fill('input[name=key]', 'api_base');
    await page.fill('textarea[name=value]', 'https://example.test/v1');
    await page.fill('textarea[name=description]', 'Where the API lives');
    await Promise.all([page.waitForURL(/\/admin\/variables\?done=created/), page.click(SAVE)]);
    await expect(page.getByRole('status').textContent()).resolves.toBe('Variable api_base created.');
    await expect(page.locator('tbody tr').first().textContent()).resolves.toMatch(/api_base\s+https:\/\/example\.test\/v1\s+Where the API lives/);
    expect(await variable('api_base')).toMatchObject({ val: 'https://example.test/v1', description: 'Where the API lives' });
    // Stored encrypted: the table holds a Fernet token, never the value.
    const raw = await knex('variable').where('key', 'api_base').first('val', 'is_encrypted');
    expect(raw).toEqual({ val: expect.stringMatching(/^gAAAAA/), is_encrypted: true });
    expect(await knex('log').where('event', 'variable.create').pluck('owner')).toEqual(['op']);

    // The same key again: the form comes back with the API's 409 and what was typed.
    await page.goto(`${server.url}/admin/variables/new`);
    await page.fill('input[name=key]', 'api_base');
    await page.fill('textarea[name=value]', 'other');
    const [conflict] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click(SAVE)]);
    expect(conflict.status()).toBe(409);
    await expect(page.getByRole('alert').textContent()).resolves.toContain("Variable 'api_base' already exists");
    await expect(page.inputValue('textarea[name=value]')).resolves.toBe('other');

    // Edit: the key is fixed, the value changes.
    await page.goto(`${server.url}/admin/variables`);
    await Promise.all([page.waitForURL(/\/admin\/variables\/api_base\/edit$/), page.click('tbody tr >> text=Edit')]);
    await expect(page.locator('input[name=key]').getAttribute('readonly')).resolves.not.toBeNull();
    await page.fill('textarea[name=value]', 'https://example.test/v2');
    await Promise.all([page.waitForURL(/done=updated/), page.click(SAVE)]);
    expect((await variable('api_base'))?.val).toBe('https://example.test/v2');

    // Delete: a confirmation page first, then the POST.
    await Promise.all([page.waitForURL(/\/admin\/variables\/api_base\/delete$/), page.click('tbody tr >> text=Delete')]);
    await expect(page.locator('h1').textContent()).resolves.toBe('Delete variable api_base?');
    expect(await knex('variable').where('key', 'api_base').first()).toBeTruthy();
    await Promise.all([page.waitForURL(/done=deleted/), page.click('form.admin-confirm button[type=submit]')]);
    expect(await knex('variable').where('key', 'api_base').first()).toBeUndefined();
    expect(await knex('log').where('event', 'like', 'variable.%').orderBy('id').pluck('event')).toEqual([
      'variable.create',
      'variable.edit',
      'variable.delete',
    ]);

    // Keys with slashes and spaces survive the URLs; an empty key is the API's 400.
    const _csrf = await csrfOf(page);
    expect((await formPost(context, '/admin/variables', { _csrf, key: 'team/a b', value: '1' })).status).toBe(303);
    const edit = await page.goto(`${server.url}/admin/variables/${encodeURIComponent('team/a b')}/edit`);
    expect(edit?.status()).toBe(200);
    expect((await formPost(context, `/admin/variables/${encodeURIComponent('team/a b')}`, { _csrf, value: '2' })).status).toBe(303);
    expect((await variable('team/a b'))?.val).toBe('2');
    expect((await formPost(context, `/admin/variables/${encodeURIComponent('team/a b')}/delete`, { _csrf })).status).toBe(303);
    expect(await knex('variable').where('key', 'team/a b').first()).toBeUndefined();
    const empty = await formPost(context, '/admin/variables', { _csrf, key: '', value: 'x' });
    expect(empty.status).toBe(400);
    expect(empty.html).toContain('key must not be empty');
    expect((await formPost(context, '/admin/variables/nope/delete', { _csrf })).status).toBe(404);
    // Without the CSRF token nothing happens.
    expect((await formPost(context, '/admin/variables', { key: 'forged', value: 'x' })).status).toBe(403);
    expect(await knex('variable').where('key', 'forged').first()).toBeUndefined();
    await context.close();
  });

  it("creates and edits a connection without ever showing its password (empty field keeps it) or extra's secrets", async () => {
    const { context, page } = await loggedIn('op');
    await page.goto(`${server.url}/admin/connections/new`);
    await page.fill('input[name=connection_id]', 'warehouse_db');
    await page.fill('input[name=conn_type]', 'postgres');
    await page.fill('input[name=host]', 'db.example.test');
    await page.fill('input[name=port]', '5432');
    await page.fill('input[name=login]', 'loader');
    await page.fill('input[name=password]', SECRET_PASSWORD);
    await page.fill('textarea[name=extra]', JSON.stringify({ token: SECRET_TOKEN, region: 'eu' }));
    await Promise.all([page.waitForURL(/done=created/), page.click(SAVE)]);
    const stored = (await connection('warehouse_db'))!;
    expect(JSON.stringify(await knex('connection').where('conn_id', 'warehouse_db').first())).not.toMatch(new RegExp(`${SECRET_PASSWORD}|${SECRET_TOKEN}`));
    expect(stored).toMatchObject({ conn_type: 'postgres', host: 'db.example.test', port: 5432, login: 'loader', password: SECRET_PASSWORD });
    expect(JSON.parse(stored.extra!)).toEqual({ token: SECRET_TOKEN, region: 'eu' });

    const listHtml = await page.content();
    expect(listHtml).toContain('db.example.test');
    expect(listHtml).not.toContain(SECRET_PASSWORD);
    expect(listHtml).not.toContain(SECRET_TOKEN);

    await Promise.all([page.waitForURL(/warehouse_db\/edit$/), page.click('tbody tr >> text=Edit')]);
    const formHtml = await page.content();
    expect(formHtml).not.toContain(SECRET_PASSWORD);
    expect(formHtml).not.toContain(SECRET_TOKEN);
    await expect(page.inputValue('input[name=password]')).resolves.toBe('');
    expect(JSON.parse(await page.inputValue('textarea[name=extra]'))).toEqual({ token: '***', region: 'eu' });
    await screenshot(page, 'admin-connection-edit');

    // Save with the password left empty and extra's *** as it is: both secrets stay.
    await page.fill('input[name=host]', 'db2.example.test');
    await Promise.all([page.waitForURL(/done=updated/), page.click(SAVE)]);
    const edited = (await connection('warehouse_db'))!;
    expect(edited).toMatchObject({ host: 'db2.example.test', password: SECRET_PASSWORD, port: 5432 });
    expect(JSON.parse(edited.extra!)).toEqual({ token: SECRET_TOKEN, region: 'eu' });

    // A bad port comes back with the API's message, and the password typed is not echoed.
    await page.goto(`${server.url}/admin/connections/warehouse_db/edit`);
    await page.fill('input[name=port]', '70000');
    await page.fill('input[name=password]', 'typed-but-rejected');
    const [bad] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click(SAVE)]);
    expect(bad.status()).toBe(400);
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/^port: /);
    expect(await page.content()).not.toContain('typed-but-rejected');
    await expect(page.inputValue('input[name=port]')).resolves.toBe('70000');
    expect((await connection('warehouse_db'))?.password).toBe(SECRET_PASSWORD);

    // A new password replaces it; "remove" clears it.
    const _csrf = await csrfOf(page);
    const fields = { _csrf, conn_type: 'postgres', host: 'db2.example.test', port: '5432' };
    expect((await formPost(context, '/admin/connections/warehouse_db', { ...fields, password: 'new-pw' })).status).toBe(303);
    expect((await connection('warehouse_db'))?.password).toBe('new-pw');
    expect((await formPost(context, '/admin/connections/warehouse_db', { ...fields, clear_password: 'on' })).status).toBe(303);
    expect((await connection('warehouse_db'))?.password).toBeNull();
    const badId = await formPost(context, '/admin/connections', { _csrf, connection_id: 'has space', conn_type: 'http' });
    expect(badId.status).toBe(400);
    expect(badId.html).toContain('connection_id may contain only');
    // extra must be a JSON object, on create and on edit.
    const badExtra = await formPost(context, '/admin/connections', { _csrf, connection_id: 'bad_extra', conn_type: 'http', extra: '{"timeout": 30' });
    expect(badExtra.status).toBe(400);
    expect(badExtra.html).toContain('extra: must be a JSON object');
    expect(await knex('connection').where('conn_id', 'bad_extra').first()).toBeUndefined();
    const extraBefore = (await connection('warehouse_db'))!.extra;
    const badEdit = await formPost(context, '/admin/connections/warehouse_db', { ...fields, extra: 'region=eu' });
    expect(badEdit.status).toBe(400);
    expect((await connection('warehouse_db'))!.extra).toEqual(extraBefore);

    // Delete through the confirmation page.
    await page.goto(`${server.url}/admin/connections`);
    await Promise.all([page.waitForURL(/warehouse_db\/delete$/), page.click('tbody tr >> text=Delete')]);
    await Promise.all([page.waitForURL(/done=deleted/), page.click('form.admin-confirm button[type=submit]')]);
    expect(await knex('connection').where('conn_id', 'warehouse_db').first()).toBeUndefined();
    await context.close();
  });

  it('manages pools; default_pool can be resized but not renamed or deleted', async () => {
    const { context, page } = await loggedIn('admin');
    await page.goto(`${server.url}/admin/pools`);
    const defaultRow = page.locator('tbody tr', { hasText: 'default_pool' });
    await expect(defaultRow.locator('td').nth(1).textContent()).resolves.toBe('128');
    await expect(defaultRow.locator('.admin-delete').count()).resolves.toBe(0);

    await page.goto(`${server.url}/admin/pools/new`);
    await page.fill('input[name=name]', 'etl_pool');
    await page.fill('input[name=slots]', '4');
    await page.check('input[name=include_deferred]');
    await Promise.all([page.waitForURL(/done=created/), page.click(SAVE)]);
    expect(await knex('slot_pool').where('pool', 'etl_pool').first('slots', 'include_deferred')).toEqual({ slots: 4, include_deferred: true });
    await page.goto(`${server.url}/admin/pools/etl_pool/edit`);
    await page.fill('input[name=slots]', '8');
    await Promise.all([page.waitForURL(/done=updated/), page.click(SAVE)]);
    expect((await knex('slot_pool').where('pool', 'etl_pool').first('slots')).slots).toBe(8);

    const _csrf = await csrfOf(page);
    const negative = await formPost(context, '/admin/pools', { _csrf, name: 'neg', slots: '-1' });
    expect(negative.status).toBe(400);
    expect(negative.html).toContain('slots must be 0 or more');
    const rename = await formPost(context, '/admin/pools/default_pool', { _csrf, name: 'renamed', slots: '128' });
    expect(rename.status).toBe(400);
    expect(rename.html).toContain('default_pool cannot be renamed');
    const remove = await formPost(context, '/admin/pools/default_pool/delete', { _csrf });
    expect(remove.status).toBe(400);
    expect(await knex('slot_pool').where('pool', 'default_pool').first()).toBeTruthy();
    expect((await formPost(context, '/admin/pools/etl_pool/delete', { _csrf })).status).toBe(303);
    expect(await knex('slot_pool').where('pool', 'etl_pool').first()).toBeUndefined();
    await context.close();
  });

  it('shows a variable with a sensitive key as *** in the list, form and delete page; saving *** keeps the stored secret', async () => {
    const secret = 'ui-secret-variable-value-6620';
    expect((await api.call('POST', '/variables', { body: { key: 'smtp_password', value: secret } })).status).toBe(200);
    const { context, page } = await loggedIn('op');
    for (const path of ['/admin/variables', '/admin/variables/smtp_password/edit', '/admin/variables/smtp_password/delete']) {
      await page.goto(`${server.url}${path}`);
      const html = await page.content();
      expect(html, path).not.toContain(secret);
      expect(html, path).toContain('***');
    }
    await page.goto(`${server.url}/admin/variables/smtp_password/edit`);
    await expect(page.inputValue('textarea[name=value]')).resolves.toBe('***');
    await page.fill('textarea[name=description]', 'mail relay');
    await Promise.all([page.waitForURL(/done=updated/), page.click(SAVE)]);
    expect(await variable('smtp_password')).toMatchObject({ val: secret, description: 'mail relay' });
    await page.goto(`${server.url}/admin/variables/smtp_password/edit`);
    await page.fill('textarea[name=value]', 'a-new-secret-value');
    await Promise.all([page.waitForURL(/done=updated/), page.click(SAVE)]);
    expect((await variable('smtp_password'))?.val).toBe('a-new-secret-value');
    await context.close();
  });

  it("hides variables and connections from Viewer and User (403, as Airflow's roles); pools are read-only for them", async () => {
    await knex('variable').insert({ key: 'shared_var', val: 'v' });
    await knex('connection').insert({ conn_id: 'shared_conn', conn_type: 'http', host: 'shared-host.example', password: SECRET_PASSWORD });
    for (const username of ['viewer', 'user']) {
      const { context, page } = await loggedIn(username);
      for (const section of ['variables', 'connections']) {
        for (const path of [
          '',
          '/new',
          section === 'variables' ? '/shared_var/edit' : '/shared_conn/edit',
          section === 'variables' ? '/shared_var/delete' : '/shared_conn/delete',
        ]) {
          const response = await page.goto(`${server.url}/admin/${section}${path}`);
          expect(response?.status(), `${section}${path}`).toBe(403);
          const html = await page.content();
          expect(html).not.toContain('shared_var');
          expect(html).not.toContain('shared-host.example');
        }
      }
      // The Admin link leads to the pools, the only section the role may see.
      await page.goto(server.url);
      await Promise.all([page.waitForURL(/\/admin\/pools$/), page.click('header.topbar >> text=Admin')]);
      await expect(page.locator('.admin-nav a').allTextContents()).resolves.toEqual(['Pools']);
      await expect(page.locator('.admin-readonly').isVisible()).resolves.toBe(true);
      await expect(page.locator('.admin-actions').count()).resolves.toBe(0);
      expect((await page.goto(`${server.url}/admin/pools/new`))?.status()).toBe(403);
      const _csrf = await csrfOf(page);
      expect((await formPost(context, '/admin/variables', { _csrf, key: 'nope', value: 'x' })).status).toBe(403);
      expect((await formPost(context, '/admin/variables/shared_var', { _csrf, value: 'changed' })).status).toBe(403);
      expect((await formPost(context, '/admin/variables/shared_var/delete', { _csrf })).status).toBe(403);
      expect((await formPost(context, '/admin/connections/shared_conn/delete', { _csrf })).status).toBe(403);
      expect((await formPost(context, '/admin/pools', { _csrf, name: 'p', slots: '1' })).status).toBe(403);
      expect((await page.goto(`${server.url}/admin/variables/shared_var/edit`))?.status()).toBe(403);
      await context.close();
    }
    expect((await knex('variable').where('key', 'shared_var').first('val')).val).toBe('v');
    expect(await knex('connection').where('conn_id', 'shared_conn').first()).toBeTruthy();
    expect(await knex('variable').where('key', 'nope').first()).toBeUndefined();
  });

  it('fits a 375 px phone', async () => {
    const { context, page } = await loggedIn('op');
    await page.setViewportSize({ width: 375, height: 800 });
    for (const path of ['/admin/variables', '/admin/connections', '/admin/pools', '/admin/connections/new', '/admin/connections/shared_conn/delete']) {
      await page.goto(`${server.url}${path}`);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(375);
    }
    await page.goto(`${server.url}/admin/connections`);
    await screenshot(page, 'admin-connections-375');
    await context.close();
  });
});
