import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { PASSWORD, startTestApi } from '../helpers/api.ts';
import { launchBrowser, logIn, screenshot } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const { knex } = db;
const config = await testConfig(tempDagsFolder(), db.url);
const start = new Date('2025-01-01T00:00:00Z');

await registerDag(
  knex,
  {
    dagId: 'alpha_etl',
    schedule: '@daily',
    startDate: start,
    catchup: false,
    tags: ['etl', 'daily'],
    description: 'Loads the warehouse',
    defaultArgs: { owner: 'alice' },
  },
  { extract: {}, transform: { upstream: ['extract'] }, load: { upstream: ['transform'] } },
);
await registerDag(knex, { dagId: 'beta_report', tags: ['report'] }, { build: {} }, { paused: true });
for (let i = 0; i < 30; i++) await registerDag(knex, { dagId: `bulk_${String(i).padStart(2, '0')}`, tags: ['bulk'] }, { only: {} });
await registerDag(knex, { dagId: 'gone_dag' }, { a: {} });
await knex('dag').where('dag_id', 'gone_dag').update({ is_active: false });

// Two runs of alpha_etl: an older successful one and the latest, failed half-way.
const older = await triggerDagRun(knex, { dagId: 'alpha_etl', logicalDate: new Date('2025-01-02T00:00:00Z'), now: new Date() });
await knex('task_instance').where({ dag_id: 'alpha_etl', run_id: older.run_id }).update({ state: 'success' });
await knex('dag_run').where('id', older.id).update({ state: 'success' });
const latest = await triggerDagRun(knex, { dagId: 'alpha_etl', logicalDate: new Date('2025-01-03T00:00:00Z'), now: new Date() });
await knex('task_instance').where({ dag_id: 'alpha_etl', run_id: latest.run_id, task_id: 'extract' }).update({ state: 'success' });
await knex('task_instance').where({ dag_id: 'alpha_etl', run_id: latest.run_id, task_id: 'transform' }).update({ state: 'failed' });
await knex('task_instance').where({ dag_id: 'alpha_etl', run_id: latest.run_id, task_id: 'load' }).update({ state: 'upstream_failed' });
await knex('dag_run').where('id', latest.id).update({ state: 'failed' });

await knex('import_error').insert({
  filename: '/dags/broken_pipeline.ts',
  message: "SyntaxError: Unexpected token '}' (/dags/broken_pipeline.ts:12)",
  line: 12,
  stacktrace: 'SyntaxError: Unexpected token\n    at parse (/dags/broken_pipeline.ts:12:3)',
});

const server = await startTestApi(knex, config);
const browser = await launchBrowser();

async function loggedIn(username: string, options: { javaScriptEnabled?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await logIn(page, server.url, username, PASSWORD);
  return { context, page };
}

const row = (page: Page, dagId: string) => page.locator(`tr[data-dag-id="${dagId}"]`);
const toggle = (page: Page, dagId: string) => row(page, dagId).locator('button.list-switch');
const isPaused = async (dagId: string) => (await knex('dag').where('dag_id', dagId).first('is_paused')).is_paused as boolean;
const shownIds = (page: Page) => page.locator('tbody tr[data-dag-id]').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.dagId));

/** A plain form POST (what the page sends without JavaScript), made with the session cookie of `context`. */
async function formPost(context: BrowserContext, path: string, fields: Record<string, string>) {
  const cookie = (await context.cookies(server.url)).map((c) => `${c.name}=${c.value}`).join('; ');
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
}
/** For a failure message: the elements sticking out of the viewport. */
const WIDE = () =>
  Array.from(document.querySelectorAll('body *'))
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5 && !el.parentElement?.closest('.table-wrap'))
    .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)
    .slice(0, 10)
    .join(', ');
const csrfOf = (page: Page) => page.locator('meta[name=csrf-token]').getAttribute('content') as Promise<string>;

describe('web UI: the DAGs page', () => {
  it('lists active DAGs with owner, tags, schedule, last run state, next run and recent task counts (25 a page)', async () => {
    const { context, page } = await loggedIn('admin');
    await page.goto(`${server.url}/`);
    const ids = await shownIds(page);
    expect(ids).toHaveLength(25);
    expect(ids.slice(0, 3)).toEqual(['alpha_etl', 'beta_report', 'bulk_00']);
    expect(ids).not.toContain('gone_dag');
    await expect(page.locator('.list-page-info').textContent()).resolves.toMatch(/Showing 1–25 of 32 DAGs/);

    const alpha = row(page, 'alpha_etl');
    await expect(alpha.locator('a.list-dag-id').getAttribute('href')).resolves.toBe('/dags/alpha_etl/grid');
    const text = (await alpha.textContent())!;
    expect(text).toContain('alice');
    expect(text).toContain('@daily');
    expect(text).toContain('Loads the warehouse');
    await expect(alpha.locator('.list-tags a').allTextContents()).resolves.toEqual(['etl', 'daily']);
    await expect(alpha.locator('.list-tags a').first().getAttribute('href')).resolves.toBe('/?tags=etl');
    // The latest run (by logical date) failed: a red state dot, linked to that run in the grid.
    const lastRun = alpha.locator('a.list-run');
    await expect(lastRun.locator('.list-state').textContent()).resolves.toBe('failed');
    await expect(lastRun.locator('.list-state').evaluate((el) => getComputedStyle(el, '::before').backgroundColor)).resolves.toBe('rgb(255, 0, 0)');
    await expect(lastRun.getAttribute('href')).resolves.toBe(`/dags/alpha_etl/grid?run_id=${encodeURIComponent(latest.run_id)}`);
    // Task states of the recent runs: 3 + 1 success, 1 failed, 1 upstream_failed.
    await expect(alpha.locator('.list-count').evaluateAll((els) => els.map((e) => e.getAttribute('title')))).resolves.toEqual([
      'success: 4',
      'failed: 1',
      'upstream_failed: 1',
    ]);
    await expect(
      alpha
        .locator('.list-count')
        .first()
        .evaluate((el) => getComputedStyle(el).borderTopColor),
    ).resolves.toBe('rgb(0, 128, 0)');
    // Next run from the DAG's bookkeeping; a manual-only DAG has none.
    const next = (await knex('dag').where('dag_id', 'alpha_etl').first('next_dagrun')).next_dagrun as Date;
    expect(text).toContain(next.toISOString().slice(0, 19).replace('T', ' '));
    await expect(row(page, 'beta_report').locator('.list-schedule').textContent()).resolves.toBe('None');
    await expect(row(page, 'beta_report').locator('.list-counts').textContent()).resolves.toContain('—');
    // Paused state shows in the switch; the trigger action is there for an admin.
    await expect(toggle(page, 'beta_report').getAttribute('aria-checked')).resolves.toBe('false');
    await expect(toggle(page, 'alpha_etl').getAttribute('aria-checked')).resolves.toBe('true');
    await expect(alpha.locator('a.list-action').getAttribute('href')).resolves.toBe('/dags/alpha_etl/trigger');
    await context.close();
  });

  it('pauses and unpauses without reloading (fetch with the CSRF header); the state persists after a reload and in the database', async () => {
    const { context, page } = await loggedIn('user');
    await page.goto(`${server.url}/`);
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/dags/alpha_etl/paused')), toggle(page, 'alpha_etl').click()]);
    expect(response.status()).toBe(200);
    expect(response.request().headers()['x-csrf-token']).toBe(await csrfOf(page));
    await expect.poll(() => toggle(page, 'alpha_etl').getAttribute('aria-checked')).toBe('false');
    await expect(row(page, 'alpha_etl').getAttribute('class')).resolves.toContain('list-paused');
    await expect(page.locator('[data-flash]').textContent()).resolves.toBe('alpha_etl paused.');
    expect(navigations).toEqual([]); // no page load
    expect(await isPaused('alpha_etl')).toBe(true);

    await page.reload();
    await expect(toggle(page, 'alpha_etl').getAttribute('aria-checked')).resolves.toBe('false');
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/dags/alpha_etl/paused')), toggle(page, 'alpha_etl').click()]);
    await expect.poll(() => toggle(page, 'alpha_etl').getAttribute('aria-checked')).toBe('true');
    expect(await isPaused('alpha_etl')).toBe(false);
    await context.close();
  });

  it('falls back to a plain form POST with the hidden _csrf field when JavaScript is off', async () => {
    const { context, page } = await loggedIn('user', { javaScriptEnabled: false });
    await page.goto(`${server.url}/?search=beta`);
    expect(await isPaused('beta_report')).toBe(true);
    await Promise.all([page.waitForURL((url) => url.pathname === '/' && url.search === '?search=beta'), toggle(page, 'beta_report').click()]);
    await expect(toggle(page, 'beta_report').getAttribute('aria-checked')).resolves.toBe('true');
    expect(await isPaused('beta_report')).toBe(false);

    // The same POST made by hand with the page's token: 303 back to the list, state changed.
    const token = (await page.locator('tr[data-dag-id=beta_report] input[name=_csrf]').getAttribute('value'))!;
    const back = await formPost(context, '/dags/beta_report/paused', { _csrf: token, is_paused: 'true', return_to: 'search=beta&page=1' });
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/?search=beta&page=1');
    expect(await isPaused('beta_report')).toBe(true);
    // return_to can only be a query string of the list: no redirect elsewhere.
    const evil = await formPost(context, '/dags/beta_report/paused', { _csrf: token, is_paused: 'true', return_to: '//evil.example/x' });
    expect(evil.headers.get('location')).toMatch(/^\/\?/);
    // Without the token: refused.
    const forged = await formPost(context, '/dags/beta_report/paused', { is_paused: 'false' });
    expect(forged.status).toBe(403);
    expect(await isPaused('beta_report')).toBe(true);
    // An unknown DAG: 404.
    expect((await formPost(context, '/dags/no_such_dag/paused', { _csrf: token, is_paused: 'true' })).status).toBe(404);
    await context.close();
  });

  it('shows a Viewer a disabled toggle and no trigger action, and the server refuses the change (403)', async () => {
    const { context, page } = await loggedIn('viewer');
    await page.goto(`${server.url}/`);
    await expect(toggle(page, 'alpha_etl').isDisabled()).resolves.toBe(true);
    await expect(row(page, 'alpha_etl').locator('a.list-action').count()).resolves.toBe(0);
    const token = await csrfOf(page);
    const status = await page.evaluate(async (csrf) => {
      const r = await fetch('/dags/alpha_etl/paused', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ is_paused: true }),
      });
      return r.status;
    }, token);
    expect(status).toBe(403);
    expect((await formPost(context, '/dags/alpha_etl/paused', { _csrf: token, is_paused: 'true' })).status).toBe(403);
    expect(await isPaused('alpha_etl')).toBe(false);
    await context.close();
  });

  it('filters by name, tag and paused state, and pages through 32 DAGs', async () => {
    const { context, page } = await loggedIn('admin');
    await page.goto(`${server.url}/`);
    await expect(page.locator('.list-tabs a').allTextContents()).resolves.toEqual(['All 32', 'Active 31', 'Paused 1']);

    // Page 2 holds the remaining 7.
    await Promise.all([page.waitForURL(/page=2/), page.locator('.list-pages a[rel=next]').click()]);
    expect(await shownIds(page)).toEqual(['bulk_23', 'bulk_24', 'bulk_25', 'bulk_26', 'bulk_27', 'bulk_28', 'bulk_29']);
    await expect(page.locator('.list-page-info').textContent()).resolves.toMatch(/Showing 26–32 of 32 DAGs/);
    await expect(page.locator('.list-page-current').textContent()).resolves.toBe('2');

    // Name search (case-insensitive substring), through the form.
    await page.fill('input[name=search]', 'BULK_1');
    await Promise.all([page.waitForURL(/search=BULK_1/), page.click('.list-filters button[type=submit]')]);
    expect(await shownIds(page)).toEqual(['bulk_10', 'bulk_11', 'bulk_12', 'bulk_13', 'bulk_14', 'bulk_15', 'bulk_16', 'bulk_17', 'bulk_18', 'bulk_19']);
    await expect(page.locator('.list-pagination .list-pages').count()).resolves.toBe(0);

    // A tag link filters by that tag; the tag select adds another (any of them matches).
    await page.goto(`${server.url}/`);
    await Promise.all([page.waitForURL(/tags=etl/), row(page, 'alpha_etl').locator('.list-tags a', { hasText: 'etl' }).click()]);
    expect(await shownIds(page)).toEqual(['alpha_etl']);
    await Promise.all([page.waitForURL(/tags=report/), page.selectOption('select[name=tags]', 'report')]);
    expect(await shownIds(page)).toEqual(['alpha_etl', 'beta_report']);
    await expect(page.locator('.list-chip').allTextContents()).resolves.toEqual(['etl ×', 'report ×']);
    // Removing a chip drops that tag.
    await Promise.all([page.waitForURL((u) => u.search === '?tags=report'), page.locator('.list-chip', { hasText: 'etl' }).click()]);
    expect(await shownIds(page)).toEqual(['beta_report']);

    // Active / paused tabs, combined with the other filters.
    await page.goto(`${server.url}/?status=paused`);
    expect(await shownIds(page)).toEqual(['beta_report']);
    await page.goto(`${server.url}/?status=active&search=a`);
    expect(await shownIds(page)).toEqual(['alpha_etl']);
    await expect(page.locator('.list-tabs a.active').textContent()).resolves.toBe('Active 1');
    await page.goto(`${server.url}/?search=nothing_matches_this`);
    await expect(page.locator('.list-empty').textContent()).resolves.toContain('No DAGs match');
    await expect(page.locator('.list-page-info').textContent()).resolves.toContain('No DAGs');
    // A page past the end shows the last page.
    await page.goto(`${server.url}/?page=99`);
    await expect(page.locator('.list-page-current').textContent()).resolves.toBe('2');
    await context.close();
  });

  it('shows import errors as a banner that expands to each file and its message', async () => {
    const { context, page } = await loggedIn('viewer');
    await page.goto(`${server.url}/`);
    const banner = page.locator('details.list-import-errors');
    await expect(banner.locator(':scope > summary').textContent()).resolves.toContain('1 DAG import error');
    await expect(banner.locator('.list-ie-message').isVisible()).resolves.toBe(false);
    await banner.locator(':scope > summary').click();
    await expect(banner.locator('.list-ie-file').textContent()).resolves.toContain('/dags/broken_pipeline.ts:12');
    await expect(banner.locator('.list-ie-message').textContent()).resolves.toBe("SyntaxError: Unexpected token '}' (/dags/broken_pipeline.ts:12)");
    await expect(banner.locator('.list-ie-message').isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('fits 1280 px and a 375 px phone without scrolling the whole page sideways (screenshots)', async () => {
    const { context, page } = await loggedIn('admin');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${server.url}/`);
    await page.locator('details.list-import-errors summary').first().click();
    await screenshot(page, 'dags-1280');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);

    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${server.url}/?tags=etl&tags=daily`);
    await page.locator('details.list-import-errors summary').first().click();
    expect(await page.evaluate(() => document.documentElement.scrollWidth), await page.evaluate(WIDE)).toBeLessThanOrEqual(375);
    await page.goto(`${server.url}/`);
    await page.locator('details.list-import-errors summary').first().click();
    expect(await page.evaluate(() => document.documentElement.scrollWidth), await page.evaluate(WIDE)).toBeLessThanOrEqual(375);
    // The table scrolls inside its wrapper instead.
    const wrap = await page.locator('.table-wrap').evaluate((el) => ({ client: el.clientWidth, scroll: el.scrollWidth }));
    expect(wrap.client).toBeLessThanOrEqual(375);
    await screenshot(page, 'dags-375');
    await context.close();
  });
});
