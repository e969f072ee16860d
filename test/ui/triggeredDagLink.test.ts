import { afterAll, describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { serializeDag } from '../../core/serialize.ts';
import { recordParsedFile } from '../../db/dagFileRecords.ts';
import { pushXCom } from '../../db/models/xcom.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { TriggerDagRunOperator } from '../../operators/triggerDagRunOperator.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { PASSWORD, startTestApi } from '../helpers/api.ts';
import { launchBrowser, logIn } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const { knex } = db;
const config = await testConfig(tempDagsFolder(), db.url);
{
  const controller = new DAG({ dagId: 'ui_controller' });
  new TriggerDagRunOperator({ dag: controller, taskId: 'trigger', triggerDagId: 'ui_target' });
  new EmptyOperator({ dag: controller, taskId: 'plain' });
  const target = new DAG({ dagId: 'ui_target' });
  new EmptyOperator({ dag: target, taskId: 'work' });
  for (const dag of [controller, target]) {
    const serialized = { ...serializeDag(dag), fileloc: `/virtual/${dag.dagId}.ts` };
    await recordParsedFile(knex, {
      file: serialized.fileloc,
      dags: [serialized],
      source: '// test',
      parsedAt: new Date(),
      pausedAtCreation: false,
      catchupByDefault: true,
    });
  }
}
const api = await startTestApi(knex, config);
const browser = await launchBrowser();
afterAll(() => browser.close());

describe('the "Triggered DAG" link of a TriggerDagRunOperator', () => {
  it('leads from the task-instance page to the run it triggered; other tasks, and a try that triggered nothing, have none', async () => {
    const run = await triggerDagRun(knex, { dagId: 'ui_controller', now: new Date() });
    const triggered = await triggerDagRun(knex, { dagId: 'ui_target', runId: 'triggered by ui_controller', now: new Date(Date.now() + 1000) });
    const page = await browser.newPage();
    try {
      await logIn(page, api.url, 'viewer', PASSWORD);
      const tiUrl = (taskId: string) => `${api.url}/dags/ui_controller/runs/${encodeURIComponent(run.run_id)}/tasks/${taskId}`;
      await page.goto(tiUrl('trigger'));
      expect(await page.locator('[data-extra-link]').count()).toBe(0);

      await pushXCom(
        knex,
        { dagRunId: run.id, dagId: 'ui_controller', runId: run.run_id, taskId: 'trigger', mapIndex: -1 },
        'trigger_run_id',
        triggered.run_id,
        65_536,
      );
      await page.goto(tiUrl('trigger'));
      const link = page.locator('[data-extra-link="Triggered DAG"]');
      expect(await link.textContent()).toBe(`ui_target · ${triggered.run_id}`);
      expect(await page.locator('tr', { has: link }).locator('th').textContent()).toBe('Triggered DAG');
      await Promise.all([page.waitForURL(/\/dags\/ui_target\/grid/), link.click()]);
      expect(new URL(page.url()).searchParams.get('run_id')).toBe(triggered.run_id);

      await page.goto(tiUrl('plain'));
      expect(await page.locator('[data-extra-link]').count()).toBe(0);
      // REST: Airflow's .../links, by link name.
      const linksOf = (taskId: string) => api.call('GET', `/dags/ui_controller/dagRuns/${encodeURIComponent(run.run_id)}/taskInstances/${taskId}/links`);
      const rest = await linksOf('trigger');
      expect(rest.status).toBe(200);
      expect(rest.json).toEqual({ 'Triggered DAG': `/dags/ui_target/runs/${encodeURIComponent(triggered.run_id)}` });
      expect((await linksOf('plain')).json).toEqual({});
      expect((await linksOf('nope')).status).toBe(404);
    } finally {
      await page.close();
    }
  });
});
