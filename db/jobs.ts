import os from 'node:os';
import type { Knex } from 'knex';

/** Process heartbeats (Airflow's job table): who is alive, for /health, adoption and zombie checks. */
export type JobType = 'SchedulerJob' | 'BackfillJob' | 'LocalTaskJob' | 'DagProcessorJob';

export async function registerJob(knex: Knex, jobType: JobType, now: Date, executorClass: string | null = null): Promise<number> {
  const [row] = await knex('job')
    .insert({ job_type: jobType, state: 'running', hostname: os.hostname(), pid: process.pid, executor_class: executorClass, start_date: now, latest_heartbeat: now })
    .returning('id');
  return (row as { id: number }).id;
}

export async function heartbeatJob(knex: Knex, id: number, now: Date): Promise<void> {
  await knex('job').where('id', id).update({ latest_heartbeat: now });
}

export async function endJob(knex: Knex, id: number, state: 'success' | 'failed', now: Date): Promise<void> {
  await knex('job').where('id', id).update({ state, end_date: now, latest_heartbeat: now });
}

/** Ids of jobs still running with a heartbeat newer than `since`. */
export async function liveJobIds(knex: Knex, since: Date): Promise<number[]> {
  return knex('job').where('state', 'running').andWhere('latest_heartbeat', '>=', since).pluck('id');
}
