import { afterAll, describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { serializeDag } from '../../core/serialize.ts';
import { recordParsedFile } from '../../db/dagFileRecords.ts';
import { registerJob } from '../../db/models/job.ts';
import { deferTaskInstance } from '../../db/models/trigger.ts';
import { claimTriggers } from '../../db/queries/claimTriggers.ts';
import { transitionTaskInstances } from '../../db/transitions.ts';
import { TimeDeltaSensor } from '../../operators/sensors/timeDeltaSensor.ts';
import { DateTimeTrigger } from '../../operators/triggers/temporalTrigger.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { PASSWORD, startTestApi } from '../helpers/api.ts';
import { launchBrowser, logIn } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const { knex } = db;
const config = await testConfig(tempDagsFolder(), db.url);
const DAG_ID = 'ui_deferred';
{
  const dag = new DAG({ dagId: DAG_ID });
  new TimeDeltaSensor({ dag, taskId: 'wait', delta: { hours: 1 }, deferrable: true });
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

describe('a deferred task instance', () => {
  it('shows its trigger, what it waits for, its timeout and its triggerer on the task-instance page and in REST', async () => {
    const run = await triggerDagRun(knex, { dagId: DAG_ID, now: new Date() });
    const ti = await knex('task_instance').where({ dag_id: DAG_ID, run_id: run.run_id, task_id: 'wait' }).first();
    const now = new Date();
    for (const to of ['scheduled', 'queued', 'running'] as const) await transitionTaskInstances(knex, [ti.id], { to, now });
    const moment = new Date(now.getTime() + 3_600_000);
    const timeoutAt = new Date(now.getTime() + 7_200_000);
    const { classpath, kwargs } = new DateTimeTrigger({ moment }).serialize();
    await knex.transaction((trx) => deferTaskInstance(trx, ti, { classpath, kwargs, method: 'executeComplete', methodKwargs: {}, timeoutAt }, now));
    const jobId = await registerJob(knex, 'TriggererJob');
    expect(await claimTriggers(knex, { triggererId: jobId, capacity: 10, healthThresholdMs: 30_000 })).toHaveLength(1);

    const page = await browser.newPage();
    try {
      await logIn(page, api.url, 'viewer', PASSWORD);
      await page.goto(`${api.url}/dags/${DAG_ID}/runs/${encodeURIComponent(run.run_id)}/tasks/wait`);
      expect(await page.locator('#ti-state').textContent()).toBe('deferred');
      expect(await page.locator('[data-trigger]').getAttribute('data-trigger')).toBe('airflow.triggers.temporal.DateTimeTrigger');
      expect(JSON.parse((await page.locator('[data-trigger-kwargs]').textContent())!)).toEqual({ moment: moment.toISOString() });
      expect(await page.locator('[data-trigger-timeout]').getAttribute('data-trigger-timeout')).toBe(timeoutAt.toISOString());
      expect(await page.locator('[data-triggerer]').textContent()).toContain(`job ${jobId}`);
    } finally {
      await page.close();
    }

    const response = await api.call('GET', `/dags/${DAG_ID}/dagRuns/${encodeURIComponent(run.run_id)}/taskInstances/wait`);
    expect(response.status).toBe(200);
    const json = response.json as { state: string; trigger: Record<string, unknown>; triggerer_job: Record<string, unknown> };
    expect(json.state).toBe('deferred');
    expect(json.trigger).toMatchObject({ classpath: 'airflow.triggers.temporal.DateTimeTrigger', triggerer_id: jobId });
    expect(JSON.parse(json.trigger.kwargs as string)).toEqual({ moment: moment.toISOString() });
    expect(json.triggerer_job).toMatchObject({ id: jobId, job_type: 'TriggererJob', state: 'running' });
    const list = await api.call('GET', `/dags/${DAG_ID}/dagRuns/${encodeURIComponent(run.run_id)}/taskInstances`);
    expect((list.json as { task_instances: { trigger: { classpath: string } | null }[] }).task_instances.map((t) => t.trigger?.classpath)).toEqual([
      'airflow.triggers.temporal.DateTimeTrigger',
    ]);
  });
});
