import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { InProcessExecutor } from '../../executors/inProcessExecutor.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { dagSource, tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
// A scheduler that would sleep for ten minutes between passes: only a wake-up can make it act in time.
const dags = tempDagsFolder();
writeDag(dags, 'woken.ts', dagSource('woken', ['only']));
const config = await testConfig(dags, db.url, { AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '600' });
await parseDags(config, db.knex);
await db.knex('dag').where('dag_id', 'woken').update({ is_paused: false });
const logger = memoryLogger();
const scheduler = new Scheduler({ knex: db.knex, config, executor: new InProcessExecutor({ knex: db.knex, config, logger }), logger, listenUrl: db.url });
await scheduler.start();
afterAll(() => scheduler.stop(5_000));

describe('event-driven wake-ups', () => {
  it('a run triggered from another connection wakes the sleeping scheduler through NOTIFY', async () => {
    // Trigger only once the loop is asleep on its 10-minute timer (it holds a wake-up hook only while
    // sleeping), so that no pass already under way can pick the run up without the NOTIFY.
    await eventually('the scheduler to fall asleep', () => scheduler['sleeper'].asleep);
    const run = await triggerDagRun(db.knex, { dagId: 'woken', now: new Date() });
    const finished = await eventually(
      'the run to finish',
      async () => (await db.knex('dag_run').where('id', run.id).whereIn('state', ['success', 'failed']).first('state')) as { state: string } | undefined,
      30_000,
    );
    expect(finished.state).toBe('success');
  });
});
