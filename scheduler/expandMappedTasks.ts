/**
 * Dynamic task mapping in the scheduler (ADR 0016): a mapped task whose
 * dependencies are met is expanded into one task instance per element of its
 * input, or settled (skipped for an empty input, failed for a bad or too long
 * one, with the reason in the task instance's note); expanded instances are
 * scheduled when they have no state yet or their retry delay has passed.
 * Runs in the transaction holding the run's lock, so two schedulers never
 * expand the same task; no user code runs (ADR 0001): literal lists come from
 * the serialized DAG, task outputs from their XCom; only lengths are computed here.
 */
import type { Knex } from 'knex';
import { expansionOf, xcomRefKey, xcomRefsOf } from '../core/expandInput.ts';
import type { Logger } from '../core/logger.ts';
import type { SerializedTask } from '../core/serialize.ts';
import type { TiState } from '../core/state.ts';
import type { SchedulingTi } from '../core/taskInstanceSchedulingDecisions.ts';
import { notInRetryPeriod } from '../core/ti_deps/notInRetryPeriodDep.ts';
import { readyToReschedule } from '../core/ti_deps/readyToRescheduleDep.ts';
import { expandTaskInstance } from '../db/models/taskInstance.ts';
import { pullXComs } from '../db/models/xcom.ts';
import type { DagRunRow, TaskInstanceRow } from '../db/rows.ts';
import { transitionTaskInstances } from '../db/transitions.ts';

/** Expands (or settles) the mapped task's -1 instance `id`; returns the state the task is now in (null: unchanged) and how many instances were scheduled. */
export async function expandMappedTask(
  trx: Knex.Transaction,
  args: {
    run: DagRunRow;
    task: SerializedTask;
    id: number;
    now: Date;
    maxMapLength: number;
    log: Logger;
    /** false: leave the instances without state, to be decided one by one (a task of a mapped group, ADR 0018). */
    schedule?: boolean;
  },
): Promise<{ state: TiState; scheduled: number }> {
  const { run, task, id, now } = args;
  const input = task.expandInput!;
  const xcoms = new Map<string, unknown>();
  for (const ref of xcomRefsOf(input)) xcoms.set(xcomRefKey(ref), (await pullXComs(trx, run.id, [ref.taskId], ref.key))[0]);
  const expansion = expansionOf(task.taskId, input, (ref) => xcoms.get(xcomRefKey(ref)), args.maxMapLength);
  if (expansion.to !== 'expand') {
    const [row] = await transitionTaskInstances(trx, [id], { to: expansion.to, now, set: { note: expansion.reason } });
    if (row && expansion.to === 'failed') args.log.error(expansion.reason, { taskId: task.taskId });
    else if (row) args.log.info(expansion.reason, { taskId: task.taskId });
    return { state: row ? expansion.to : null, scheduled: 0 };
  }
  if (args.schedule === false) {
    // Left without state (rows 1..N-1 are created with none; index 0 is the -1 row renumbered, still without state).
    const ids = await expandTaskInstance(trx, id, expansion.length, now, 'none');
    if (ids.length > 0) args.log.info(`expanded mapped task '${task.taskId}' into ${ids.length} task instances`, { taskId: task.taskId });
    return { state: null, scheduled: 0 };
  }
  // Rows 1..N-1 are created scheduled: one insert, not an insert and then an update of each (10,000 rows).
  const ids = await expandTaskInstance(trx, id, expansion.length, now, 'scheduled');
  if (ids.length === 0) return { state: null, scheduled: 0 };
  const first = await transitionTaskInstances(trx, [ids[0]!], { to: 'scheduled', now });
  args.log.info(`expanded mapped task '${task.taskId}' into ${ids.length} task instances`, { taskId: task.taskId });
  return { state: 'scheduled', scheduled: first.length + ids.length - 1 };
}

/**
 * Applies the decision taken for an expanded task to its instances that have no state yet or are up for
 * retry: scheduled (those out of their retry delay), skipped or upstream_failed. Returns the rows moved.
 */
export async function decideMappedInstances(
  trx: Knex.Transaction,
  instances: readonly SchedulingTi[],
  to: 'scheduled' | 'skipped' | 'upstream_failed',
  now: Date,
): Promise<TaskInstanceRow[]> {
  const open = instances.filter((ti) => ti.state === null || ti.state === 'up_for_retry' || ti.state === 'up_for_reschedule');
  const ready =
    to === 'scheduled'
      ? open.filter((ti) => notInRetryPeriod(ti.state, ti.next_retry_at, now) === null && readyToReschedule(ti.state, ti.reschedule_date, now) === null)
      : open;
  return transitionTaskInstances(
    trx,
    ready.map((ti) => ti.id),
    { to, now },
  );
}
