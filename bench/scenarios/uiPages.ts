import type { Knex } from 'knex';
import { DAG } from '../../core/dag.ts';
import { serializeDag } from '../../core/serialize.ts';
import { recordParsedFile } from '../../db/dagFileRecords.ts';
import { transitionTaskInstances } from '../../db/transitions.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import type { Scenario } from '../scenario.ts';
import { startBenchUi } from '../webUi.ts';

const DAGS = 1000;
const GRID_TASKS = 100;
const GRID_RUNS = 25;
const REQUESTS = 10;
const both = ['LocalExecutor', 'SequentialExecutor'] as const;

/**
 * Server time of the web UI (its Server-Timing header) with 1,000 DAGs: the
 * DAGs page, and a DAG's grid of 25 runs x 100 tasks. Median of 10 requests
 * after one warm-up. The executor plays no part; it runs once per executor
 * only to fit the table.
 */
export const uiPages: Scenario = {
  name: 'ui_pages',
  description: `web UI server time with ${DAGS} DAGs and a ${GRID_RUNS} x ${GRID_TASKS} grid`,
  metrics: [
    { key: 'dag_list_ms', label: 'DAGs page, server time', unit: 'ms', target: { op: '<=', value: 200, executors: both } },
    { key: 'grid_ms', label: 'grid 25 runs x 100 tasks, server time', unit: 'ms', target: { op: '<=', value: 200, executors: both } },
  ],
  plan: () => ({ parallelism: 32, params: { dags: DAGS, gridRuns: GRID_RUNS, gridTasks: GRID_TASKS } }),
  async run(context) {
    await seed(context.db.knex);
    const ui = await startBenchUi(context);
    try {
      return {
        dag_list_ms: await ui.serverTimeMs('/', REQUESTS),
        grid_ms: await ui.serverTimeMs(`/dags/bench_grid/grid?num_runs=${GRID_RUNS}`, REQUESTS),
      };
    } finally {
      await ui.stop();
    }
  },
};

/** 1,000 ten-task DAGs, recorded as the DAG processor would, and a 100-task DAG with 25 finished runs. */
async function seed(knex: Knex): Promise<void> {
  const record = async (dag: DAG) => {
    const serialized = { ...serializeDag(dag), fileloc: `/bench/${dag.dagId}.ts` };
    await recordParsedFile(knex, {
      file: serialized.fileloc,
      dags: [serialized],
      source: '// bench',
      parsedAt: new Date(),
      pausedAtCreation: false,
      catchupByDefault: false,
    });
  };
  for (let d = 0; d < DAGS; d++) {
    const dag = new DAG({ dagId: `bench_list_${String(d).padStart(4, '0')}`, tags: ['bench'] });
    let previous: EmptyOperator | null = null;
    for (let t = 0; t < 10; t++) {
      const task: EmptyOperator = new EmptyOperator({ dag, taskId: `t${t}` });
      previous?.then(task);
      previous = task;
    }
    await record(dag);
  }
  const grid = new DAG({ dagId: 'bench_grid' });
  const tasks: EmptyOperator[] = [];
  for (let t = 0; t < GRID_TASKS; t++) {
    const task = new EmptyOperator({ dag: grid, taskId: `task_${String(t).padStart(3, '0')}` });
    if (t > 0) tasks[Math.floor((t - 1) / 3)]!.then(task);
    tasks.push(task);
  }
  await record(grid);
  for (let r = 0; r < GRID_RUNS; r++) {
    const run = await triggerDagRun(knex, { dagId: 'bench_grid', runId: `bench_${r}`, logicalDate: new Date(Date.UTC(2025, 0, 1 + r)), now: new Date() });
    const ids: number[] = await knex('task_instance').where({ dag_id: 'bench_grid', run_id: run.run_id }).pluck('id');
    await transitionTaskInstances(knex, ids, { to: r % 4 === 0 ? 'failed' : 'success', now: new Date() });
  }
}
