import type { Knex } from 'knex';
import type { TaskReschedules } from '../../core/taskContext.ts';
import type { TaskInstanceRow } from '../rows.ts';
import { transitionTaskInstances } from '../transitions.ts';

/**
 * The `task_reschedule` table (Airflow's TaskReschedule): a row each time a reschedule-mode sensor's try
 * ended as up_for_reschedule. The runner writes it with the state change; the scheduler reads the latest
 * row of a task instance's current try (ReadyToRescheduleDep), the sensor the rows behind its timeout.
 */

type Db = Knex | Knex.Transaction;

export interface TaskRescheduleRow {
  id: number;
  ti_id: number;
  try_number: number;
  start_date: Date;
  end_date: Date;
  duration: number;
  reschedule_date: Date;
}

/**
 * Ends a running try as up_for_reschedule until `rescheduleDate` and records the poke (start = the try's
 * start_date). Both writes belong in the caller's one transaction. Returns null, writing nothing, when the
 * task instance was no longer running (cleared or marked meanwhile).
 */
export async function rescheduleTaskInstance(
  trx: Knex.Transaction,
  ti: Pick<TaskInstanceRow, 'id' | 'try_number' | 'start_date'>,
  rescheduleDate: Date,
  now: Date,
): Promise<TaskRescheduleRow | null> {
  const [moved] = await transitionTaskInstances(trx, [ti.id], { to: 'up_for_reschedule', from: ['running'], now });
  if (!moved) return null;
  const start = moved.start_date ?? ti.start_date ?? now;
  const [row] = await trx('task_reschedule')
    .insert({
      ti_id: ti.id,
      try_number: ti.try_number,
      start_date: start,
      end_date: now,
      duration: Math.max(0, (now.getTime() - start.getTime()) / 1000),
      reschedule_date: rescheduleDate,
    })
    .returning('*');
  return row as TaskRescheduleRow;
}

/**
 * What a reschedule-mode sensor needs of its earlier pokes: the start of the first poke of `firstTry` (the
 * first try since the last clear: its timeout counts from there, as Airflow's) and how often `tryNumber`
 * was rescheduled so far.
 */
export async function taskReschedulesOf(db: Db, tiId: number, firstTry: number, tryNumber: number): Promise<TaskReschedules> {
  const row = (await db('task_reschedule')
    .where('ti_id', tiId)
    .first(
      db.raw('min(start_date) FILTER (WHERE try_number = ?) AS first_start_date', [firstTry]),
      db.raw('count(*) FILTER (WHERE try_number = ?)::int AS count', [tryNumber]),
    )) as { first_start_date: Date | null; count: number } | undefined;
  return { firstStartDate: row?.first_start_date ?? null, count: row?.count ?? 0 };
}

/** When an up_for_reschedule task instance pokes next: its try's latest reschedule date (the task-instance page). */
export async function nextPokeDate(db: Db, tiId: number, tryNumber: number): Promise<Date | null> {
  const row = await db('task_reschedule').where({ ti_id: tiId, try_number: tryNumber }).orderBy('id', 'desc').first('reschedule_date');
  return (row?.reschedule_date as Date | undefined) ?? null;
}

/** The rows of a task instance's try, oldest first (tests). */
export function taskReschedulesOfTry(db: Db, tiId: number, tryNumber: number): Promise<TaskRescheduleRow[]> {
  return db<TaskRescheduleRow>('task_reschedule').where({ ti_id: tiId, try_number: tryNumber }).orderBy('id');
}

/**
 * SQL for "the reschedule date of this up_for_reschedule task instance" (its current try's latest row), as
 * a column of a query over `task_instance ti`; null for other states.
 */
export const RESCHEDULE_DATE_COLUMN = `CASE WHEN ti.state = 'up_for_reschedule' THEN (
    SELECT tr.reschedule_date FROM task_reschedule tr
     WHERE tr.ti_id = ti.id AND tr.try_number = ti.try_number ORDER BY tr.id DESC LIMIT 1) END AS reschedule_date`;

/**
 * The earliest reschedule date of any up_for_reschedule task instance (of `dagIds` when given), so the
 * scheduler can sleep until then rather than its whole idle time. Null when none waits.
 */
export async function earliestRescheduleDate(db: Db, dagIds?: readonly string[]): Promise<Date | null> {
  const { rows } = await db.raw(
    `SELECT min(tr.reschedule_date) AS at
       FROM task_instance ti
       JOIN LATERAL (SELECT reschedule_date FROM task_reschedule tr
                      WHERE tr.ti_id = ti.id AND tr.try_number = ti.try_number ORDER BY tr.id DESC LIMIT 1) tr ON true
      WHERE ti.state = 'up_for_reschedule'${dagIds ? ' AND ti.dag_id = ANY(?)' : ''}`,
    dagIds ? [[...dagIds]] : [],
  );
  return (rows[0]?.at as Date | null) ?? null;
}
