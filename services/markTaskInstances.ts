import type { Knex } from 'knex';
import { IllegalStateTransitionError } from '../core/errors.ts';
import { relativeTaskIds } from '../core/relatives.ts';
import type { SerializedDag } from '../core/serialize.ts';
import { lockDagRuns } from '../db/models/dagRun.ts';
import { lockTaskInstances } from '../db/models/taskInstance.ts';
import { notifyScheduler } from '../db/notifications.ts';
import { tiStatesLeadingTo, transitionTaskInstances } from '../db/transitions.ts';
import type { DagRunRow, TaskInstanceRow } from '../db/rows.ts';
import { clearTaskInstances } from './clearTaskInstances.ts';

export type MarkState = 'success' | 'failed';

export interface MarkRequest {
  dag: SerializedDag;
  /** The run the named tasks are marked in. */
  run: DagRunRow;
  taskIds: readonly string[];
  /** Only this map index of the named tasks (default: every map index); their upstream / downstream tasks at every map index. */
  mapIndex?: number;
  /** Also the tasks upstream / downstream of the named ones. */
  upstream?: boolean;
  downstream?: boolean;
  /** Also the same tasks in earlier / later runs (by logical date). */
  past?: boolean;
  future?: boolean;
  state: MarkState;
  dryRun: boolean;
  now: Date;
}

/** A task instance with its run's logical date. */
export type MarkedTaskInstance = TaskInstanceRow & { execution_date: Date };

/**
 * Airflow's "mark success / failed" for task instances (REST PATCH
 * taskInstances/{task_id} and updateTaskInstancesState, the UI): every chosen
 * task instance not already in the state, and allowed to enter it, is moved
 * through db/transitions.ts, in one transaction. After marking success, the
 * failed and upstream_failed task instances downstream of the named tasks are
 * cleared, so the run resumes from there (as Airflow's set_task_instance_state
 * does). A runner whose task was marked notices at its next heartbeat and stops.
 * The runs are locked before their task instances, as the scheduler does (ADR 0011).
 * Returns the task instances marked (on a dry run: that would be).
 */
export async function markTaskInstances(knex: Knex, request: MarkRequest): Promise<MarkedTaskInstance[]> {
  const taskIds = relativeTaskIds(request.dag.tasks, request.taskIds, request);
  return knex.transaction(async (trx) => {
    const runs = await affectedRuns(trx, request);
    const logicalDates = new Map(runs.map((r) => [r.run_id, r.logical_date]));
    const movable = tiStatesLeadingTo(request.state);
    const chosen = await lockTaskInstances(trx, {
      dagId: request.dag.dagId,
      runIds: [...logicalDates.keys()],
      taskIds: [...taskIds],
      states: [...movable.filter((s) => s !== null), null],
      mapIndex: request.mapIndex,
      mapIndexOf: request.taskIds,
    });
    const withDates = (rows: TaskInstanceRow[]) => rows.map((ti) => ({ ...ti, execution_date: logicalDates.get(ti.run_id)! }));
    if (request.dryRun || chosen.length === 0) return withDates(chosen).sort(byDateTaskMapIndex);
    const marked = await transitionTaskInstances(
      trx,
      chosen.map((ti) => ti.id),
      { to: request.state, now: request.now },
    );
    if (request.state === 'success') {
      const resumed = [...relativeTaskIds(request.dag.tasks, request.taskIds, { downstream: true })].filter((id) => !taskIds.has(id));
      if (resumed.length) {
        await clearTaskInstances(trx, {
          dag: request.dag,
          runIds: [...new Set(marked.map((ti) => ti.run_id))],
          taskIds: resumed,
          onlyStates: ['failed', 'upstream_failed'],
          now: request.now,
        });
      }
    }
    await notifyScheduler(trx, `marked ${marked.length} task instance(s) of ${request.dag.dagId} ${request.state}`);
    return withDates(marked).sort(byDateTaskMapIndex);
  });
}

function byDateTaskMapIndex(a: MarkedTaskInstance, b: MarkedTaskInstance): number {
  return a.execution_date.getTime() - b.execution_date.getTime() || a.task_id.localeCompare(b.task_id) || a.map_index - b.map_index;
}

/** The anchor run, plus earlier and/or later runs of the DAG when asked; locked, before their task instances (ADR 0011). */
async function affectedRuns(trx: Knex.Transaction, request: MarkRequest): Promise<DagRunRow[]> {
  return lockDagRuns(trx, request.dag.dagId, (query) => {
    if (!request.past && !request.future) query.where('id', request.run.id);
    else {
      if (!request.past) query.where('logical_date', '>=', request.run.logical_date);
      if (!request.future) query.where('logical_date', '<=', request.run.logical_date);
    }
  });
}

/**
 * Throws IllegalStateTransitionError unless the task instance already has
 * `state` or may enter it (db/transitions.ts's table): what the REST API
 * answers 409 for, dry run or not.
 */
export function assertMarkable(ti: Pick<TaskInstanceRow, 'dag_id' | 'task_id' | 'state'>, state: MarkState): void {
  if (ti.state !== state && !tiStatesLeadingTo(state).includes(ti.state)) {
    throw new IllegalStateTransitionError(`task instance ${ti.dag_id}.${ti.task_id}`, ti.state, state);
  }
}
