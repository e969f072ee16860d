import type { Knex } from 'knex';

/**
 * Refreshes the planner's statistics of task_instance (ANALYZE), after one pass scheduled
 * thousands of task instances at once (a mapped task expanded over 10,000 elements).
 *
 * Why: the claim (claimScheduledTaskInstances.ts) and the workers' hot statements are planned from
 * statistics that still say almost no row is `scheduled`, and autovacuum re-analyzes only after 10%
 * of the table changed and its next nap (a minute): a run mapped over 10,000 then drained under a plan
 * that walked every scheduled row for each claim (~0.4 s a claim, holding the claim lock). ANALYZE
 * samples at most 300 × default_statistics_target rows whatever the table's size, takes no lock that
 * blocks reads or writes, and invalidates the cached plans of prepared statements (ADR 0023).
 *
 * Locks: SHARE UPDATE EXCLUSIVE on task_instance (only another ANALYZE or VACUUM waits).
 */
export async function refreshTaskInstanceStatistics(knex: Knex): Promise<void> {
  await knex.raw('ANALYZE task_instance');
}
