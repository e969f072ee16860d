import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { Param } from '../../core/param.ts';
import { PASSWORD, startTestApi } from '../helpers/api.ts';
import { launchBrowser, logIn, screenshot } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const { knex } = db;
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(
  knex,
  {
    dagId: 'params_dag',
    description: 'Greets a target',
    params: {
      greeting: new Param('hello', { type: 'string', enum: ['hello', 'hi'], description: 'How to greet' }),
      count: new Param(3, { type: 'integer', minimum: 1, maximum: 10 }),
      target: new Param(undefined, { type: 'string', minLength: 1, title: 'Target' }),
    },
  },
  { greet: {} },
  { paused: true },
);
await registerDag(knex, { dagId: 'plain_dag' }, { a: {} });
const server = await startTestApi(knex, config);
const browser = await launchBrowser();

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

const SUBMIT = 'form[data-conf-form] button[type=submit]';
const runs = (dagId: string) => knex('dag_run').where('dag_id', dagId).orderBy('id');

describe('web UI: triggering a DAG', () => {
  it("pre-fills conf from the params' defaults and describes each param", async () => {
    const { context, page } = await loggedIn('user');
    await page.goto(`${server.url}/dags/params_dag/trigger`);
    expect(JSON.parse(await page.inputValue('textarea[name=conf]'))).toEqual({ greeting: 'hello', count: 3 });
    await expect(page.locator('.trigger-desc').textContent()).resolves.toBe('Greets a target');
    await expect(page.locator('.trigger-note').textContent()).resolves.toContain('paused');
    const params = await page.locator('.trigger-param').allTextContents();
    const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
    // By name (the database does not keep the declaration order).
    expect(squash(params[0]!)).toBe('count integer default 3 1 to 10');
    expect(squash(params[1]!)).toBe('greeting string How to greet default "hello" one of "hello", "hi"');
    expect(squash(params[2]!)).toBe('target string required Target no default: conf must give it length ≥ 1');
    await expect(page.locator('form[data-conf-form]').getAttribute('data-required')).resolves.toBe('["target"]');
    await screenshot(page, 'trigger-1280');
    await page.setViewportSize({ width: 375, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(page, 'trigger-375');
    await context.close();
  });

  it('triggers a run with conf, logical date and run id, then opens the grid at that run', async () => {
    const { context, page } = await loggedIn('user');
    await page.goto(`${server.url}/dags/params_dag/trigger`);
    await page.fill('textarea[name=conf]', '{"greeting": "hi", "count": 5, "target": "db", "extra": [1, 2]}');
    await page.fill('input[name=logical_date]', '2025-03-04T05:06:07');
    await page.fill('input[name=run_id]', 'my_run_1');
    await Promise.all([page.waitForURL((u) => u.pathname === '/dags/params_dag/grid'), page.click(SUBMIT)]);
    expect(new URL(page.url()).searchParams.get('run_id')).toBe('my_run_1');
    const [run] = await runs('params_dag');
    expect(run).toMatchObject({
      run_id: 'my_run_1',
      run_type: 'manual',
      state: 'queued',
      external_trigger: true,
      conf: { greeting: 'hi', count: 5, target: 'db', extra: [1, 2] },
    });
    expect(run.logical_date.toISOString()).toBe('2025-03-04T05:06:07.000Z');
    expect(await knex('task_instance').where({ dag_id: 'params_dag', run_id: 'my_run_1' }).pluck('task_id')).toEqual(['greet']);

    // Defaults: logical date now, Airflow's manual__ run id.
    const before = Date.now();
    await page.goto(`${server.url}/dags/plain_dag/trigger`);
    await expect(page.inputValue('textarea[name=conf]')).resolves.toBe('{}');
    await Promise.all([page.waitForURL((u) => u.pathname === '/dags/plain_dag/grid'), page.click(SUBMIT)]);
    const [plain] = await runs('plain_dag');
    expect(plain.run_id).toMatch(/^manual__/);
    expect(new URL(page.url()).searchParams.get('run_id')).toBe(plain.run_id);
    expect(plain.logical_date.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(plain.conf).toEqual({});
    await context.close();
  });

  it('checks conf in the browser before submitting: JSON, an object, the required params', async () => {
    const { context, page } = await loggedIn('user');
    await page.goto(`${server.url}/dags/params_dag/trigger`);
    const posts: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && posts.push(r.url()));
    const error = page.locator('[data-conf-error]');
    await page.fill('textarea[name=conf]', '{"greeting": "hi",');
    await page.click(SUBMIT);
    await expect(error.textContent()).resolves.toMatch(/^conf is not valid JSON/);
    await expect(error.isVisible()).resolves.toBe(true);
    await page.fill('textarea[name=conf]', '[1, 2]');
    await page.click(SUBMIT);
    await expect(error.textContent()).resolves.toMatch(/must be a JSON object/);
    await page.fill('textarea[name=conf]', '{"greeting": "hi"}');
    await page.click(SUBMIT);
    await expect(error.textContent()).resolves.toMatch(/missing the required param target/);
    await expect(page.locator('textarea[name=conf]').getAttribute('aria-invalid')).resolves.toBe('true');
    expect(posts).toEqual([]);
    expect(new URL(page.url()).pathname).toBe('/dags/params_dag/trigger');
    await context.close();
  });

  it("re-renders the form with the server's error and the text entered (400) when conf breaks a param's schema", async () => {
    const { context, page } = await loggedIn('user');
    await page.goto(`${server.url}/dags/params_dag/trigger`);
    const entered = '{"count": 99, "target": "db"}';
    await page.fill('textarea[name=conf]', entered);
    await page.fill('input[name=run_id]', 'kept_run_id');
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click(SUBMIT)]);
    expect(response.status()).toBe(400);
    await page.waitForLoadState();
    await expect(page.getByRole('alert').first().textContent()).resolves.toMatch(/param 'count'=99: must be <= 10/);
    await expect(page.inputValue('textarea[name=conf]')).resolves.toBe(entered);
    await expect(page.inputValue('input[name=run_id]')).resolves.toBe('kept_run_id');
    expect(await runs('params_dag').where('run_id', 'kept_run_id')).toEqual([]);
    await screenshot(page, 'trigger-error');
    await context.close();
  });

  it('refuses bad input without JavaScript too: JSON, run id, logical date, a duplicate run (409)', async () => {
    const { context, page } = await loggedIn('user');
    await page.goto(`${server.url}/dags/plain_dag/trigger`);
    const _csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    const post = (fields: Record<string, string>) => formPost(context, '/dags/plain_dag/trigger', { _csrf, ...fields });

    const badJson = await post({ conf: '{oops' });
    expect(badJson.status).toBe(400);
    expect(badJson.html).toContain('conf is not valid JSON');
    expect(badJson.html).toContain('{oops</textarea>');
    const notObject = await post({ conf: '"text"' });
    expect(notObject.status).toBe(400);
    expect(notObject.html).toContain('conf must be a JSON object');
    const badRunId = await post({ conf: '{}', run_id: 'has spaces/and slashes' });
    expect(badRunId.status).toBe(400);
    expect(badRunId.html).toContain('dag_run_id may only contain');
    const badDate = await post({ conf: '{}', logical_date: 'yesterday' });
    expect(badDate.status).toBe(400);
    expect(badDate.html).toContain('is not an ISO 8601 date-time');

    const ok = await post({ conf: '{"a": 1}', run_id: 'dup_run', logical_date: '2025-05-01T00:00:00Z' });
    expect(ok.status).toBe(303);
    expect(ok.location).toBe('/dags/plain_dag/grid?run_id=dup_run');
    const dup = await post({ conf: '{"a": 1}', run_id: 'dup_run' });
    expect(dup.status).toBe(409);
    expect(dup.html).toContain('already has a run');
    expect(await runs('plain_dag').where('run_id', 'dup_run').pluck('conf')).toEqual([{ a: 1 }]);

    const forged = await formPost(context, '/dags/plain_dag/trigger', { conf: '{}' });
    expect(forged.status).toBe(403);
    const unknown = await formPost(context, '/dags/no_such_dag/trigger', { _csrf, conf: '{}' });
    expect(unknown.status).toBe(404);
    const unknownForm = await page.goto(`${server.url}/dags/no_such_dag/trigger`);
    expect(unknownForm?.status()).toBe(404);
    await context.close();
  });

  it('is not open to a Viewer (403 for the form and the submit)', async () => {
    const { context, page } = await loggedIn('viewer');
    const form = await page.goto(`${server.url}/dags/plain_dag/trigger`);
    expect(form?.status()).toBe(403);
    const _csrf = (await page.locator('meta[name=csrf-token]').getAttribute('content'))!;
    const before = (await runs('plain_dag')).length;
    expect((await formPost(context, '/dags/plain_dag/trigger', { _csrf, conf: '{}' })).status).toBe(403);
    expect(await runs('plain_dag')).toHaveLength(before);
    await context.close();
  });
});
