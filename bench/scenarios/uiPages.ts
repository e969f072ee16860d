import type { Knex } from 'knex';
import { memoryLogger } from '../../core/logger.ts';
import { DAG } from '../../core/dag.ts';
import { serializeDag } from '../../core/serialize.ts';
import { recordParsedFile } from '../../db/dagFileRecords.ts';
import { transitionTaskInstances } from '../../db/transitions.ts';
import { createUser } from '../../db/models/user.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { startWebserver } from '../../webserver/startWebserver.ts';
import { resolveConfig } from '../../config/resolveConfig.ts';
import type { Scenario } from '../scenario.ts';
import { median } from '../stats.ts';

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
    const { knex, url } = context.db;
    await seed(knex);
    const config = await resolveConfig({
      cwd: context.home,
      env: { AIRFLOW_HOME: context.home, AIRFLOW__DATABASE__URL: url, AIRFLOW__CORE__DAGS_FOLDER: context.dagsFolder },
    });
    const server = await startWebserver({ knex, config, logger: memoryLogger(), port: 0, host: '127.0.0.1' });
    try {
      const cookie = await logIn(server.url);
      const serverTime = async (path: string) => {
        const times: number[] = [];
        for (let i = 0; i <= REQUESTS; i++) {
          const response = await fetch(`${server.url}${path}`, { headers: { cookie } });
          if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status}`);
          await response.text();
          if (i > 0) times.push(Number(/app;dur=([\d.]+)/.exec(response.headers.get('server-timing') ?? '')?.[1]));
        }
        return median(times);
      };
      return { dag_list_ms: await serverTime('/'), grid_ms: await serverTime(`/dags/bench_grid/grid?num_runs=${GRID_RUNS}`) };
    } finally {
      await server.stop();
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
  await createUser(knex, { username: 'bench', password: 'bench-password', role: 'Viewer' });
}

/** Logs in through the form (CSRF token from the page) and returns the session cookie. */
async function logIn(baseUrl: string): Promise<string> {
  const form = await fetch(`${baseUrl}/login`);
  const cookie = (form.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const response = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, username: 'bench', password: 'bench-password', next: '/' }),
  });
  const session = (response.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
  if (response.status !== 302 || !session) throw new Error(`could not log in to the UI (HTTP ${response.status})`);
  return session;
}
