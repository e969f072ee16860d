import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { transitionDagRun, transitionTaskInstance } from '../../db/transitions.ts';
import { workloadOf } from '../../db/taskWorkload.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

// No scheduler runs here: only the worker itself can take the run's next task after its sensor's poke.
const db = await createTestDatabase();
const dags = tempDagsFolder();
writeDag(
  dags,
  'poking.ts',
  `import { DAG, FunctionOperator, FunctionSensor } from 'airflow-ts';
const dag = new DAG({ dagId: 'poking' });
new FunctionSensor({ dag, taskId: 'wait', mode: 'reschedule', pokeInterval: 60_000, fn: () => false });
new FunctionOperator({ dag, taskId: 'other', fn: () => 'ran' });
export default dag;
`,
);
const config = await testConfig(dags, db.url, { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '1' });
await parseDags(config, db.knex);
const executor = createExecutor(config, db.url, memoryLogger());
afterAll(() => executor.terminate());

describe("a warm worker after its sensor's poke ended up for reschedule", () => {
  it("goes on with the run's next scheduled task by itself (a claim of its own), instead of leaving it to the scheduler", async () => {
    await executor.start({ jobId: null });
    const run = await triggerDagRun(db.knex, { dagId: 'poking', now: new Date() });
    await transitionDagRun(db.knex, run.id, { to: 'running', now: new Date() }); // as the scheduler would
    const ti = (taskId: string) => db.knex('task_instance').where({ dag_id: 'poking', run_id: run.run_id, task_id: taskId }).first();
    const wait = await ti('wait');
    for (const to of ['scheduled', 'queued'] as const) await transitionTaskInstance(db.knex, wait.id, { to, now: new Date() });
    await transitionTaskInstance(db.knex, (await ti('other')).id, { to: 'scheduled', now: new Date() });

    executor.queue(workloadOf(await ti('wait')));
    const other = await eventually('the other task to succeed in the same worker', async () => {
      const row = await ti('other');
      return row.state === 'success' && row;
    });
    const poked = await ti('wait');
    expect(poked.state).toBe('up_for_reschedule');
    expect(other.pid).toBe(poked.pid); // the worker that poked ran it
    expect(other.start_date.getTime()).toBeGreaterThanOrEqual(poked.end_date.getTime());
  });
});
