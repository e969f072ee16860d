import type { Knex } from 'knex';
import type { Logger } from '../core/logger.ts';
import type { SerializedDag } from '../core/serialize.ts';
import { lockDagSkipLocked } from '../db/models/dag.ts';
import {
  countRunningDagRuns,
  dagIdsWithQueuedRuns,
  lockRunningDagRunSkipLocked,
  oldestQueuedDagRunIds,
  previousDagRun,
  runningDagRunsToSchedule,
  setLastSchedulingDecision,
} from '../db/models/dagRun.ts';
import { getSerializedDagCached } from '../db/models/serializedDag.ts';
import { taskInstancesToSchedule, taskStatesOfRun, unfinishedTaskInstanceIds } from '../db/models/taskInstance.ts';
import { mappedInstanceStates } from '../db/queries/mappedInstanceStates.ts';
import type { TiState } from '../core/state.ts';
import { transitionDagRun, transitionTaskInstances } from '../db/transitions.ts';
import type { DagRunRow } from '../db/rows.ts';
import { dagRunOutcome, isDeadlocked } from '../core/dagRunOutcome.ts';
import { aggregateMappedState, DEFAULT_MAX_MAP_LENGTH } from '../core/expandInput.ts';
import { arrangeRunTaskInstances, decideTaskInstances, SCHEDULABLE } from '../core/taskInstanceSchedulingDecisions.ts';
import { decideMappedInstances, expandMappedTask } from './expandMappedTasks.ts';

export interface SchedulingPassResult {
  /** Task instances moved to scheduled (ready to be queued). */
  scheduled: number;
  /** Runs that finished in this pass. */
  finished: DagRunRow[];
}

/**
 * One scheduling pass over the active dag runs: start queued runs within
 * maxActiveRuns, then for every running run apply dependency decisions,
 * enforce dagrunTimeout and settle the run's final state.
 *
 * Each run is handled in its own transaction with its row locked
 * (FOR UPDATE SKIP LOCKED), so two schedulers never decide the same run at
 * once, and one bad run cannot block the others.
 */
export async function scheduleDagRuns(
  knex: Knex,
  options: {
    now: Date;
    maxActiveRunsPerDag: number;
    /** core.maxMapLength: the most task instances one mapped task may expand into. */
    maxMapLength?: number;
    logger: Logger;
    /** Only these DAGs, paused or not (backfill, `dags test`). */
    dagIds?: string[];
    /** Only these runs (plus any started now): an event-driven pass touches what changed, not every run. */
    runs?: { dag_id: string; run_id: string }[];
  },
): Promise<SchedulingPassResult> {
  const { now } = options;
  const started = await startQueuedDagRuns(knex, options);
  const only = options.runs ? [...options.runs.map((r) => [r.dag_id, r.run_id]), ...started.map((r) => [r.dag_id, r.run_id])] : null;
  if (only && only.length === 0) return { scheduled: 0, finished: [] };
  const runs = await runningDagRunsToSchedule(knex, { dagIds: options.dagIds, only });
  const result: SchedulingPassResult = { scheduled: 0, finished: [] };
  for (const { id, dag_id: dagId, dag_hash: hash } of runs) {
    const dag = await getSerializedDagCached(knex, dagId, hash);
    if (!dag) continue;
    await knex.transaction(async (trx) => {
      const run = await lockRunningDagRunSkipLocked(trx, id);
      if (!run) return; // another scheduler has it, or it finished meanwhile
      const outcome = await scheduleOneRun(trx, run, dag, now, options.logger, options.maxMapLength ?? DEFAULT_MAX_MAP_LENGTH);
      result.scheduled += outcome.scheduled;
      if (outcome.finished) result.finished.push(outcome.finished);
    });
  }
  return result;
}

async function scheduleOneRun(
  trx: Knex.Transaction,
  run: DagRunRow,
  dag: SerializedDag,
  now: Date,
  logger: Logger,
  maxMapLength: number,
): Promise<{ scheduled: number; finished: DagRunRow | null }> {
  const log = logger.child({ dagId: run.dag_id, runId: run.run_id });
  // Unmapped task instances, the mapped ones this pass may move, and per-state counts of the rest.
  const { tis, mappedCounts } = await taskInstancesToSchedule(trx, run.dag_id, run.run_id);
  const { tasks, idOf, states, retryAt, rescheduleAt, expanded, instanceStates } = arrangeRunTaskInstances(dag.tasks, tis, mappedCounts);
  // Tasks of mapped groups are decided per map index (ADR 0018): they need each instance's state, in order.
  const inMappedGroups = tasks.filter((t) => t.mappedGroupId !== undefined && instanceStates.has(t.taskId)).map((t) => t.taskId);
  if (inMappedGroups.length > 0)
    for (const [taskId, list] of await mappedInstanceStates(trx, run.dag_id, run.run_id, inMappedGroups)) instanceStates.set(taskId, list);

  if (dag.dagrunTimeoutMs !== null && run.start_date && now.getTime() - run.start_date.getTime() > dag.dagrunTimeoutMs) {
    // Airflow: the run fails and its unfinished task instances are skipped (running ones notice and stop).
    await transitionTaskInstances(trx, await unfinishedTaskInstanceIds(trx, run.dag_id, run.run_id), { to: 'skipped', now });
    log.warn(`dag run timed out after ${dag.dagrunTimeoutMs / 1000} s (dagrunTimeout)`);
    return { scheduled: 0, finished: await finish(trx, run, 'failed', now) };
  }

  const previousRunStates = tasks.some((t) => t.dependsOnPast) ? await previousRunTaskStates(trx, run) : null;
  const decisions = decideTaskInstances({ tasks, states, retryAt, rescheduleAt, previousRunStates, now, expanded: instanceStates });
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const unexpanded = decisions.filter((d) => idOf.has(d.taskId));
  const isMapped = (taskId: string) => byId.get(taskId)?.expandInput !== undefined;
  let scheduled = 0;
  for (const to of ['scheduled', 'skipped', 'upstream_failed'] as const) {
    const ids = unexpanded.filter((d) => d.to === to && !(to === 'scheduled' && isMapped(d.taskId))).map((d) => idOf.get(d.taskId)!);
    const changed = await transitionTaskInstances(trx, ids, { to, now });
    for (const ti of changed) states.set(ti.task_id, to);
    if (to === 'scheduled') scheduled = changed.length;
  }
  // A mapped task ready to run is expanded instead; an expanded task's decision applies to each instance.
  // A task of a mapped group that depends on another of the group is expanded without scheduling: its
  // instances are decided one by one (ADR 0018), in another pass over the run right after this one.
  let decideAgain = false;
  for (const d of unexpanded.filter((d) => d.to === 'scheduled' && isMapped(d.taskId))) {
    const task = byId.get(d.taskId)!;
    const schedule = !task.upstreamTaskIds.some((id) => task.mappedGroupId !== undefined && byId.get(id)?.mappedGroupId === task.mappedGroupId);
    const expansion = await expandMappedTask(trx, { run, task, id: idOf.get(d.taskId)!, now, maxMapLength, log, schedule });
    if (expansion.state !== null) states.set(d.taskId, expansion.state);
    decideAgain ||= !schedule;
    scheduled += expansion.scheduled;
  }
  const changed = new Map<number, TiState>();
  for (const d of decisions.filter((d) => d.to !== null && expanded.has(d.taskId))) {
    const open = expanded.get(d.taskId)!; // the instances read: those the decision may move
    const decided = d.mapIndex === undefined ? open : open.filter((ti) => ti.map_index === d.mapIndex);
    const moved = await decideMappedInstances(trx, decided, d.to!, now);
    for (const ti of moved) changed.set(ti.id, ti.state);
    if (d.to === 'scheduled') scheduled += moved.length;
    // `open` is every instance in a schedulable state (read in the same snapshot as the counts).
    const after = [
      ...instanceStates.get(d.taskId)!.filter((s) => !SCHEDULABLE.has(s)),
      ...open.map((ti) => (changed.has(ti.id) ? changed.get(ti.id)! : ti.state)),
    ];
    states.set(d.taskId, aggregateMappedState(after));
  }
  if (decideAgain) {
    const again = await scheduleOneRun(trx, run, dag, now, logger, maxMapLength);
    return { scheduled: scheduled + again.scheduled, finished: again.finished };
  }
  await setLastSchedulingDecision(trx, run.id, now);

  const outcome = dagRunOutcome(tasks, states);
  if (outcome) return { scheduled, finished: await finish(trx, run, outcome, now) };
  if (isDeadlocked(tasks, states, decisions)) {
    log.error('dag run deadlocked: unfinished task instances whose dependencies can never be met', {
      waiting: decisions.filter((d) => d.to === null).map((d) => `${d.taskId}: ${d.reason}`),
    });
    return { scheduled, finished: await finish(trx, run, 'failed', now) };
  }
  return { scheduled, finished: null };
}

async function finish(trx: Knex.Transaction, run: DagRunRow, state: 'success' | 'failed', now: Date): Promise<DagRunRow | null> {
  return transitionDagRun(trx, run.id, { to: state, now });
}

/** Task states of the DAG's run just before this one (by logical date), for dependsOnPast; null if this is the first run. */
async function previousRunTaskStates(trx: Knex.Transaction, run: DagRunRow): Promise<Map<string, TiState> | null> {
  const previous = await previousDagRun(trx, run);
  if (!previous) return null;
  const rows = await taskStatesOfRun(trx, run.dag_id, previous.run_id);
  // A mapped task counts as a whole: every instance must have succeeded or been skipped.
  const byTask = new Map<string, TiState[]>();
  for (const r of rows) {
    const states = byTask.get(r.task_id);
    if (states) states.push(r.state);
    else byTask.set(r.task_id, [r.state]);
  }
  return new Map([...byTask].map(([taskId, states]) => [taskId, states.length === 1 ? states[0]! : aggregateMappedState(states)]));
}

/**
 * Moves queued runs to running, oldest logical date first, while the DAG is
 * unpaused and has fewer than maxActiveRuns running. Locks the DAG's row so
 * two schedulers cannot both start "the last free" run.
 */
async function startQueuedDagRuns(knex: Knex, options: { now: Date; maxActiveRunsPerDag: number; dagIds?: string[] }): Promise<DagRunRow[]> {
  const started: DagRunRow[] = [];
  const dagIds = await dagIdsWithQueuedRuns(knex, options.dagIds);
  for (const dagId of dagIds) {
    await knex.transaction(async (trx) => {
      const dag = await lockDagSkipLocked(trx, dagId);
      // Runs of a paused DAG wait in queued (as in Airflow), unless a backfill or `dags test` drives them.
      if (!dag || (dag.is_paused && !options.dagIds)) return;
      const max = dag.max_active_runs ?? options.maxActiveRunsPerDag;
      const free = max - (await countRunningDagRuns(trx, dagId));
      if (free <= 0) return;
      const queued = await oldestQueuedDagRunIds(trx, dagId, free);
      for (const { id } of queued) {
        const run = await transitionDagRun(trx, id, { to: 'running', from: ['queued'], now: options.now });
        if (run) started.push(run);
      }
    });
  }
  return started;
}
