/**
 * Task-instance and dag-run states, as Airflow 2's `airflow.utils.state`, and
 * the table of allowed state changes. `null` is Airflow's "none": a task
 * instance that exists but has not been scheduled yet (or was cleared).
 * Airflow's 'shutdown' state (deprecated in 2.x) is left out.
 */
export const TASK_INSTANCE_STATES = [
  'scheduled',
  'queued',
  'running',
  'success',
  'failed',
  'up_for_retry',
  'up_for_reschedule',
  'upstream_failed',
  'skipped',
  'removed',
  'restarting',
  'deferred',
] as const;

export type TaskInstanceState = (typeof TASK_INSTANCE_STATES)[number];

/** A task instance's state column: a state, or null for "none". */
export type TiState = TaskInstanceState | null;

export const DAG_RUN_STATES = ['queued', 'running', 'success', 'failed'] as const;

export type DagRunState = (typeof DAG_RUN_STATES)[number];

/** Terminal states: nothing more happens unless a person clears or marks the task. */
export const FINISHED_TI_STATES: ReadonlySet<TaskInstanceState> = new Set<TaskInstanceState>(['success', 'failed', 'skipped', 'upstream_failed', 'removed']);

/** Everything else, including none: the task has not run yet or is still going. */
export const UNFINISHED_TI_STATES: ReadonlySet<TiState> = new Set<TiState>([
  null,
  'scheduled',
  'queued',
  'running',
  'restarting',
  'up_for_retry',
  'up_for_reschedule',
  'deferred',
]);

/** Finished for a task instance (FINISHED_TI_STATES) or a dag run (success, failed). */
export function isFinished(state: TiState | DagRunState): boolean {
  return state !== null && FINISHED_TI_STATES.has(state as TaskInstanceState);
}

type Row<S> = readonly [from: S, to: readonly S[]];

function table<S>(rows: readonly Row<S>[]): ReadonlyMap<S, ReadonlySet<S>> {
  return new Map(rows.map(([from, to]) => [from, new Set(to)]));
}

/*
 * Common causes, shared by many rows:
 * - clear: a person clears the task; it goes back to none and is scheduled again.
 * - mark:  a person marks the task (or its whole dag run) success or failed; Airflow
 *          allows this from any state except removed.
 * - dag run failed / timed out: Airflow sets the run's unfinished tasks to skipped
 *          (running and deferred ones to failed when a person marks the run failed).
 * - trigger rule: the scheduler re-evaluates none, up_for_retry and
 *          up_for_reschedule tasks and may flag them skipped or upstream_failed.
 * - removed: the task vanished from the DAG before it ran (only while it is not
 *          executing); it becomes none again if the task comes back.
 */
export const TI_TRANSITIONS: ReadonlyMap<TiState, ReadonlySet<TiState>> = table<TiState>([
  // queued: a person runs the task by hand, bypassing the scheduler.
  [null, ['scheduled', 'queued', 'skipped', 'upstream_failed', 'removed', 'success', 'failed']],
  // none: the scheduler resets orphans on restart, or a person clears.
  ['scheduled', ['queued', null, 'skipped', 'upstream_failed', 'removed', 'success', 'failed']],
  // scheduled: requeued when stuck in queued; none: orphan reset on scheduler restart;
  // failed/up_for_retry: the executor reports the task failed before it started.
  ['queued', ['running', 'scheduled', null, 'failed', 'up_for_retry', 'success', 'skipped', 'removed']],
  // failed/up_for_retry also by zombie detection (no heartbeat); restarting: cleared
  // while running; none: orphan reset; skipped: AirflowSkipException or dag run timeout.
  ['running', ['success', 'failed', 'up_for_retry', 'up_for_reschedule', 'skipped', 'deferred', 'restarting', null]],
  // scheduled: the trigger fired or timed out (the task resumes, or fails, on a worker).
  ['deferred', ['scheduled', 'failed', 'success', 'skipped', null]],
  // up_for_retry: the cleared task was killed; its raised max tries give it another try.
  ['restarting', ['up_for_retry', 'failed', 'success', 'skipped', null]],
  // scheduled: the retry delay has passed.
  ['up_for_retry', ['scheduled', null, 'skipped', 'upstream_failed', 'removed', 'success', 'failed']],
  // scheduled: the sensor's reschedule date has come.
  ['up_for_reschedule', ['scheduled', null, 'skipped', 'upstream_failed', 'removed', 'success', 'failed']],
  ['success', [null, 'failed']],
  ['failed', [null, 'success']],
  ['skipped', [null, 'success', 'failed']],
  ['upstream_failed', [null, 'success', 'failed']],
  // none: the task is back in the DAG (Airflow's verify_integrity).
  ['removed', [null]],
]);

export const DAG_RUN_TRANSITIONS: ReadonlyMap<DagRunState, ReadonlySet<DagRunState>> = table<DagRunState>([
  // running: under max_active_runs; failed/success: marked by a person.
  ['queued', ['running', 'failed', 'success']],
  // queued: a task in it was cleared (Airflow 2 re-queues the run).
  ['running', ['success', 'failed', 'queued']],
  ['success', ['queued', 'failed']],
  ['failed', ['queued', 'success']],
]);

/** Airflow 2's UI colour per state (`State.state_color`); 'none' is the null state. Dag runs use the same. */
export const STATE_COLORS: Readonly<Record<TaskInstanceState | 'none', string>> = {
  none: 'lightblue',
  scheduled: 'tan',
  queued: 'gray',
  running: 'lime',
  success: 'green',
  failed: 'red',
  up_for_retry: 'gold',
  up_for_reschedule: 'turquoise',
  upstream_failed: 'orange',
  skipped: 'hotpink',
  removed: 'lightgrey',
  restarting: 'violet',
  deferred: 'mediumpurple',
};
