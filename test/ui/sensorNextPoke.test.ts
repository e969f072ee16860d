import { afterAll, describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { serializeDag } from '../../core/serialize.ts';
import { recordParsedFile } from '../../db/dagFileRecords.ts';
import { rescheduleTaskInstance } from '../../db/models/taskReschedule.ts';
import { transitionTaskInstances } from '../../db/transitions.ts';
import { FunctionSensor } from '../../operators/sensors/functionSensor.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { PASSWORD, startTestApi } from '../helpers/api.ts';
import { launchBrowser, logIn } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const { knex } = db;
const config = await testConfig(tempDagsFolder(), db.url);
const DAG_ID = 'ui_sensor';
{
  const dag = new DAG({ dagId: DAG_ID });
  new FunctionSensor({ dag, taskId: 'wait', mode: 'reschedule', fn: () => false });
  const serialized = { ...serializeDag(dag), fileloc: `/virtual/${DAG_ID}.ts` };
  await recordParsedFile(knex, {
    file: serialized.fileloc,
    dags: [serialized],
    source: '// test',
    parsedAt: new Date(),
    pausedAtCreation: false,
    catchupByDefault: true,
  });
}
const api = await startTestApi(knex, config);
const browser = await launchBrowser();
afterAll(() => browser.close());

describe('a sensor up for reschedule', () => {
  it("shows its next poke time on the task-instance page; its REST JSON stays Airflow's shape", async () => {
    const run = await triggerDagRun(knex, { dagId: DAG_ID, now: new Date() });
    const ti = await knex('task_instance').where({ dag_id: DAG_ID, run_id: run.run_id, task_id: 'wait' }).first();
    const now = new Date();
    for (const to of ['scheduled', 'queued', 'running'] as const) await transitionTaskInstances(knex, [ti.id], { to, now });
    const next = new Date(now.getTime() + 90_000);
    await knex.transaction((trx) => rescheduleTaskInstance(trx, { ...ti, try_number: 1, start_date: now }, next, new Date(now.getTime() + 50)));

    const page = await browser.newPage();
    try {
      await logIn(page, api.url, 'viewer', PASSWORD);
      await page.goto(`${api.url}/dags/${DAG_ID}/runs/${encodeURIComponent(run.run_id)}/tasks/wait`);
      expect(await page.locator('#ti-state').textContent()).toBe('up_for_reschedule');
      expect(await page.locator('[data-next-poke]').getAttribute('data-next-poke')).toBe(next.toISOString());
      expect(
        await page
          .locator('tr', { has: page.locator('[data-next-poke]') })
          .locator('th')
          .textContent(),
      ).toBe('Next poke');
    } finally {
      await page.close();
    }

    const response = await api.call('GET', `/dags/${DAG_ID}/dagRuns/${encodeURIComponent(run.run_id)}/taskInstances/wait`);
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ state: 'up_for_reschedule', try_number: 1 });
    // Airflow 2.10's TaskInstance has no reschedule date: the REST shape stays Airflow's (the next poke is UI-only).
    expect(Object.keys(response.json as object)).not.toContain('reschedule_date');
    expect(Object.keys(response.json as object)).not.toContain('next_poke');
  });
});
