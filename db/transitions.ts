import type { Knex } from 'knex';
import { IllegalStateTransitionError } from '../core/errors.ts';
import { DAG_RUN_TRANSITIONS, TI_TRANSITIONS, type DagRunState, type TiState } from '../core/state.ts';
import type { DagRunRow, TaskInstanceRow } from './rows.ts';

/**
 * The one place that writes the `state` column of task_instance and dag_run
 * (ADR 0002). Each call is one UPDATE whose WHERE clause names the states the
 * row may be in, taken from core/state.ts: a row that another process moved
 * first is simply not updated, so two writers can never both win.
 *
 * Functions take the caller's transaction (or knex) and never commit: the
 * caller decides what else belongs in the same transaction.
 */

type Db = Knex | Knex.Transaction;

export interface TiChange {
  to: TiState;
  /** Only from these states (a subset of what the table allows); default: every state the table allows. */
  from?: readonly TiState[];
  now: Date;
  /** Other columns to write in the same statement (e.g. hostname, next_retry_at). */
  set?: Partial<Omit<TaskInstanceRow, 'id' | 'state'>>;
}

/** States from which `to` may be entered, per TI_TRANSITIONS. */
export function tiStatesLeadingTo(to: TiState): TiState[] {
  return [...TI_TRANSITIONS].filter(([, targets]) => targets.has(to)).map(([from]) => from);
}

/**
 * Moves the task instances with the given ids to `change.to`, where their
 * current state allows it. Returns the rows changed (the others were in a
 * state that does not allow the move, typically because another process got
 * there first).
 */
export async function transitionTaskInstances(db: Db, ids: readonly number[], change: TiChange): Promise<TaskInstanceRow[]> {
  if (ids.length === 0) return [];
  const allowed = tiStatesLeadingTo(change.to).filter((s) => !change.from || change.from.includes(s));
  const states = allowed.filter((s): s is Exclude<TiState, null> => s !== null);
  const entering = tiEnteringSql(change.to, 'p.now');
  // `set` adds columns; those that follow from the state itself are the state's to write.
  const taken = new Set([...entering.matchAll(/(?:^|, )(\w+) = /g)].map((m) => m[1]));
  const extra = Object.entries(change.set ?? {}).filter(([column, value]) => value !== undefined && !taken.has(column));
  // Plain SQL with a text that depends only on the kind of move (no knex builder: this runs for every task).
  const { rows } = await db.raw(
    `WITH p AS (SELECT ?::timestamptz AS now)
     UPDATE task_instance ti SET ${entering}${extra.map(([column]) => `, "${column}" = ?`).join('')}
       FROM p
      WHERE ti.id = ANY(?) AND (ti.state = ANY(?)${allowed.includes(null) ? ' OR ti.state IS NULL' : ''})
      RETURNING ti.*`,
    [change.now, ...extra.map(([, value]) => value as Knex.RawBinding), [...ids], states],
  );
  return rows as TaskInstanceRow[];
}

/** What a deferral left on a task instance, forgotten when it is cleared or goes up for retry (Airflow's clear_next_method_args). */
const NO_DEFERRAL = 'trigger_id = NULL, next_method = NULL, next_kwargs = NULL, trigger_timeout = NULL';

/**
 * The SET list of a move to `to`: the state and the columns that follow from entering it (try
 * counting, timestamps, duration), with `now` the SQL expression of the time. Used by
 * transitionTaskInstances and by the hot statements in db/queries/ that combine a transition with other
 * work in one round trip (through tiTransitionSql), so both write the same.
 */
function tiEnteringSql(to: TiState, now: string): string {
  const state = to === null ? 'state = NULL' : `state = '${to}'`;
  switch (to) {
    case 'scheduled':
      // A new attempt starts when a task leaves none or up_for_retry; requeues and reschedules keep their try.
      return `${state}, try_number = ti.try_number + CASE WHEN ti.state IS NULL OR ti.state = 'up_for_retry' THEN 1 ELSE 0 END, next_retry_at = NULL, updated_at = ${now}`;
    case 'queued':
      return `${state}, queued_dttm = ${now}, updated_at = ${now}`;
    case 'running':
      // The heartbeat is judged by the database's clock (zombie detection), so it is written by it too.
      // A deferred task resuming (next_method set) continues its try: it keeps the try's start, as Airflow.
      return `${state}, start_date = CASE WHEN ti.next_method IS NULL THEN ${now} ELSE COALESCE(ti.start_date, ${now}) END, end_date = NULL, duration = NULL, last_heartbeat_at = now(), updated_at = ${now}`;
    case 'up_for_retry':
      // A new try starts from execute(), not from where a deferred try would have resumed.
      return `${state}, ${NO_DEFERRAL}, start_date = COALESCE(ti.start_date, ${now}), end_date = ${now}, duration = EXTRACT(EPOCH FROM (${now} - COALESCE(ti.start_date, ${now}))), updated_at = ${now}`;
    case null:
      return `${state}, ${NO_DEFERRAL}, updated_at = ${now}`;
    case 'success':
    case 'failed':
    case 'skipped':
    case 'upstream_failed':
    case 'up_for_reschedule':
    case 'removed':
      // Tasks that never ran (skipped, upstream_failed) get start = end, as in Airflow.
      return `${state}, start_date = COALESCE(ti.start_date, ${now}), end_date = ${now}, duration = EXTRACT(EPOCH FROM (${now} - COALESCE(ti.start_date, ${now}))), updated_at = ${now}`;
    default:
      return `${state}, updated_at = ${now}`;
  }
}

/**
 * For the hot statements in db/queries/ (an UPDATE of `task_instance ti`): the SET list of a move to
 * `to`, with `now` the SQL expression of the time, and the states the row may leave, for
 * `ti.state = ANY(...)`. The guard is what makes a concurrent writer lose cleanly, as above.
 */
export function tiTransitionSql(to: 'running' | 'success', now: string, from: readonly TiState[]): { set: string; from: string[] } {
  const allowed = tiStatesLeadingTo(to).filter((s): s is Exclude<TiState, null> => s !== null && from.includes(s));
  return { set: tiEnteringSql(to, now), from: allowed };
}

/**
 * For a task instance created straight into `scheduled` (a mapped task's expansion inserts thousands in
 * one statement): the columns that the move from none to scheduled writes and their values (a first
 * try), `now` the SQL time. Such a row is the one an insert with no state and that move would leave,
 * without writing a second version of every row (test/db/expandTaskInstance.test.ts compares the two).
 */
export function tiCreatedScheduledSql(now: string): { columns: string; values: string } {
  return { columns: 'state, try_number, next_retry_at, updated_at', values: `'scheduled', 1, NULL, ${now}` };
}

/** A deferred task's trigger fired (or failed, `fail` holding the error): how its task instance resumes. */
export interface Resume {
  triggerId: number;
  /** Added to next_kwargs (the defer's kwargs for the method): `{ event }` for an event, `{ error, traceback? }` for a failure. */
  nextKwargs: Record<string, unknown>;
  /** '__fail__' for a failed trigger (the resumed try raises TaskDeferralError); null keeps the method the task deferred with. */
  nextMethod: string | null;
}

/**
 * Moves the deferred task instances waiting on the given triggers to scheduled, each with its own
 * next_kwargs, in one statement (the triggerer fires thousands at once); trigger_id is cleared. The caller's
 * transaction holds the triggers' rows (ADR 0020). Returns the task instances moved.
 */
export async function resumeDeferredTaskInstances(db: Db, resumes: readonly Resume[], now: Date): Promise<TaskInstanceRow[]> {
  if (resumes.length === 0) return [];
  const { rows } = await db.raw(
    `WITH p AS (SELECT ?::timestamptz AS now),
          ev AS (SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[]) AS e(trigger_id, next_kwargs, next_method))
     UPDATE task_instance ti SET ${tiEnteringSql('scheduled', 'p.now')}, trigger_id = NULL, trigger_timeout = NULL,
            next_kwargs = COALESCE(ti.next_kwargs, '{}'::jsonb) || ev.next_kwargs::jsonb, next_method = COALESCE(ev.next_method, ti.next_method)
       FROM p, ev
      WHERE ti.trigger_id = ev.trigger_id AND ti.state = 'deferred'
      RETURNING ti.*`,
    [now, resumes.map((r) => r.triggerId), resumes.map((r) => JSON.stringify(r.nextKwargs)), resumes.map((r) => r.nextMethod)] as Knex.RawBinding[],
  );
  return rows as TaskInstanceRow[];
}

/** Like transitionTaskInstances for one row, but throws IllegalStateTransitionError when the row could not move. */
export async function transitionTaskInstance(db: Db, id: number, change: TiChange): Promise<TaskInstanceRow> {
  const [row] = await transitionTaskInstances(db, [id], change);
  if (row) return row;
  const current = await db('task_instance').where('id', id).first('state');
  throw new IllegalStateTransitionError(`task instance ${id}`, current ? current.state : 'missing', change.to ?? 'none');
}

export interface DagRunChange {
  to: DagRunState;
  from?: readonly DagRunState[];
  now: Date;
  set?: Partial<Omit<DagRunRow, 'id' | 'state'>>;
}

/** States from which a dag run may enter `to`, per DAG_RUN_TRANSITIONS. */
export function dagRunStatesLeadingTo(to: DagRunState): DagRunState[] {
  return [...DAG_RUN_TRANSITIONS].filter(([, targets]) => targets.has(to)).map(([from]) => from);
}

/** Moves a dag run to `change.to` if its state allows; returns the row, or null if it was not in an allowed state. */
export async function transitionDagRun(db: Db, id: number, change: DagRunChange): Promise<DagRunRow | null> {
  const { to, now } = change;
  const allowed = dagRunStatesLeadingTo(to).filter((s) => !change.from || change.from.includes(s));
  const columns: Record<string, unknown> = { state: to, updated_at: now, ...change.set };
  if (to === 'running') columns.start_date = db.raw('COALESCE(start_date, ?)', [now]);
  if (to === 'success' || to === 'failed') columns.end_date = now;
  if (to === 'queued') Object.assign(columns, { queued_at: now, start_date: null, end_date: null, last_scheduling_decision: null });
  const [row] = await db('dag_run').where('id', id).whereIn('state', allowed).update(columns, '*');
  return (row as DagRunRow | undefined) ?? null;
}

/** Like transitionDagRun, but throws IllegalStateTransitionError when the run could not move. */
export async function transitionDagRunOrThrow(db: Db, id: number, change: DagRunChange): Promise<DagRunRow> {
  const row = await transitionDagRun(db, id, change);
  if (row) return row;
  const current = await db('dag_run').where('id', id).first('state');
  throw new IllegalStateTransitionError(`dag run ${id}`, current ? current.state : 'missing', change.to);
}
