import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launchBrowser, logIn, screenshot } from '../helpers/browser.ts';
import { eventually } from '../helpers/eventually.ts';
import { startStandalone } from '../helpers/standalone.ts';

// Issue 6's promise, literally: `npm start` (airflow standalone), open the printed URL, log in with the
// printed password, unpause an example DAG, trigger it, and watch it run in the grid and graph views.
const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-journey-'));
chmodSync(home, 0o755);
const ready = await startStandalone(home);
afterAll(async () => {
  await ready.stop();
  rmSync(home, { recursive: true, force: true });
});
const browser = await launchBrowser();

describe('a new user with npm start', () => {
  it('logs in with the printed password, unpauses example_etl, triggers it and watches it succeed in the grid and graph', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await logIn(page, ready.url, 'admin', ready.password);
    // The scheduler parses the folder in the background after start-up (the page may come first).
    await eventually('the example DAGs to be listed', async () => (await page.reload(), (await page.locator('tr[data-dag-id^="example_"]').count()) === 19));
    for (const dagId of [
      'example_deferrable',
      'example_dynamic_mapping',
      'example_email',
      'example_etl',
      'example_external_consumer',
      'example_external_publisher',
      'example_file_to_sql',
      'example_http',
      'example_mapped_operators',
      'example_mapped_task_groups',
      'example_ml_pipeline',
      'example_notifications',
      'example_params',
      'example_sensors',
      'example_sql',
      'example_task_groups',
      'example_taskflow',
      'example_trigger_controller',
      'example_trigger_target',
    ]) {
      await expect(page.locator(`tr[data-dag-id="${dagId}"]`).count()).resolves.toBe(1);
    }
    const toggle = page.locator('tr[data-dag-id="example_etl"] button.list-switch');
    await expect(toggle.getAttribute('aria-checked')).resolves.toBe('false');
    await toggle.click();
    await page.waitForFunction(() => document.querySelector('tr[data-dag-id="example_etl"] button.list-switch')?.getAttribute('aria-checked') === 'true');

    await page.goto(`${ready.url}/dags/example_etl/trigger`);
    await page.fill('textarea[name=conf]', '{"source": "journey"}');
    await Promise.all([page.waitForURL(/\/dags\/example_etl\/grid\?run_id=/), page.click('form.trigger-form button[type=submit]')]);
    const runId = new URL(page.url()).searchParams.get('run_id')!;

    // The grid recolours itself while the run is active: wait until every square of the run is green.
    await page.waitForFunction(
      (id) => {
        const squares = Array.from(document.querySelectorAll('a.sq')).filter((a) =>
          (a as HTMLAnchorElement).pathname.includes(`/runs/${encodeURIComponent(id)}/`),
        );
        return squares.length === 5 && squares.every((a) => (a as HTMLElement).dataset.state === 'success');
      },
      runId,
      { timeout: 60_000 },
    );
    await screenshot(page, 'journey-grid');

    await page.goto(`${ready.url}/dags/example_etl/graph?run_id=${encodeURIComponent(runId)}`);
    const boxes = await page.$$eval('svg.dag-graph rect.box', (rects) => rects.map((r) => r.getAttribute('data-state')));
    expect(boxes).toEqual(['success', 'success', 'success', 'success', 'success']);
    await screenshot(page, 'journey-graph');

    await page.goto(`${ready.url}/dags/example_etl/runs/${encodeURIComponent(runId)}/tasks/extract`);
    await expect(page.locator('body').textContent()).resolves.toMatch(/Task exited with outcome success/);
    // The template fields as the try rendered them: {{ ds }} became the run's date.
    await expect(page.locator('.note').first().textContent()).resolves.toMatch(/As rendered for the latest try/);
    const fields = await page.locator('table.kv pre.json').allTextContents();
    expect(fields.join('\n')).toMatch(/\/tmp\/airflow-ts-etl\/\d{4}-\d{2}-\d{2}\//);
    expect(fields.join('\n')).not.toContain('{{ ds }}');
  });
});
