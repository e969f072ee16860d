import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { Param } from '../../core/param.ts';
import { PASSWORD, startTestApi } from '../helpers/api.ts';
import { launchBrowser, logIn } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

/**
 * Values from DAG files, run conf, import errors and admin objects that look
 * like markup must show as text. The browser runs with CSP bypassed, so an
 * unescaped payload would really execute (helmet's CSP is a second line of
 * defence, not the one under test): each payload sets window.__xss.
 */
const payload = (name: string) => ({
  script: `<script>window.__xss = (window.__xss || []).concat('${name}')</script>`,
  img: `"><img src=x onerror="window.__xss = (window.__xss || []).concat('${name}')">`,
});

const TAG_SCRIPT = payload('tag').script;
const TAG_IMG = `'${payload('tag-img').img}`;
const DESCRIPTION = `Nightly <b id="injected">bold</b> ${payload('description').img}`;
const OWNER = payload('owner').script;
const PARAM_NAME = `p"><img src=x onerror=window.__xss=1>`;
const PARAM_DESCRIPTION = payload('param-description').script;
const PARAM_DEFAULT = `</textarea>${payload('param-default').script}`;
const PARAM_TITLE = payload('param-title').img;
const ENUM_VALUE = payload('enum').img;
const IMPORT_FILE = `/dags/${payload('import-file').img}.ts`;
const IMPORT_MESSAGE = `SyntaxError near ${payload('import-message').script}`;
const VARIABLE_KEY = `k${payload('variable-key').img}`;
const VARIABLE_VALUE = `</code></td>${payload('variable-value').script}`;
const CONNECTION_HOST = payload('connection-host').img;
const POOL_DESCRIPTION = payload('pool-description').script;

const db = await createTestDatabase();
const { knex } = db;
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(
  knex,
  {
    dagId: 'xss_dag',
    tags: [TAG_SCRIPT, TAG_IMG],
    description: DESCRIPTION,
    defaultArgs: { owner: OWNER },
    params: {
      [PARAM_NAME]: new Param(PARAM_DEFAULT, { type: 'string', description: PARAM_DESCRIPTION, title: PARAM_TITLE, enum: [PARAM_DEFAULT, ENUM_VALUE] }),
      count: new Param(1, { type: 'integer' }),
    },
  },
  { t: {} },
);
await knex('import_error').insert({ filename: IMPORT_FILE, message: IMPORT_MESSAGE, line: 3, stacktrace: `${IMPORT_MESSAGE}\n  at ${IMPORT_FILE}:3` });
await knex('variable').insert({ key: VARIABLE_KEY, val: VARIABLE_VALUE, description: payload('variable-description').img });
await knex('connection').insert({ conn_id: 'xss_conn', conn_type: 'http', host: CONNECTION_HOST, description: payload('connection-description').script });
await knex('slot_pool').insert({ pool: 'xss_pool', slots: 1, description: POOL_DESCRIPTION });
const server = await startTestApi(knex, config);
const browser = await launchBrowser();

async function loggedIn(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await logIn(page, server.url, 'admin', PASSWORD);
  return { context, page };
}

/** Nothing ran and nothing was injected: no flag, no inline scripts, no images, no injected elements. */
async function expectInert(page: Page): Promise<void> {
  await page.waitForLoadState('load');
  const found = await page.evaluate(() => ({
    flag: (window as unknown as { __xss?: unknown }).__xss ?? null,
    inlineScripts: document.querySelectorAll('script:not([src])').length,
    images: document.querySelectorAll('img').length,
    injected: document.querySelectorAll('#injected, b').length,
  }));
  expect(found).toEqual({ flag: null, inlineScripts: 0, images: 0, injected: 0 });
}

const bodyText = (page: Page) => page.evaluate(() => document.body.innerText);

describe('web UI: values that look like HTML are shown as text', () => {
  it('on the DAGs page: tags, description, owner, import errors and reflected filters', async () => {
    const { context, page } = await loggedIn();
    await page.goto(`${server.url}/`);
    await page.locator('details.list-import-errors > summary').click();
    await expectInert(page);
    const text = await bodyText(page);
    for (const value of [TAG_SCRIPT, TAG_IMG, DESCRIPTION, OWNER, IMPORT_FILE, IMPORT_MESSAGE]) expect(text).toContain(value);
    const tags = page.locator('tr[data-dag-id=xss_dag] .list-tags a');
    await expect(tags.allTextContents()).resolves.toEqual([TAG_SCRIPT, TAG_IMG]);
    await expect(tags.first().isVisible()).resolves.toBe(true);
    await expect(page.locator('tr[data-dag-id=xss_dag] .list-owner').textContent()).resolves.toBe(OWNER);
    await expect(page.getByText(DESCRIPTION, { exact: true }).isVisible()).resolves.toBe(true);

    // A tag link round-trips through the URL and back into the page (chip, hidden field).
    await Promise.all([page.waitForURL(/tags=/), page.locator('.list-tags a').filter({ hasText: 'tag-img' }).click()]);
    await expectInert(page);
    expect(await page.locator('tbody tr[data-dag-id]').count()).toBe(1);
    await expect(page.locator('.list-chip').textContent()).resolves.toBe(`${TAG_IMG} ×`);
    await expect(page.locator('.list-filters input[type=hidden][name=tags]').inputValue()).resolves.toBe(TAG_IMG);

    const search = payload('search').img;
    await page.goto(`${server.url}/?search=${encodeURIComponent(search)}&status=${encodeURIComponent(payload('status').img)}`);
    await expectInert(page);
    await expect(page.inputValue('input[name=search]')).resolves.toBe(search);
    await context.close();
  });

  it('on the trigger form: param names, descriptions, titles, defaults, enums, and a rejected conf echoed back', async () => {
    const { context, page } = await loggedIn();
    await page.goto(`${server.url}/dags/xss_dag/trigger`);
    await expectInert(page);
    expect(JSON.parse(await page.inputValue('textarea[name=conf]'))).toEqual({ [PARAM_NAME]: PARAM_DEFAULT, count: 1 });
    const text = await bodyText(page);
    for (const value of [PARAM_NAME, PARAM_DESCRIPTION, PARAM_TITLE, JSON.stringify(ENUM_VALUE), DESCRIPTION]) expect(text).toContain(value);
    await expect(page.getByText(PARAM_DESCRIPTION, { exact: true }).isVisible()).resolves.toBe(true);

    // The server's error names the bad value; the textarea gets back exactly what was typed.
    const conf = JSON.stringify({ count: payload('conf-value').img, note: `</textarea>${payload('conf-text').script}` });
    await page.fill('textarea[name=conf]', conf);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.click('form[data-conf-form] button[type=submit]'),
    ]);
    expect(response.status()).toBe(400);
    await expectInert(page);
    await expect(page.inputValue('textarea[name=conf]')).resolves.toBe(conf);
    await expect(page.locator('.trigger-error').textContent()).resolves.toContain(JSON.stringify(payload('conf-value').img));
    await context.close();
  });

  it('on the admin pages: variables, connections and pools, lists, forms and confirmation pages', async () => {
    const { context, page } = await loggedIn();
    const pages = [
      '/admin/variables',
      `/admin/variables/${encodeURIComponent(VARIABLE_KEY)}/edit`,
      `/admin/variables/${encodeURIComponent(VARIABLE_KEY)}/delete`,
      '/admin/connections',
      '/admin/connections/xss_conn/edit',
      '/admin/pools',
      '/admin/pools/xss_pool/delete',
      `/admin/variables?done=created&name=${encodeURIComponent(payload('notice').script)}`,
    ];
    for (const path of pages) {
      const response = await page.goto(`${server.url}${path}`);
      expect(response?.status(), path).toBe(200);
      await expectInert(page);
    }
    await page.goto(`${server.url}/admin/variables`);
    const text = await bodyText(page);
    expect(text).toContain(VARIABLE_KEY);
    expect(text).toContain(VARIABLE_VALUE);
    await page.goto(`${server.url}/admin/variables/${encodeURIComponent(VARIABLE_KEY)}/edit`);
    await expect(page.inputValue('input[name=key]')).resolves.toBe(VARIABLE_KEY);
    await expect(page.inputValue('textarea[name=value]')).resolves.toBe(VARIABLE_VALUE);
    await page.goto(`${server.url}/admin/connections`);
    expect(await bodyText(page)).toContain(CONNECTION_HOST);
    await page.goto(`${server.url}/admin/pools`);
    expect(await bodyText(page)).toContain(POOL_DESCRIPTION);
    await context.close();
  });
});
