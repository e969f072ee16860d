import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { InProcessExecutor } from '../../executors/inProcessExecutor.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { dagSource, tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
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
    // The first full pass has run; give the loop a moment to fall asleep on its 10-minute timer.
    await new Promise((r) => setTimeout(r, 200));
    const run = await triggerDagRun(db.knex, { dagId: 'woken', now: new Date() });
    const deadline = Date.now() + 30_000;
    let state = run.state as string;
    while (state !== 'success' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      state = (await db.knex('dag_run').where('id', run.id).first('state')).state;
    }
    expect(state).toBe('success');
  });
});
