import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { registerJob } from '../../db/models/job.ts';
import { transitionTaskInstance } from '../../db/transitions.ts';
import { InProcessExecutor } from '../../executors/inProcessExecutor.ts';
import { failZombies } from '../../scheduler/executorEvents.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { startWebserver } from '../../webserver/startWebserver.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { registerDag } from '../helpers/dags.ts';
import { testConfig } from '../helpers/runtime.ts';

// Item 8 of issue 12: liveness (job heartbeats, live schedulers, zombies) is judged by the
// database's clock, so a host whose clock is off by an hour misjudges nothing.
const db = await createTestDatabase();
const HOUR = 3_600_000;
const clockOff = (ms: number) => () => new Date(Date.now() + ms);
const config = await testConfig(tempDagsFolder(), db.url);
const logger = memoryLogger();

function schedulerWithClock(offsetMs: number): Scheduler {
  return new Scheduler({ knex: db.knex, config, executor: new InProcessExecutor({ knex: db.knex, config, logger }), logger, now: clockOff(offsetMs) });
}

async function taskInstanceIn(dagId: string, state: 'queued' | 'running') {
  await registerDag(db.knex, { dagId }, { only: {} }, { paused: true });
  await triggerDagRun(db.knex, { dagId, now: new Date() });
  const ti = await db.knex('task_instance').where({ dag_id: dagId }).first();
  for (const to of ['scheduled', 'queued', ...(state === 'running' ? ['running' as const] : [])] as const)
    await transitionTaskInstance(db.knex, ti.id, { to, now: new Date() });
  return ti as { id: number };
}

describe('liveness by the database clock', () => {
  it('a scheduler whose host clock runs an hour behind is alive to one whose clock runs an hour ahead: its queued task instances are not taken over', async () => {
    const behind = schedulerWithClock(-HOUR);
    await behind.start();
    const ahead = schedulerWithClock(HOUR);
    try {
      const job = await db.knex('job').where('id', behind.id).first(db.knex.raw('EXTRACT(EPOCH FROM (now() - latest_heartbeat)) AS age_s'));
      expect(Math.abs(Number(job.age_s))).toBeLessThan(60); // written by the database, not an hour in the past

      const ti = await taskInstanceIn('owned_by_behind', 'queued');
      await db.knex('task_instance').where('id', ti.id).update({ queued_by_job_id: behind.id });
      await ahead.start(); // looks for orphans of schedulers that stopped heartbeating
      expect(await db.knex('task_instance').where('id', ti.id).first('state', 'queued_by_job_id')).toEqual({ state: 'queued', queued_by_job_id: behind.id });
    } finally {
      await ahead.stop(5_000);
      await behind.stop(5_000);
    }
  });

  it('zombie detection measures heartbeat age by the database clock, whatever the scheduler host thinks the time is', async () => {
    const fresh = await taskInstanceIn('fresh_heartbeat', 'running');
    const stale = await taskInstanceIn('stale_heartbeat', 'running');
    await db
      .knex('task_instance')
      .where('id', stale.id)
      .update({ last_heartbeat_at: db.knex.raw("now() - interval '10 minutes'") });

    // A host an hour ahead would call every running task a zombie; one an hour behind would call none.
    expect(await failZombies(db.knex, { now: clockOff(HOUR)(), thresholdMs: 300_000, logger })).toBe(1);
    expect(await failZombies(db.knex, { now: clockOff(-HOUR)(), thresholdMs: 300_000, logger })).toBe(0);
    expect((await db.knex('task_instance').where('id', fresh.id).first('state')).state).toBe('running');
    expect((await db.knex('task_instance').where('id', stale.id).first('state')).state).toBe('failed');
  });

  it("/health calls a scheduler healthy by the age of its heartbeat on the database clock, whatever the webserver host's clock says", async () => {
    await db.knex('job').update({ state: 'success' });
    const jobId = await registerJob(db.knex, 'SchedulerJob', 'LocalExecutor');
    const server = await startWebserver({ knex: db.knex, config, logger, port: 0, host: '127.0.0.1', now: clockOff(HOUR) });
    try {
      const health = await (await fetch(`${server.url}/api/v1/health`)).json();
      expect(health.scheduler.status).toBe('healthy');
      await db
        .knex('job')
        .where('id', jobId)
        .update({ latest_heartbeat: db.knex.raw("now() - interval '10 minutes'") });
      const stale = await (await fetch(`${server.url}/api/v1/health`)).json();
      expect(stale.scheduler.status).toBe('unhealthy');
    } finally {
      await server.stop();
    }
  });
});
