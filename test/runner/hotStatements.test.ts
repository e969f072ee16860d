import { describe, expect, it } from 'vitest';
import { lockRunningDagRunSkipLocked } from '../../db/models/dagRun.ts';
import { recordSuccess } from '../../db/queries/recordSuccess.ts';
import { startTaskInstance } from '../../db/queries/startTaskInstance.ts';
import { transitionTaskInstance } from '../../db/transitions.ts';
import type { TaskInstanceRow } from '../../db/rows.ts';
import { pullXComs, pushXCom } from '../../db/models/xcom.ts';
import { startNextReserved } from '../../runner/miniScheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';

/**
 * The worker's one-statement transitions (db/queries/) must write what db/transitions.ts writes,
 * guard on the same states, and keep XComs and starts tied to the success they come with.
 */
const db = await createTestDatabase();
const knex = db.knex;
const T0 = new Date('2025-06-04T10:00:00.000Z');
const T1 = new Date('2025-06-04T10:00:02.500Z');

async function freshRun(dagId: string) {
  await registerDag(knex, { dagId }, { a: {}, b: {}, c: { upstream: ['a'] } });
  const run = await triggerDagRun(knex, { dagId, now: T0 });
  const tis = (await knex('task_instance').where({ dag_id: dagId, run_id: run.run_id }).orderBy('task_id')) as TaskInstanceRow[];
  const byTask = Object.fromEntries(tis.map((ti) => [ti.task_id, ti])) as Record<'a' | 'b' | 'c', TaskInstanceRow>;
  await knex('dag_run').where('id', run.id).update({ state: 'running' });
  return { run, ...byTask };
}

const row = (id: number) => knex('task_instance').where('id', id).first() as Promise<TaskInstanceRow>;
const toQueued = async (id: number) => {
  await transitionTaskInstance(knex, id, { to: 'scheduled', now: T0 });
  await transitionTaskInstance(knex, id, { to: 'queued', now: T0 });
};
/** The columns a transition writes, without the row's identity (the heartbeat is the database's now(), so only whether it is set). */
const written = ({ state, start_date, end_date, duration, hostname, pid, last_heartbeat_at, updated_at, try_number }: TaskInstanceRow) => ({
  state,
  start_date,
  end_date,
  duration,
  hostname,
  pid,
  heartbeat: last_heartbeat_at !== null,
  updated_at,
  try_number,
});

describe('hot statements', () => {
  it('start and success write the same columns as transitionTaskInstances', async () => {
    const { a, b } = await freshRun('same_columns');
    for (const ti of [a, b]) await toQueued(ti.id);
    await transitionTaskInstance(knex, a.id, { to: 'running', now: T0, set: { hostname: 'h', pid: 1 } });
    const started = await startTaskInstance(knex, b, T0);
    expect(started?.ti.id).toBe(b.id);
    await knex('task_instance').where('id', b.id).update({ hostname: 'h', pid: 1 }); // the statement writes this host and pid
    expect(written(await row(b.id))).toEqual(written(await row(a.id)));

    await transitionTaskInstance(knex, a.id, { to: 'success', now: T1 });
    const recorded = await recordSuccess(knex, { ti: b, dagRunId: 0, now: T1, xcomJson: null });
    expect(recorded).toMatchObject({ recorded: true, started: null, runTis: null });
    expect(written(await row(b.id))).toEqual(written(await row(a.id)));
    expect((await row(b.id)).duration).toBe(2.5);
  });

  it('a success records its XCom and starts the next reservation; one that lost the race writes nothing', async () => {
    const { run, a, b } = await freshRun('with_next');
    for (const ti of [a, b]) await toQueued(ti.id);
    await knex('variable').insert({ key: 'greeting', val: 'hi' });
    const first = await startTaskInstance(knex, a, T0);
    expect(first?.variables.get('greeting')).toEqual({ val: 'hi', is_encrypted: false }); // as stored; decrypted when the task reads it
    const recorded = await recordSuccess(knex, { ti: a, dagRunId: run.id, now: T1, xcomJson: JSON.stringify({ rows: 3 }), start: b });
    expect(recorded.recorded).toBe(true);
    expect(recorded.started?.ti).toMatchObject({ id: b.id, state: 'running', start_date: T1 });
    expect(recorded.started?.variables.get('greeting')).toEqual({ val: 'hi', is_encrypted: false });
    expect(await pullXComs(knex, run.id, ['a'])).toEqual([{ rows: 3 }]);

    // b was cleared while it ran (restarting): its success and XCom are not recorded.
    await transitionTaskInstance(knex, b.id, { to: 'restarting', now: T1 });
    const lost = await recordSuccess(knex, { ti: b, dagRunId: run.id, now: T1, xcomJson: '1' });
    expect(lost).toMatchObject({ recorded: false, started: null });
    expect((await row(b.id)).state).toBe('restarting');
    expect(await pullXComs(knex, run.id, ['b'])).toEqual([undefined]);
    // A start of something not queued starts nothing.
    expect(await startTaskInstance(knex, a, T1)).toBeNull();
  });

  it("a retry's start clears the XComs of its earlier tries", async () => {
    const { run, a } = await freshRun('retry_clears');
    await toQueued(a.id);
    await pushXCom(knex, { dagRunId: run.id, dagId: a.dag_id, runId: a.run_id, taskId: 'a', mapIndex: -1 }, 'return_value', 'old', 1000);
    expect((await startTaskInstance(knex, a, T0))?.ti.try_number).toBe(1);
    expect(await pullXComs(knex, run.id, ['a'])).toEqual(['old']); // a first try has no earlier XComs to clear
    await transitionTaskInstance(knex, a.id, { to: 'up_for_retry', now: T0 });
    await transitionTaskInstance(knex, a.id, { to: 'scheduled', now: T0 });
    await transitionTaskInstance(knex, a.id, { to: 'queued', now: T0 });
    expect((await startTaskInstance(knex, a, T1))?.ti.try_number).toBe(2);
    expect(await pullXComs(knex, run.id, ['a'])).toEqual([undefined]);
  });

  it('a start that fails keeps the reservation, so it is handed back rather than lost', async () => {
    const { a, b } = await freshRun('keeps');
    for (const ti of [a, b]) await toQueued(ti.id);
    const reserved = [a, b];
    await knex
      .transaction(async (trx) => {
        await trx.raw('SELECT 1/0').catch(() => {}); // the transaction is aborted: every statement now fails
        await expect(startNextReserved(trx, reserved, () => T1)).rejects.toThrow();
      })
      .catch(() => {});
    expect(reserved.map((ti) => ti.id)).toEqual([a.id, b.id]);
    await transitionTaskInstance(knex, a.id, { to: 'scheduled', now: T1 }); // someone else took a back
    expect((await startNextReserved(knex, reserved, () => T1))?.ti.id).toBe(b.id);
    expect(reserved).toEqual([]);
  });

  it("returns the run's task instances under the run's lock, and none while someone else holds it", async () => {
    const { run, a, b } = await freshRun('decide');
    for (const ti of [a, b]) await toQueued(ti.id);
    for (const ti of [a, b]) await transitionTaskInstance(knex, ti.id, { to: 'running', now: T0 });
    const recorded = await knex.transaction((trx) =>
      recordSuccess(trx, { ti: a, dagRunId: run.id, now: T1, xcomJson: null, decideRunId: run.id, claimLock: true }),
    );
    expect(Object.fromEntries(recorded.runTis!.map((ti) => [ti.task_id, ti.state]))).toEqual({ a: 'success', b: 'running', c: null });

    const holder = await knex.transaction();
    try {
      expect(await lockRunningDagRunSkipLocked(holder, run.id)).toBeDefined(); // the scheduler deciding the run
      const skipped = await knex.transaction((trx) => recordSuccess(trx, { ti: b, dagRunId: run.id, now: T1, xcomJson: null, decideRunId: run.id }));
      expect(skipped).toMatchObject({ recorded: true, runTis: null });
    } finally {
      await holder.rollback();
    }
  });

  it("a worker's XCom for a run (its foreign key check locks the run FOR KEY SHARE) neither blocks nor hides the run from a scheduler deciding it", async () => {
    const { run } = await freshRun('fk');
    const worker = await knex.transaction();
    try {
      await pushXCom(worker, { dagRunId: run.id, dagId: run.dag_id, runId: run.run_id, taskId: 'a', mapIndex: -1 }, 'return_value', 1, 1000);
      const decided = await knex.transaction((trx) => lockRunningDagRunSkipLocked(trx, run.id));
      expect(decided?.id).toBe(run.id);
    } finally {
      await worker.rollback();
    }
  });
});
