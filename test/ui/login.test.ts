import { describe, expect, it } from 'vitest';
import { createUser } from '../../db/models/user.ts';
import { FAILURES_PER_ADDRESS, FAILURES_PER_USER } from '../../webserver/passwordCheck.ts';
import { startTestApi, PASSWORD } from '../helpers/api.ts';
import { launchBrowser, logIn, screenshot } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { request } from '../helpers/http.ts';
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

/** Posts the login form as a client on loopback address `from` (its own cookie and CSRF token). */
async function formLogin(username: string, password: string, from: string) {
  const form = await request(`${server.url}/login`, { localAddress: from });
  const cookie = (form.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
  return request(`${server.url}/login`, {
    method: 'POST',
    localAddress: from,
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, username, password }).toString(),
  });
}

describe('web UI: failed logins are rate-limited', () => {
  it(`after ${FAILURES_PER_USER} wrong passwords for a user, the login answers 429 with Retry-After from any address; other users still log in`, async () => {
    await createUser(db.knex, { username: 'guessed', password: PASSWORD, role: 'Viewer' });
    for (let i = 0; i < FAILURES_PER_USER; i++) expect((await formLogin('guessed', `guess-${i}`, '127.0.0.2')).status).toBe(401);
    const limited = await formLogin('guessed', 'guess-again', '127.0.0.2');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    const page = await browser.newPage();
    await page.goto(`${server.url}/login`);
    await page.fill('input[name=username]', 'guessed');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/Too many failed logins; try again in \d+ s/);
    await logIn(page, server.url, 'viewer', PASSWORD);
    await expect(page.locator('body').textContent()).resolves.toContain('ui_first');
    await page.close();
  });

  it(`an address with ${FAILURES_PER_ADDRESS} failures (any usernames) gets 429 even for a right password; other addresses log in`, async () => {
    for (let i = 0; i < FAILURES_PER_ADDRESS; i++) expect((await formLogin(`ghost_${i}`, 'wrong', '127.0.0.3')).status).toBe(401);
    const limited = await formLogin('viewer', PASSWORD, '127.0.0.3');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const elsewhere = await formLogin('viewer', PASSWORD, '127.0.0.4');
    expect(elsewhere.status).toBe(302);
    expect(elsewhere.headers.location).toBe('/');
  });
});
