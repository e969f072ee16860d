import { copyFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { transitionTaskInstance } from '../../db/transitions.ts';
import { workloadOf } from '../../db/taskWorkload.ts';
import type { ExecutorEvent } from '../../executors/base.ts';
import { InProcessExecutor } from '../../executors/inProcessExecutor.ts';
import { applyExecutorEvents } from '../../scheduler/executorEvents.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const dags = tempDagsFolder();
copyFileSync(fileURLToPath(new URL('../fixtures/runs/behaviours.ts', import.meta.url)), path.join(dags, 'behaviours.ts'));
const config = await testConfig(dags, db.url);
await parseDags(config, db.knex);

describe('InProcessExecutor', () => {
  // The scheduler may schedule and queue the retry before it drains the event of the try that failed
  // (the runner records up_for_retry, then the executor reports): an event that did not name its try
  // failed the retry too, and the task ended on try 3 (the flaky "succeeds on the second try" test).
  it('names the try in its events, so the report of a failed try never fails its retry', async () => {
    const counter = path.join(mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-counter-')), 'tries');
    const run = await triggerDagRun(db.knex, { dagId: 'retrying', conf: { counter }, now: new Date() });
    const ti = await db.knex('task_instance').where({ dag_id: 'retrying', run_id: run.run_id, task_id: 'flaky' }).first('id');
    await transitionTaskInstance(db.knex, ti.id, { to: 'scheduled', now: new Date() });
    const queued = await transitionTaskInstance(db.knex, ti.id, { to: 'queued', now: new Date() });

    const executor = new InProcessExecutor({ knex: db.knex, config, logger: memoryLogger() });
    const events: ExecutorEvent[] = [];
    executor.queue(workloadOf(queued!));
    await eventually('the event of try 1', () => (events.push(...executor.drainEvents()), events.length > 0));
    await executor.end();
    expect(events).toEqual([{ tiId: ti.id, outcome: 'failed', info: 'up_for_retry', tryNumber: 1 }]);

    // The retry is scheduled and queued before the scheduler gets to that event.
    await transitionTaskInstance(db.knex, ti.id, { to: 'scheduled', now: new Date() });
    await transitionTaskInstance(db.knex, ti.id, { to: 'queued', now: new Date() });
    expect(await applyExecutorEvents(db.knex, events, { now: new Date(), logger: memoryLogger() })).toMatchObject({ failed: 0 });
    expect(await db.knex('task_instance').where('id', ti.id).first('state', 'try_number')).toEqual({ state: 'queued', try_number: 2 });
  });
});
