import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { InProcessExecutor } from '../../executors/inProcessExecutor.ts';
import { REFRESH_STATISTICS_AT } from '../../scheduler/plannerStatistics.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const dags = tempDagsFolder();
const mappedDag = (dagId: string, n: number) =>
  [
    "import { DAG, task } from 'airflow-ts';",
    `const dag = new DAG({ dagId: '${dagId}' });`,
    `task({ dag, taskId: 'work' }, (x: number) => x).expand(Array.from({ length: ${n} }, (_, i) => i));`,
    'export default dag;',
    '',
  ].join('\n');
writeDag(dags, 'small.ts', mappedDag('small', REFRESH_STATISTICS_AT - 1));
writeDag(dags, 'large.ts', mappedDag('large', REFRESH_STATISTICS_AT));
const config = await testConfig(dags, db.url);
await parseDags(config, db.knex);
const logger = memoryLogger();
// Not started: its passes are driven one by one (each may hand one task to the in-process executor).
const executor = new InProcessExecutor({ knex: db.knex, config, logger });
const scheduler = new Scheduler({ knex: db.knex, config, executor, logger });
afterAll(() => executor.end());

/** When task_instance was last ANALYZEd by hand (autovacuum's own runs are counted apart). */
const lastAnalyze = async (): Promise<Date | null> =>
  ((await db.knex.raw(`SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'task_instance'`)).rows[0] as { last_analyze: Date | null }).last_analyze;

describe("task_instance's planner statistics after bulk scheduling (ADR 0023)", () => {
  it('a pass that schedules fewer task instances than the threshold leaves them; one that schedules the threshold or more refreshes them', async () => {
    await db.knex('dag').update({ is_paused: false });
    expect(await lastAnalyze()).toBeNull();

    await triggerDagRun(db.knex, { dagId: 'small', now: new Date() });
    const small = await scheduler.runOnce('full');
    await scheduler['statistics'].settled();
    expect(small.scheduled).toBe(REFRESH_STATISTICS_AT - 1);
    expect(await lastAnalyze()).toBeNull();

    await triggerDagRun(db.knex, { dagId: 'large', now: new Date() });
    const large = await scheduler.runOnce('full');
    await scheduler['statistics'].settled();
    expect(large.scheduled).toBeGreaterThanOrEqual(REFRESH_STATISTICS_AT);
    expect(await lastAnalyze()).toBeInstanceOf(Date);
    expect(logger.entries.filter((e) => e.message.includes('statistics'))).toEqual([]);
  });
});
