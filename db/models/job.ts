import os from 'node:os';
import type { Knex } from 'knex';

/**
 * Process heartbeats (Airflow's job table): who is alive, for /health, adoption and zombie checks.
 *
 * Liveness is judged by the database's clock (now() in SQL), never a host's: with
 * schedulers and workers on several machines, one host's clock running minutes
 * behind must not make every other process look dead (or a dead one look alive).
 */
export type JobType = 'SchedulerJob' | 'BackfillJob' | 'LocalTaskJob' | 'DagProcessorJob' | 'TriggererJob';

export async function registerJob(knex: Knex, jobType: JobType, executorClass: string | null = null): Promise<number> {
  const [row] = await knex('job')
    .insert({
      job_type: jobType,
      state: 'running',
      hostname: os.hostname(),
      pid: process.pid,
      executor_class: executorClass,
      start_date: knex.fn.now(),
      latest_heartbeat: knex.fn.now(),
    })
    .returning('id');
  return (row as { id: number }).id;
}

export async function heartbeatJob(knex: Knex, id: number): Promise<void> {
  await knex('job').where('id', id).update({ latest_heartbeat: knex.fn.now() });
}

export async function endJob(knex: Knex, id: number, state: 'success' | 'failed'): Promise<void> {
  await knex('job').where('id', id).update({ state, end_date: knex.fn.now(), latest_heartbeat: knex.fn.now() });
}

/** Ids of jobs still running that heartbeat within the last `maxAgeMs` by the database's clock. */
export async function liveJobIds(knex: Knex, maxAgeMs: number): Promise<number[]> {
  return knex('job').where('state', 'running').andWhereRaw("latest_heartbeat >= now() - ? * interval '1 millisecond'", [maxAgeMs]).pluck('id');
}

/** The latest heartbeat of a running scheduler (else of any), and its age by the database's clock (for /health, as Airflow's most_recent_job). */
export async function latestSchedulerHeartbeat(knex: Knex): Promise<{ heartbeat: Date; ageMs: number } | null> {
  const row: { latest_heartbeat: Date; age_ms: string | number } | undefined = await knex('job')
    .where({ job_type: 'SchedulerJob' })
    .orderByRaw("state = 'running' DESC, latest_heartbeat DESC")
    .first('latest_heartbeat', knex.raw('EXTRACT(EPOCH FROM (now() - latest_heartbeat)) * 1000 AS age_ms'));
  return row ? { heartbeat: row.latest_heartbeat, ageMs: Number(row.age_ms) } : null;
}
