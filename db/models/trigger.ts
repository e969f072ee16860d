import type { Knex } from 'knex';
import { FAIL_METHOD, TRIGGER_TIMEOUT_ERROR } from '../../core/trigger.ts';
import { notifyScheduler } from '../notifications.ts';
import type { TaskInstanceRow } from '../rows.ts';
import { resumeDeferredTaskInstances, transitionTaskInstances, type Resume } from '../transitions.ts';

/**
 * The `trigger` table (Airflow's Trigger model): what a deferred task waits for, as a classpath and JSON
 * kwargs, and which triggerer (its job id) runs it. A trigger lives from the defer that writes it (in the
 * transaction that makes its task instance deferred) until it fires, fails, or no deferred task instance
 * points at it any more (cleared, marked, timed out): then a triggerer deletes it. ADR 0020.
 */

type Db = Knex | Knex.Transaction;

export interface TriggerRow {
  id: number;
  classpath: string;
  kwargs: Record<string, unknown>;
  created_date: Date;
  triggerer_id: number | null;
}

export interface Deferral {
  classpath: string;
  kwargs: Record<string, unknown>;
  method: string;
  /** The defer's kwargs for the method; the event is added under `event` when it fires. */
  methodKwargs: Record<string, unknown>;
  timeoutAt: Date | null;
}

/**
 * Ends a running try as deferred and writes its trigger, in the caller's transaction. Returns null,
 * writing nothing, when the task instance was no longer running (cleared or marked meanwhile).
 */
export async function deferTaskInstance(
  trx: Knex.Transaction,
  ti: Pick<TaskInstanceRow, 'id'>,
  deferral: Deferral,
  now: Date,
): Promise<TaskInstanceRow | null> {
  const [trigger] = await trx('trigger')
    .insert({ classpath: deferral.classpath, kwargs: JSON.stringify(deferral.kwargs), created_date: now })
    .returning('id');
  const [row] = await transitionTaskInstances(trx, [ti.id], {
    to: 'deferred',
    from: ['running'],
    now,
    set: {
      trigger_id: (trigger as { id: number }).id,
      next_method: deferral.method,
      next_kwargs: JSON.stringify(deferral.methodKwargs) as unknown as Record<string, unknown>,
      trigger_timeout: deferral.timeoutAt,
    },
  });
  if (!row) {
    await trx('trigger')
      .where('id', (trigger as { id: number }).id)
      .delete();
    return null;
  }
  return row;
}

/** The ids of the triggers `triggererId` holds (it runs exactly these; any other it runs is no longer its own). */
export async function triggerIdsOf(db: Db, triggererId: number): Promise<number[]> {
  return (await db('trigger').where('triggerer_id', triggererId).pluck('id')).map(Number);
}

export async function triggersByIds(db: Db, ids: readonly number[]): Promise<TriggerRow[]> {
  if (ids.length === 0) return [];
  const rows = (await db('trigger').whereIn('id', ids)) as TriggerRow[];
  return rows.map((r) => ({ ...r, id: Number(r.id), triggerer_id: r.triggerer_id === null ? null : Number(r.triggerer_id) }));
}

/**
 * Resumes the task instances of triggers that fired or failed, if `triggererId` still holds them: one
 * transaction locks the triggers still ours, moves their task instances to scheduled (with the event or
 * the error), deletes the triggers and wakes the scheduler. Triggers no longer ours (re-claimed by another
 * triggerer after our heartbeat went stale, or deleted) are left alone: the one holder fires (ADR 0020).
 * Returns the ids of the triggers fired.
 */
export async function resumeFromTriggers(
  knex: Knex,
  triggererId: number,
  resumes: readonly Resume[],
  now: Date,
): Promise<{ fired: number[]; taskInstances: TaskInstanceRow[] }> {
  if (resumes.length === 0) return { fired: [], taskInstances: [] };
  return knex.transaction(async (trx) => {
    const ours = new Set(
      (
        await trx('trigger')
          .whereIn(
            'id',
            resumes.map((r) => r.triggerId),
          )
          .andWhere('triggerer_id', triggererId)
          .orderBy('id')
          .forUpdate()
          .pluck('id')
      ).map(Number),
    );
    const mine = resumes.filter((r) => ours.has(r.triggerId));
    const taskInstances = await resumeDeferredTaskInstances(trx, mine, now);
    await trx('trigger')
      .whereIn('id', [...ours])
      .delete();
    if (taskInstances.length > 0) await notifyScheduler(trx, 'trigger fired');
    return { fired: [...ours], taskInstances };
  });
}

/**
 * Deletes triggers no deferred task instance waits on (Airflow's Trigger.clean_unused): their task was
 * cleared, marked, timed out or its run ended. A triggerer running one stops it when it is gone.
 */
export async function deleteUnusedTriggers(db: Db): Promise<number> {
  return db('trigger')
    .whereNotExists((q) => q.select(db.raw('1')).from('task_instance as ti').whereRaw('ti.trigger_id = trigger.id').andWhere('ti.state', 'deferred'))
    .delete();
}

/**
 * Deferred task instances past their trigger_timeout go back to scheduled to fail in a worker with
 * TaskDeferralTimeout (Airflow's check_trigger_timeouts, run by the scheduler). Returns how many moved.
 */
export async function failTimedOutDeferrals(db: Db, now: Date): Promise<TaskInstanceRow[]> {
  const ids = (await db('task_instance').where('state', 'deferred').andWhere('trigger_timeout', '<', now).pluck('id')).map(Number);
  return transitionTaskInstances(db, ids, {
    to: 'scheduled',
    from: ['deferred'],
    now,
    set: {
      trigger_id: null,
      trigger_timeout: null,
      next_method: FAIL_METHOD,
      next_kwargs: JSON.stringify({ error: TRIGGER_TIMEOUT_ERROR }) as unknown as Record<string, unknown>,
    },
  });
}

/** The earliest trigger_timeout of a deferred task instance (the scheduler wakes for it), or null. */
export async function earliestTriggerTimeout(db: Db): Promise<Date | null> {
  const row = await db('task_instance').where('state', 'deferred').min('trigger_timeout as at').first();
  return (row?.at as Date | null | undefined) ?? null;
}

/** A triggerer stopping hands its triggers back, so another claims them at once rather than after the health threshold. */
export async function releaseTriggers(db: Db, triggererId: number): Promise<number> {
  return db('trigger').where('triggerer_id', triggererId).update({ triggerer_id: null });
}

/** The triggerer job holding a trigger, as REST shows it (Airflow's Job). */
export interface TriggererJobRow {
  id: number;
  state: string | null;
  job_type: string | null;
  start_date: Date | null;
  end_date: Date | null;
  latest_heartbeat: Date | null;
  executor_class: string | null;
  hostname: string | null;
}

/** The triggers (and their triggerers' jobs) of task instances that have one, by task instance id, in one query: for REST lists. */
export async function deferralsOf(
  db: Db,
  tis: readonly { id: number; trigger_id: number | null }[],
): Promise<Map<number, { trigger: TriggerRow; job: TriggererJobRow | null }>> {
  const ids = tis.filter((ti) => ti.trigger_id !== null && ti.trigger_id !== undefined).map((ti) => ti.id);
  if (ids.length === 0) return new Map();
  const rows = await db('task_instance as ti')
    .join('trigger as t', 't.id', 'ti.trigger_id')
    .leftJoin('job as j', 'j.id', 't.triggerer_id')
    .whereIn('ti.id', ids)
    .select(
      'ti.id as ti_id',
      't.id',
      't.classpath',
      't.kwargs',
      't.created_date',
      't.triggerer_id',
      'j.state as job_state',
      'j.job_type',
      'j.start_date as job_start_date',
      'j.end_date as job_end_date',
      'j.latest_heartbeat',
      'j.executor_class',
      'j.hostname',
    );
  return new Map(
    rows.map((r) => [
      Number(r.ti_id),
      {
        trigger: {
          id: Number(r.id),
          classpath: r.classpath,
          kwargs: r.kwargs,
          created_date: r.created_date,
          triggerer_id: r.triggerer_id === null ? null : Number(r.triggerer_id),
        },
        job:
          r.triggerer_id === null || r.job_type === null
            ? null
            : {
                id: Number(r.triggerer_id),
                state: r.job_state,
                job_type: r.job_type,
                start_date: r.job_start_date,
                end_date: r.job_end_date,
                latest_heartbeat: r.latest_heartbeat,
                executor_class: r.executor_class,
                hostname: r.hostname,
              },
      },
    ]),
  );
}
