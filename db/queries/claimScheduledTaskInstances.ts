import type { Knex } from 'knex';
import type { TaskInstanceRow } from '../rows.ts';
import { transitionTaskInstances } from '../transitions.ts';

/**
 * Claims scheduled task instances for an executor: moves them to queued,
 * highest priority first, within every cap (ADR 0003).
 *
 * Params: executor slots (Airflow's parallelism for this scheduler), the
 * default per-DAG max active tasks, the job id recorded as queued_by_job_id.
 *
 * Takes knex or a transaction (a worker claims its next task inside the
 * transaction that records the previous one; knex nests it as a savepoint).
 *
 * Locks: a transaction-scoped advisory lock serialises this critical section
 * across schedulers (like Airflow locking the pool rows), then candidate rows
 * are locked FOR UPDATE SKIP LOCKED. Occupancy (queued + running slots per
 * pool and per DAG) is counted inside the same transaction, after the lock,
 * so two schedulers can never both take the last free slot.
 *
 * Order: priority_weight DESC, then the run's logical date, then the id —
 * deterministic, ending in the primary key.
 */
const CLAIM_LOCK = 'airflow-ts:claim-task-instances';
/** Takes the claim's lock (transaction-scoped); a worker takes it in the statement that records its success (recordSuccess.ts). */
export const CLAIM_LOCK_SQL = `pg_advisory_xact_lock(hashtext('${CLAIM_LOCK}'))`;

export async function claimScheduledTaskInstances(
  knex: Knex | Knex.Transaction,
  options: {
    slots: number;
    maxActiveTasksPerDag: number;
    jobId: number | null;
    now: Date;
    /** Only these DAGs (backfill, `dags test`). */
    dagIds?: readonly string[];
    /** Runs whose tasks are claimed even if their DAG is paused (`dags test`); backfill runs always are. */
    runIdsIgnoringPause?: readonly string[];
    /** Only this dag run (a worker picking its next task: `dagIds` must name its DAG). */
    runId?: string;
    /**
     * A worker reserving work for itself takes its fair share of the backlog it sees
     * (candidates / this many workers, at least 1, at most `slots`), so one claim
     * (one pass through the lock) serves many tiny tasks without starving other workers.
     */
    fairShareAmong?: number;
    /** The caller's transaction already holds the claim lock (CLAIM_LOCK_SQL), taken in an earlier statement. */
    lockHeld?: boolean;
  },
): Promise<TaskInstanceRow[]> {
  if (options.slots <= 0) return [];
  // Inside a caller's transaction (a worker's), run in it: a savepoint would only add round trips.
  return knex.isTransaction ? claim(knex as Knex.Transaction, options) : knex.transaction((trx) => claim(trx, { ...options, lockHeld: false }));
}

async function claim(trx: Knex.Transaction, options: Parameters<typeof claimScheduledTaskInstances>[1]): Promise<TaskInstanceRow[]> {
  if (!options.lockHeld) await trx.raw(`SELECT ${CLAIM_LOCK_SQL}`);
  // Candidates and occupancy in one statement, whose snapshot is taken after the lock above: free slots
  // per pool, and queued + running task instances per DAG, as every claim committed before us left them.
  const { rows } = await trx
    .raw(
      `WITH picked AS (
       -- Each running run's best few, straight from the index ti_scheduled_in_run (one run has one logical
       -- date, so its order within a run is the claim's): a few rows read per run, not every scheduled
       -- task instance sorted (a run mapped over 10,000). Not locked here: only what is claimed is.
       SELECT c.id, c.priority_weight, dr.logical_date
         FROM dag_run dr
         JOIN dag d ON d.dag_id = dr.dag_id
        CROSS JOIN LATERAL (
              SELECT ti.id, ti.priority_weight FROM task_instance ti
               WHERE ti.dag_id = dr.dag_id AND ti.run_id = dr.run_id AND ti.state = 'scheduled'
               ORDER BY ti.priority_weight DESC, ti.id
               LIMIT ?) c
        WHERE dr.state = 'running'
          AND (d.is_paused = false OR dr.run_type = 'backfill' OR dr.run_id = ANY(?))
          AND (?::text[] IS NULL OR dr.dag_id = ANY(?))
          AND (?::text IS NULL OR dr.run_id = ?)
        ORDER BY c.priority_weight DESC, dr.logical_date, c.id
        LIMIT ?
     ), candidates AS (
       SELECT ti.id, ti.dag_id, ti.run_id, ti.task_id, ti.pool, ti.pool_slots, d.max_active_tasks,
              ti.max_active_tis_per_dag, ti.max_active_tis_per_dagrun, ti.priority_weight, p.logical_date
         FROM task_instance ti
         JOIN picked p ON p.id = ti.id
         JOIN dag d ON d.dag_id = ti.dag_id
        -- By primary key from an array computed once: joined to picked, a stale estimate (no row scheduled)
        -- was planned as a walk over every scheduled row per picked id, 0.4 s a claim (ADR 0023).
        WHERE ti.id = ANY (ARRAY(SELECT id FROM picked)) AND ti.state = 'scheduled'
        FOR UPDATE OF ti SKIP LOCKED
     ), occupying AS (
       SELECT pool, dag_id, run_id, task_id, pool_slots FROM task_instance WHERE state IN ('queued', 'running')
     )
     SELECT
       (SELECT COALESCE(json_agg(json_build_object('id', c.id, 'dag_id', c.dag_id, 'run_id', c.run_id, 'task_id', c.task_id, 'pool', c.pool, 'pool_slots', c.pool_slots,
                 'max_active_tasks', c.max_active_tasks, 'max_active_tis_per_dag', c.max_active_tis_per_dag, 'max_active_tis_per_dagrun', c.max_active_tis_per_dagrun)
                 ORDER BY c.priority_weight DESC, c.logical_date, c.id), '[]') FROM candidates c) AS candidates,
       (SELECT COALESCE(json_agg(json_build_object('pool', p.pool, 'free', p.slots - COALESCE((SELECT SUM(o.pool_slots) FROM occupying o WHERE o.pool = p.pool), 0))), '[]') FROM slot_pool p) AS pools,
       (SELECT COALESCE(json_agg(json_build_object('dag_id', d.dag_id, 'n', (SELECT count(*) FROM occupying o WHERE o.dag_id = d.dag_id))), '[]')
          FROM (SELECT DISTINCT dag_id FROM candidates) d) AS dags,
       -- Per-task caps (maxActiveTisPerDag / maxActiveTisPerDagrun): counted only for candidates' tasks that have one.
       (SELECT COALESCE(json_agg(json_build_object('dag_id', t.dag_id, 'task_id', t.task_id,
                 'n', (SELECT count(*) FROM occupying o WHERE o.dag_id = t.dag_id AND o.task_id = t.task_id))), '[]')
          FROM (SELECT DISTINCT dag_id, task_id FROM candidates WHERE max_active_tis_per_dag IS NOT NULL) t) AS tasks,
       (SELECT COALESCE(json_agg(json_build_object('dag_id', t.dag_id, 'run_id', t.run_id, 'task_id', t.task_id,
                 'n', (SELECT count(*) FROM occupying o WHERE o.dag_id = t.dag_id AND o.run_id = t.run_id AND o.task_id = t.task_id))), '[]')
          FROM (SELECT DISTINCT dag_id, run_id, task_id FROM candidates WHERE max_active_tis_per_dagrun IS NOT NULL) t) AS task_runs`,
      [
        Math.max(options.slots * 4, 64),
        [...(options.runIdsIgnoringPause ?? [])],
        options.dagIds ? [...options.dagIds] : null,
        options.dagIds ? [...options.dagIds] : null,
        options.runId ?? null,
        options.runId ?? null,
        Math.max(options.slots * 4, 64),
      ] as Knex.RawBinding[],
    )
    .options({ name: 'airflow_ts_claim_candidates' }); // prepared once per connection: its planning costs more than its execution
  type Count = { dag_id: string; run_id?: string; task_id?: string; n: number };
  const { candidates, pools, dags, tasks, task_runs } = rows[0] as {
    candidates: Candidate[];
    pools: { pool: string; free: number }[];
    dags: Count[];
    tasks: Count[];
    task_runs: Count[];
  };
  if (candidates.length === 0) return [];
  const slots = options.fairShareAmong ? Math.max(1, Math.min(options.slots, Math.floor(candidates.length / options.fairShareAmong))) : options.slots;
  const chosen = withinCaps(candidates, {
    slots,
    poolFree: new Map(pools.map((p) => [p.pool, Number(p.free)])),
    dagActive: new Map(dags.map((d) => [d.dag_id, Number(d.n)])),
    maxActiveTasksPerDag: options.maxActiveTasksPerDag,
    taskActive: new Map(tasks.map((t) => [taskKey(t), Number(t.n)])),
    taskRunActive: new Map(task_runs.map((t) => [taskRunKey(t), Number(t.n)])),
  });
  return transitionTaskInstances(trx, chosen, { to: 'queued', from: ['scheduled'], now: options.now, set: { queued_by_job_id: options.jobId } });
}

interface Candidate {
  id: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  pool: string;
  pool_slots: number;
  max_active_tasks: number | null;
  max_active_tis_per_dag: number | null;
  max_active_tis_per_dagrun: number | null;
}

const taskKey = (t: { dag_id: string; task_id?: string }) => JSON.stringify([t.dag_id, t.task_id]);
const taskRunKey = (t: { dag_id: string; run_id?: string; task_id?: string }) => JSON.stringify([t.dag_id, t.run_id, t.task_id]);

/**
 * Picks candidates in order while executor slots, pool slots, per-DAG limits and the task's own caps
 * (maxActiveTisPerDag across runs, maxActiveTisPerDagrun in its run; each mapped instance counts) allow.
 * Unknown pools take nothing.
 */
export function withinCaps(
  candidates: readonly Candidate[],
  caps: {
    slots: number;
    poolFree: Map<string, number>;
    dagActive: Map<string, number>;
    maxActiveTasksPerDag: number;
    taskActive?: Map<string, number>;
    taskRunActive?: Map<string, number>;
  },
): number[] {
  const chosen: number[] = [];
  const poolFree = new Map(caps.poolFree);
  const dagActive = new Map(caps.dagActive);
  const taskActive = new Map(caps.taskActive);
  const taskRunActive = new Map(caps.taskRunActive);
  for (const c of candidates) {
    if (chosen.length >= caps.slots) break;
    const free = poolFree.get(c.pool) ?? 0;
    const active = dagActive.get(c.dag_id) ?? 0;
    if (free < c.pool_slots || active >= (c.max_active_tasks ?? caps.maxActiveTasksPerDag)) continue;
    const ofTask = taskActive.get(taskKey(c)) ?? 0;
    if (c.max_active_tis_per_dag !== null && ofTask >= c.max_active_tis_per_dag) continue;
    const ofTaskRun = taskRunActive.get(taskRunKey(c)) ?? 0;
    if (c.max_active_tis_per_dagrun !== null && ofTaskRun >= c.max_active_tis_per_dagrun) continue;
    poolFree.set(c.pool, free - c.pool_slots);
    dagActive.set(c.dag_id, active + 1);
    taskActive.set(taskKey(c), ofTask + 1);
    taskRunActive.set(taskRunKey(c), ofTaskRun + 1);
    chosen.push(c.id);
  }
  return chosen;
}
