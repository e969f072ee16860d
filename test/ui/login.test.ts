import { describe, expect, it } from 'vitest';
import { startTestApi, PASSWORD } from '../helpers/api.ts';
import { launchBrowser, logIn, screenshot } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(db.knex, { dagId: 'ui_first' }, { a: {} });
const server = await startTestApi(db.knex, config);
const browser = await launchBrowser();

describe('web UI: logging in', () => {
  it('sends an anonymous visitor to the login page, rejects a wrong password, and shows the DAGs after logging in', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', 'wrong');
    await page.click('button[type=submit]');
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/Wrong username or password/);
    await logIn(page, server.url, 'admin', PASSWORD);
    await expect(page.locator('body').textContent()).resolves.toContain('ui_first');
    await screenshot(page, 'dags');
  });

  it('rejects a form post without the CSRF token', async () => {
    const response = await fetch(`${server.url}/logout`, { method: 'POST', redirect: 'manual' });
    expect(response.status).toBe(403);
  });
});

describe('web UI: redirects after login', () => {
  it('never redirects off-site, even with a backslash trick', async () => {
    for (const next of ['//evil.example', '/\\evil.example', 'https://evil.example']) {
      const page = await browser.newPage();
      await page.goto(`${server.url}/login?next=${encodeURIComponent(next)}`);
      await page.fill('input[name=username]', 'admin');
      await page.fill('input[name=password]', PASSWORD);
      await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), page.click('button[type=submit]')]);
      expect(new URL(page.url()).origin, next).toBe(server.url);
      await page.close();
    }
  });
});
