import { describe, expect, it } from 'vitest';
import { startTestApi, PASSWORD } from '../helpers/api.ts';
import { launchBrowser, logIn } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

// Item 9 of issue 12: the UI answers bad ids and bad form values with its error page, never SQL.
const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(db.knex, { dagId: 'daily' }, { only: {} });
const server = await startTestApi(db.knex, config);
const browser = await launchBrowser();
const SQL = /\b(select|insert|update|delete)\b[\s\S]*\b(from|into|set|where)\b|\$\d|"task_instance"|"dag_run"|"users"/i;

describe('web UI: NUL bytes', () => {
  it('pages with a NUL in an id, and a login with a NUL in the username, answer 400 without SQL', async () => {
    const page = await browser.newPage();
    await logIn(page, server.url, 'admin', PASSWORD);
    const paths = [
      '/dags/a%00b',
      '/dags/a%00b/grid',
      '/dags/a%00b/graph',
      '/dags/a%00b/code',
      '/dags/a%00b/details',
      '/dags/a%00b/runs',
      '/dags/daily/runs/a%00b',
      '/dags/daily/runs/r/tasks/a%00b',
      '/dags/daily/runs/a%00b/tasks/only/log.json',
      '/dags/a%00b/trigger',
      '/admin/variables/a%00b',
      '/admin/connections/a%00b',
      '/admin/pools/a%00b',
      '/?search=a%00b',
      '/?tags=a%00b',
    ];
    for (const path of paths) {
      const response = await page.request.get(`${server.url}${path}`);
      const body = await response.text();
      expect(response.status(), `${path}: ${body.slice(0, 300)}`).toBeLessThan(500);
      expect(body, path).not.toMatch(SQL);
    }
    const login = await browser.newPage();
    await login.goto(`${server.url}/login`);
    const csrf = await login.locator('input[name=_csrf]').getAttribute('value');
    const response = await login.request.post(`${server.url}/login`, { form: { _csrf: csrf ?? '', username: 'ad\u0000min', password: PASSWORD } });
    const body = await response.text();
    expect(response.status(), body.slice(0, 300)).toBe(400);
    expect(body).not.toMatch(SQL);
  });
});
