import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { createDueDagRuns } from '../../scheduler/createDueDagRuns.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';

// Item 8 of issue 12: one bad DAG must not stop run creation for the other due DAGs.
const { knex } = await createTestDatabase();
const NOW = new Date('2026-03-10T12:00:00Z');
const START = new Date('2026-03-01T00:00:00Z');

async function dueDag(dagId: string): Promise<void> {
  await registerDag(knex, { dagId, schedule: '@daily', startDate: START, catchup: false }, { only: {} }, { now: NOW });
}
const runsOf = async (dagId: string) => (await knex('dag_run').where('dag_id', dagId).pluck('run_id')) as string[];

describe('createDueDagRuns with a bad DAG among the due ones', () => {
  it.each([
    ['its timetable throws', "jsonb_set(data, '{schedule}', '\"not a cron expression\"')"],
    ['its task instance insert fails', "jsonb_set(data, '{tasks,0,taskId}', 'null')"],
  ])("creates the other DAGs' runs when one DAG fails (%s), and logs the failure with its id", async (_why, breakIt) => {
    const suffix = _why.includes('timetable') ? 'tt' : 'ins';
    await knex('dag').update({ is_paused: true }); // the previous case's DAGs are out of the way
    // The broken DAG sorts first among the due ones.
    await dueDag(`a_broken_${suffix}`);
    await dueDag(`b_fine_${suffix}`);
    await knex('serialized_dag')
      .where('dag_id', `a_broken_${suffix}`)
      .update({ data: knex.raw(breakIt) });
    const logger = memoryLogger();

    const created = await createDueDagRuns(knex, { now: NOW, catchupByDefault: false, maxActiveRunsPerDag: 16, jobId: null, logger });

    expect(created.map((r) => r.dag_id)).toEqual([`b_fine_${suffix}`]);
    expect(await runsOf(`b_fine_${suffix}`)).toEqual(['scheduled__2026-03-09T00:00:00+00:00']);
    expect(await runsOf(`a_broken_${suffix}`)).toEqual([]); // nothing half-written for the bad one
    expect(logger.entries.filter((e) => e.level === 'error').map((e) => e.meta.dagId)).toEqual([`a_broken_${suffix}`]);
  });

  it('a DAG that failed goes to the back of the queue for a minute, so broken DAGs sorted first cannot starve the others', async () => {
    await knex('dag').update({ is_paused: true });
    await dueDag('a_broken_first');
    await dueDag('b_waiting');
    await knex('serialized_dag')
      .where('dag_id', 'a_broken_first')
      .update({ data: knex.raw("jsonb_set(data, '{schedule}', '\"not a cron\"')") });
    const pass = (now: Date) =>
      createDueDagRuns(knex, { now, catchupByDefault: false, maxActiveRunsPerDag: 16, jobId: null, logger: memoryLogger(), limit: 1 });

    expect(await pass(NOW)).toEqual([]); // only the broken one fit in this pass
    expect((await pass(NOW)).map((r) => r.dag_id)).toEqual(['b_waiting']);
    // A minute later the broken DAG is tried again (and fails again).
    const logger = memoryLogger();
    await createDueDagRuns(knex, { now: new Date(NOW.getTime() + 61_000), catchupByDefault: false, maxActiveRunsPerDag: 16, jobId: null, logger, limit: 1 });
    expect(logger.entries.filter((e) => e.level === 'error').map((e) => e.meta.dagId)).toEqual(['a_broken_first']);
  });
});
