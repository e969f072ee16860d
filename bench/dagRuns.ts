import type { Knex } from 'knex';
import { triggerDagRun } from '../services/triggerDagRun.ts';
import { sleep, type SchedulerProcess } from './schedulerProcess.ts';

/** A task instance's own timestamps, as epoch milliseconds with Postgres's microsecond fraction kept. */
export interface TaskTimes {
  taskId: string;
  state: string;
  /** When the scheduler (or a worker's mini scheduler) queued it. */
  queued: number;
  start: number;
  end: number;
}

export interface FinishedRun {
  runId: string;
  /** dag_run.queued_at: when the bench created the run. */
  triggeredAt: number;
  tasks: TaskTimes[];
}

// extract(epoch ...) is numeric: exact to the microsecond, unlike a JS Date (ms).
const epochMs = (column: string) => `(extract(epoch from ${column}) * 1000)::text`;

/**
 * Waits until the DAG processor has stored these DAGs: the scheduler reports itself up before its first
 * parse ends, and under load (or for a DAG of 1,000 tasks) a trigger right then found no DAG.
 */
export async function waitForParsedDags(knex: Knex, dagIds: readonly string[], scheduler: SchedulerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = (await knex('serialized_dag')
      .whereIn('dag_id', [...dagIds])
      .count({ n: '*' })
      .first()) as { n: string };
    if (Number(row.n) === dagIds.length) return;
    if (scheduler.exitReason()) throw new Error(`DAGs ${dagIds.join(', ')} not parsed: ${scheduler.exitReason()}`);
    if (Date.now() > deadline) throw new Error(`DAGs ${dagIds.join(', ')} not parsed within ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

/** A run that stops moving this long is reported instead of waited for until the overall timeout. */
const STALL_MS = 120_000;

/**
 * Triggers a manual run the way `airflow dags trigger` does (the same
 * service, straight against the database), waits until it has finished and
 * returns its task instances' start and end times ordered by task id.
 */
export async function triggerAndWait(knex: Knex, dagId: string, scheduler: SchedulerProcess, timeoutMs: number): Promise<FinishedRun> {
  await waitForParsedDags(knex, [dagId], scheduler, timeoutMs);
  const run = await triggerDagRun(knex, { dagId, now: new Date() });
  const deadline = Date.now() + timeoutMs;
  let states = '';
  let movedAt = Date.now();
  for (;;) {
    const row = await knex('dag_run')
      .where({ dag_id: dagId, run_id: run.run_id })
      .first('state', knex.raw(`${epochMs('queued_at')} AS queued_ms`));
    if (row.state === 'success') return { runId: run.run_id, triggeredAt: Number(row.queued_ms), tasks: await taskTimes(knex, dagId, run.run_id) };
    const counts = await knex('task_instance')
      .where({ dag_id: dagId, run_id: run.run_id })
      .groupBy('state')
      .orderBy('state')
      .select('state', knex.raw('count(*)::int AS n'));
    const now = counts.map((c: { state: string | null; n: number }) => `${c.state ?? 'none'}=${c.n}`).join(' ');
    if (now !== states) [states, movedAt] = [now, Date.now()];
    const problem =
      row.state === 'failed'
        ? 'failed'
        : scheduler.exitReason()
          ? `is ${row.state}, but ${scheduler.exitReason()}`
          : Date.now() - movedAt > STALL_MS
            ? `made no progress for ${STALL_MS / 1000} s`
            : Date.now() > deadline
              ? `did not finish within ${timeoutMs / 1000} s`
              : null;
    if (problem) throw new Error(`run ${run.run_id} of ${dagId} ${problem}; task instances: ${states}`);
    await sleep(100); // polling only says when to read: the figures come from the rows' own timestamps
  }
}

async function taskTimes(knex: Knex, dagId: string, runId: string): Promise<TaskTimes[]> {
  const rows = (await knex('task_instance')
    .where({ dag_id: dagId, run_id: runId })
    .orderBy('task_id')
    .select(
      'task_id',
      'state',
      knex.raw(`${epochMs('queued_dttm')} AS queued_ms`),
      knex.raw(`${epochMs('start_date')} AS start_ms`),
      knex.raw(`${epochMs('end_date')} AS end_ms`),
    )) as {
    task_id: string;
    state: string;
    queued_ms: string;
    start_ms: string;
    end_ms: string;
  }[];
  return rows.map((r) => ({ taskId: r.task_id, state: r.state, queued: Number(r.queued_ms), start: Number(r.start_ms), end: Number(r.end_ms) }));
}
