import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { claimScheduledTaskInstances } from '../../db/queries/claimScheduledTaskInstances.ts';
import { transitionTaskInstance } from '../../db/transitions.ts';
import type { TaskInstanceRow } from '../../db/rows.ts';
import { createDueDagRuns } from '../../scheduler/createDueDagRuns.ts';
import { scheduleDagRuns } from '../../scheduler/scheduleDagRuns.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';

const db = await createTestDatabase();
const knex = db.knex;
const logger = memoryLogger();
const NOW = new Date('2025-06-04T10:30:00Z');
const THREE_DAYS_AGO = new Date('2025-06-01T00:00:00Z');

const createRuns = (now = NOW) => createDueDagRuns(knex, { now, catchupByDefault: true, maxActiveRunsPerDag: 16, jobId: null, logger });
const schedule = (now = NOW, dagIds?: string[]) => scheduleDagRuns(knex, { now, maxActiveRunsPerDag: 16, logger, dagIds });
const states = async (dagId: string, runId: string) =>
  Object.fromEntries(((await knex('task_instance').where({ dag_id: dagId, run_id: runId })) as TaskInstanceRow[]).map((ti) => [ti.task_id, ti.state]));
const tiId = async (dagId: string, runId: string, taskId: string) =>
  (await knex('task_instance').where({ dag_id: dagId, run_id: runId, task_id: taskId }).first('id')).id as number;

/** Plays the executor's and task runner's part: scheduled -> queued -> running -> `to`. */
async function finishTask(dagId: string, runId: string, taskId: string, to: 'success' | 'failed' | 'skipped' | 'running', now = NOW) {
  const id = await tiId(dagId, runId, taskId);
  await transitionTaskInstance(knex, id, { to: 'queued', now });
  await transitionTaskInstance(knex, id, { to: 'running', now });
  if (to !== 'running') await transitionTaskInstance(knex, id, { to, now });
}

describe('scheduled dag runs', () => {
  it('an unpaused @daily DAG with catchup and a startDate three days ago gets exactly 3 runs', async () => {
    await registerDag(knex, { dagId: 'catchup_on', schedule: '@daily', startDate: THREE_DAYS_AGO, catchup: true }, { only: {} }, { now: NOW });
    const created = await createRuns();
    expect(
      created.map((r) => [
        r.run_id,
        r.logical_date.toISOString(),
        r.data_interval_start?.toISOString(),
        r.data_interval_end?.toISOString(),
        r.run_type,
        r.state,
      ]),
    ).toEqual([
      ['scheduled__2025-06-01T00:00:00+00:00', '2025-06-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z', '2025-06-02T00:00:00.000Z', 'scheduled', 'queued'],
      ['scheduled__2025-06-02T00:00:00+00:00', '2025-06-02T00:00:00.000Z', '2025-06-02T00:00:00.000Z', '2025-06-03T00:00:00.000Z', 'scheduled', 'queued'],
      ['scheduled__2025-06-03T00:00:00+00:00', '2025-06-03T00:00:00.000Z', '2025-06-03T00:00:00.000Z', '2025-06-04T00:00:00.000Z', 'scheduled', 'queued'],
    ]);
    expect(await createRuns()).toEqual([]); // nothing more is due until midnight
    const dag = await knex('dag').where('dag_id', 'catchup_on').first('next_dagrun', 'next_dagrun_create_after');
    expect(dag).toEqual({ next_dagrun: new Date('2025-06-04T00:00:00Z'), next_dagrun_create_after: new Date('2025-06-05T00:00:00Z') });
    expect(await createRuns(new Date('2025-06-05T00:00:00Z'))).toHaveLength(1);
  });

  it('catchup off creates only the latest complete interval; paused DAGs get none; maxActiveRuns caps creation', async () => {
    await registerDag(knex, { dagId: 'catchup_off', schedule: '@daily', startDate: THREE_DAYS_AGO, catchup: false }, { only: {} }, { now: NOW });
    await registerDag(knex, { dagId: 'paused', schedule: '@daily', startDate: THREE_DAYS_AGO }, { only: {} }, { now: NOW, paused: true });
    await registerDag(knex, { dagId: 'capped', schedule: '@daily', startDate: THREE_DAYS_AGO, maxActiveRuns: 2 }, { only: {} }, { now: NOW });
    const created = await createRuns();
    const byDag = (id: string) => created.filter((r) => r.dag_id === id).map((r) => r.logical_date.toISOString());
    expect(byDag('catchup_off')).toEqual(['2025-06-03T00:00:00.000Z']);
    expect(byDag('paused')).toEqual([]);
    expect(byDag('capped')).toEqual(['2025-06-01T00:00:00.000Z', '2025-06-02T00:00:00.000Z']);
  });
});

describe('scheduling decisions', () => {
  it('runs a chain in order and finishes the run as success', async () => {
    await registerDag(knex, { dagId: 'chain' }, { a: {}, b: { upstream: ['a'] }, c: { upstream: ['b'] } });
    const run = await triggerDagRun(knex, { dagId: 'chain', now: NOW });
    expect(run.run_id).toBe('manual__2025-06-04T10:30:00+00:00');
    await schedule(NOW, ['chain']);
    expect(await states('chain', run.run_id)).toEqual({ a: 'scheduled', b: null, c: null });
    await finishTask('chain', run.run_id, 'a', 'success');
    await schedule(NOW, ['chain']);
    expect(await states('chain', run.run_id)).toEqual({ a: 'success', b: 'scheduled', c: null });
    await finishTask('chain', run.run_id, 'b', 'success');
    await schedule(NOW, ['chain']);
    await finishTask('chain', run.run_id, 'c', 'success');
    const pass = await schedule(NOW, ['chain']);
    expect(pass.finished.map((r) => [r.run_id, r.state])).toEqual([[run.run_id, 'success']]);
  });

  it('propagates a failure down the chain as upstream_failed in one pass, and fails the run', async () => {
    await registerDag(
      knex,
      { dagId: 'failing' },
      { a: {}, b: { upstream: ['a'] }, c: { upstream: ['b'] }, cleanup: { upstream: ['c'], triggerRule: 'all_done' } },
    );
    const run = await triggerDagRun(knex, { dagId: 'failing', now: NOW });
    await schedule(NOW, ['failing']);
    await finishTask('failing', run.run_id, 'a', 'failed');
    await schedule(NOW, ['failing']);
    expect(await states('failing', run.run_id)).toEqual({ a: 'failed', b: 'upstream_failed', c: 'upstream_failed', cleanup: 'scheduled' });
    await finishTask('failing', run.run_id, 'cleanup', 'success');
    const pass = await schedule(NOW, ['failing']);
    // The only leaf (cleanup) succeeded: Airflow judges the run by its leaves.
    expect(pass.finished.map((r) => r.state)).toEqual(['success']);
  });

  it('skips propagate through all_success and stop at none_failed_min_one_success joins', async () => {
    await registerDag(
      knex,
      { dagId: 'branchy' },
      {
        pick: {},
        left: { upstream: ['pick'] },
        right: { upstream: ['pick'] },
        join: { upstream: ['left', 'right'], triggerRule: 'none_failed_min_one_success' },
      },
    );
    const run = await triggerDagRun(knex, { dagId: 'branchy', now: NOW });
    await schedule(NOW, ['branchy']);
    await finishTask('branchy', run.run_id, 'pick', 'success');
    await schedule(NOW, ['branchy']);
    await finishTask('branchy', run.run_id, 'left', 'success');
    await finishTask('branchy', run.run_id, 'right', 'skipped');
    await schedule(NOW, ['branchy']);
    expect(await states('branchy', run.run_id)).toMatchObject({ join: 'scheduled' });
  });

  it('enforces dagrunTimeout: the run fails and its unfinished tasks are skipped', async () => {
    await registerDag(knex, { dagId: 'timeout', dagrunTimeout: { minutes: 5 } }, { slow: {}, after: { upstream: ['slow'] } });
    const run = await triggerDagRun(knex, { dagId: 'timeout', now: NOW });
    await schedule(NOW, ['timeout']);
    await finishTask('timeout', run.run_id, 'slow', 'running');
    const later = new Date(NOW.getTime() + 6 * 60_000);
    const pass = await schedule(later, ['timeout']);
    expect(pass.finished.map((r) => r.state)).toEqual(['failed']);
    expect(await states('timeout', run.run_id)).toEqual({ slow: 'skipped', after: 'skipped' });
  });

  it('waits out the retry delay of an up_for_retry task, then schedules it with the next try number', async () => {
    await registerDag(knex, { dagId: 'retrying' }, { flaky: { retries: 1, retryDelay: { minutes: 5 } } });
    const run = await triggerDagRun(knex, { dagId: 'retrying', now: NOW });
    await schedule(NOW, ['retrying']);
    const id = await tiId('retrying', run.run_id, 'flaky');
    expect((await knex('task_instance').where('id', id).first('try_number')).try_number).toBe(1);
    await finishTask('retrying', run.run_id, 'flaky', 'running');
    await transitionTaskInstance(knex, id, { to: 'up_for_retry', now: NOW, set: { next_retry_at: new Date(NOW.getTime() + 300_000) } });
    await schedule(new Date(NOW.getTime() + 299_000), ['retrying']);
    expect(await states('retrying', run.run_id)).toEqual({ flaky: 'up_for_retry' });
    await schedule(new Date(NOW.getTime() + 300_000), ['retrying']);
    expect(await knex('task_instance').where('id', id).first('state', 'try_number')).toEqual({ state: 'scheduled', try_number: 2 });
  });
});

describe('claiming scheduled task instances', () => {
  it('respects pool slots, maxActiveTasks and priority order, and never exceeds a pool under two concurrent claimers', async () => {
    await knex('slot_pool').insert({ pool: 'tiny', slots: 2 });
    const tasks = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`t${i}`, { pool: 'tiny', priorityWeight: i }]));
    await registerDag(knex, { dagId: 'pooled' }, tasks);
    await registerDag(knex, { dagId: 'limited', maxActiveTasks: 1 }, { x: {}, y: {}, z: {} });
    for (const dagId of ['pooled', 'limited']) await triggerDagRun(knex, { dagId, now: NOW });
    await schedule(NOW, ['pooled', 'limited']);
    const claim = () => claimScheduledTaskInstances(knex, { slots: 10, maxActiveTasksPerDag: 16, jobId: null, now: NOW });
    const [first, second] = await Promise.all([claim(), claim()]);
    const claimed = [...first, ...second];
    const pooled = claimed
      .filter((ti) => ti.dag_id === 'pooled')
      .map((ti) => ti.task_id)
      .sort();
    expect(pooled).toEqual(['t4', 't5']); // the two highest priorities fill the two slots
    expect(claimed.filter((ti) => ti.dag_id === 'limited')).toHaveLength(1);
    expect(claimed.every((ti) => ti.state === 'queued' && ti.queued_dttm !== null)).toBe(true);
    expect(await claim()).toEqual([]); // all caps are full
  });

  it('takes the highest priority first, then the run with the earlier logical date, then the lower id, across runs and DAGs', async () => {
    // Each run's candidates come from its own index range (db/migrations/0006); the order across runs must stay the claim's.
    await registerDag(knex, { dagId: 'order_a' }, { low: {}, high: { priorityWeight: 5 }, mid: { priorityWeight: 3 } });
    await registerDag(knex, { dagId: 'order_b' }, { only: { priorityWeight: 3 } });
    const runs = [
      await triggerDagRun(knex, { dagId: 'order_a', runId: 'later', logicalDate: new Date('2025-06-03T00:00:00Z'), now: NOW }),
      await triggerDagRun(knex, { dagId: 'order_a', runId: 'earlier', logicalDate: new Date('2025-06-02T00:00:00Z'), now: NOW }),
      await triggerDagRun(knex, { dagId: 'order_b', runId: 'middle', logicalDate: new Date('2025-06-02T12:00:00Z'), now: NOW }),
    ];
    expect(runs).toHaveLength(3);
    await schedule(NOW, ['order_a', 'order_b']);
    const order: string[] = [];
    for (;;) {
      const [ti, ...more] = await claimScheduledTaskInstances(knex, {
        slots: 1,
        maxActiveTasksPerDag: 16,
        jobId: null,
        now: NOW,
        dagIds: ['order_a', 'order_b'],
      });
      expect(more).toEqual([]);
      if (!ti) break;
      order.push(`${ti.run_id}.${ti.task_id}`);
    }
    expect(order).toEqual(['earlier.high', 'later.high', 'earlier.mid', 'middle.only', 'later.mid', 'earlier.low', 'later.low']);
  });
});
