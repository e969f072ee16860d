import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { rescheduleTaskInstance } from '../../db/models/taskReschedule.ts';
import { transitionTaskInstances } from '../../db/transitions.ts';
import { InProcessExecutor } from '../../executors/inProcessExecutor.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { dagSource, tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const dags = tempDagsFolder();
writeDag(dags, 'sensing.ts', dagSource('sensing', ['wait']));
const config = await testConfig(dags, db.url, { AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '600' });
await parseDags(config, db.knex);
const T = new Date('2030-01-01T00:00:10Z');
let now = new Date('2030-01-01T00:00:00Z');
const logger = memoryLogger();
// Not started: only its sleep rule is exercised, with the clock in the test's hand.
const scheduler = new Scheduler({ knex: db.knex, config, executor: new InProcessExecutor({ knex: db.knex, config, logger }), logger, now: () => now });
const untilNextReschedule = (idleMs: number, fullPassBegan: Date | null): Promise<number> => scheduler['untilNextReschedule'](idleMs, fullPassBegan);

describe("the scheduler's sleep and a sensor's next poke", () => {
  it('sleeps only until the next poke, then asks for a full pass; a reschedule that a full pass already saw due does not make it spin', async () => {
    expect(await untilNextReschedule(600_000, null)).toBe(600_000); // no sensor waits
    const run = await triggerDagRun(db.knex, { dagId: 'sensing', now });
    const ti = await db.knex('task_instance').where({ dag_id: 'sensing', run_id: run.run_id, task_id: 'wait' }).first();
    for (const to of ['scheduled', 'queued', 'running'] as const) await transitionTaskInstances(db.knex, [ti.id], { to, now });
    await db.knex.transaction((trx) => rescheduleTaskInstance(trx, { ...ti, try_number: 1, start_date: now }, T, now));

    expect(await untilNextReschedule(600_000, now)).toBe(10_000);
    expect(scheduler['fullPassRequested']).toBe(true);
    scheduler['fullPassRequested'] = false;
    // The date passed while a full pass that began before it ran: a full pass at once (the race this guards).
    now = new Date(T.getTime() + 5);
    expect(await untilNextReschedule(600_000, new Date(T.getTime() - 5))).toBe(0);
    expect(scheduler['fullPassRequested']).toBe(true);
    scheduler['fullPassRequested'] = false;
    // A full pass that began after the date saw it due and left it: the idle sleep, no spinning.
    expect(await untilNextReschedule(600_000, new Date(T.getTime() + 1))).toBe(600_000);
    expect(scheduler['fullPassRequested']).toBe(false);
    // Further away than the idle sleep: the idle sleep.
    now = new Date(T.getTime() - 700_000);
    expect(await untilNextReschedule(600_000, null)).toBe(600_000);
  });
});
