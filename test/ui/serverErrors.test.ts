import { describe, expect, it } from 'vitest';
import { PASSWORD, startTestApi } from '../helpers/api.ts';
import { launchBrowser, logIn } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(db.knex, { dagId: 'unreadable' }, { only: {} });
// A serialized form this code cannot read (written by another version, or damaged).
await db
  .knex('serialized_dag')
  .where('dag_id', 'unreadable')
  .update({ data: JSON.stringify({ dag_id: 'unreadable' }) });
const server = await startTestApi(db.knex, config);
const browser = await launchBrowser();

describe('web UI: errors the server did not expect', () => {
  it('shows a 500 page quoting an error id that the log holds with the stack, and no stack', async () => {
    const page = await browser.newPage();
    await logIn(page, server.url, 'admin', PASSWORD);
    const response = await page.goto(`${server.url}/dags/unreadable/graph`);
    expect(response?.status()).toBe(500);
    const text = await page.locator('body').innerText();
    const id = /error id ([0-9a-f-]{36})/.exec(text)?.[1];
    expect(id, text).toBeDefined();
    // The stack (here a knex error quoting its SQL) goes only to the log.
    expect(await response!.text()).not.toMatch(/Error:|\bselect\b|\.ts:\d+|\n\s+at /);
    const logged = server.logger.entries.filter((e) => e.level === 'error' && e.meta.errorId === id);
    expect(logged).toHaveLength(1);
    expect(String(logged[0]!.meta.error)).toMatch(/\n\s+at .*webserver\/ui\//);
    await page.close();
  });
});
