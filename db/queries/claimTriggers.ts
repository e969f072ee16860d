import type { Knex } from 'knex';

/**
 * Claims triggers for a triggerer (Airflow's Trigger.assign_unassigned): those nobody holds, and those
 * whose triggerer stopped heartbeating (no running TriggererJob row with a heartbeat within the health
 * threshold, by the database's clock), up to the triggerer's free capacity, oldest first.
 *
 * Params: the claiming triggerer's job id, how many it may take, the health threshold in ms.
 *
 * Locks: the claimed trigger rows (FOR UPDATE SKIP LOCKED): two triggerers claiming at once take
 * different rows, and a trigger being fired (its holder locks it) is not taken from under it. A claim
 * only changes `triggerer_id`; whoever holds a trigger when it fires is the one that resumes its task
 * (ADR 0020). Safe with any number of triggerers.
 */
export async function claimTriggers(knex: Knex, options: { triggererId: number; capacity: number; healthThresholdMs: number }): Promise<number[]> {
  if (options.capacity <= 0) return [];
  const { rows } = await knex.raw(
    `WITH alive AS (
       SELECT id FROM job
        WHERE job_type = 'TriggererJob' AND state = 'running' AND latest_heartbeat >= now() - ? * interval '1 millisecond'
     ), picked AS (
       SELECT t.id FROM trigger t
        WHERE t.triggerer_id IS NULL OR t.triggerer_id NOT IN (SELECT id FROM alive)
        ORDER BY t.id
        LIMIT ?
        FOR UPDATE SKIP LOCKED
     )
     UPDATE trigger t SET triggerer_id = ? FROM picked WHERE t.id = picked.id
     RETURNING t.id`,
    [options.healthThresholdMs, options.capacity, options.triggererId],
  );
  return (rows as { id: string | number }[]).map((r) => Number(r.id));
}
