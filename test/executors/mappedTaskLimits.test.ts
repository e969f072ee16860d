import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { withinCaps } from '../../db/queries/claimScheduledTaskInstances.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

// Pools, maxActiveTisPerDagrun and maxActiveTisPerDag count every instance of a mapped task, as in Airflow:
// each body writes its start and end (ms) to a ledger, and the intervals show how many ran at once.
const db = await createTestDatabase();
const dags = tempDagsFolder();
const ledger = path.join(tempDagsFolder(), 'ledger');
const body = (name: string) =>
  `function ${name}(x: number) { appendFileSync(${JSON.stringify(ledger)}, \`${name} \${getCurrentContext().runId} \${x} start \${Date.now()}\\n\`); ` +
  `const until = Date.now() + 400; while (Date.now() < until) {} ` +
  `appendFileSync(${JSON.stringify(ledger)}, \`${name} \${getCurrentContext().runId} \${x} end \${Date.now()}\\n\`); return x; }`;
writeDag(
  dags,
  'mapped_limits.ts',
  [
    "import { appendFileSync } from 'node:fs';",
    "import { DAG, getCurrentContext, task } from 'airflow-ts';",
    "const dag = new DAG({ dagId: 'mapped_limits', maxActiveTasks: 16 });",
    'const items = task({ dag }, function items() { return [0, 1, 2, 3, 4, 5]; });',
    `task({ dag, maxActiveTisPerDagrun: 2 }, ${body('per_run')}).expand(items());`,
    `task({ dag, pool: 'single' }, ${body('pooled')}).expand([0, 1, 2]);`,
    `task({ dag, maxActiveTisPerDag: 1 }, ${body('per_dag')}).expand([0, 1]);`,
    'export default dag;',
    '',
  ].join('\n'),
);
const config = await testConfig(dags, db.url, { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '4' });
await db.knex('slot_pool').insert({ pool: 'single', slots: 1 });
await parseDags(config, db.knex);
const logger = memoryLogger();
const scheduler = new Scheduler({ knex: db.knex, config, executor: createExecutor(config, db.url, logger), logger });
await scheduler.start();
afterAll(() => scheduler.stop(5_000));

/** The most bodies of `task` (across runs) that were running at one moment, from the ledger. */
function mostAtOnce(task: string): number {
  const lines = readFileSync(ledger, 'utf8').trim().split('\n');
  const events = lines
    .map((l) => l.split(' '))
    .filter(([name]) => name === task)
    .map(([, , , what, at]) => ({ at: Number(at), delta: what === 'start' ? 1 : -1 }))
    .sort((a, b) => a.at - b.at || a.delta - b.delta); // an end and a start in the same ms: the end first
  let now = 0;
  let most = 0;
  for (const e of events) most = Math.max(most, (now += e.delta));
  return most;
}

describe('caps on a mapped task apply to each of its instances (LocalExecutor, parallelism 4)', () => {
  it('maxActiveTisPerDagrun, a 1-slot pool and maxActiveTisPerDag across two runs are never exceeded', { timeout: 120_000 }, async () => {
    await db.knex('dag').where('dag_id', 'mapped_limits').update({ is_paused: false });
    const runs = [
      await triggerDagRun(db.knex, { dagId: 'mapped_limits', conf: {}, now: new Date() }),
      await triggerDagRun(db.knex, { dagId: 'mapped_limits', conf: {}, now: new Date(Date.now() + 1) }),
    ];
    scheduler.wake();
    for (const run of runs) {
      const row = await eventually(
        'the run to finish',
        async () => {
          const r = await db.knex('dag_run').where('id', run.id).first();
          return r.state === 'success' || r.state === 'failed' ? r : null;
        },
        100_000,
      );
      expect(row.state).toBe('success');
    }
    const counts: { task_id: string; n: string }[] = await db
      .knex('task_instance')
      .where('dag_id', 'mapped_limits')
      .groupBy('task_id')
      .select('task_id')
      .count({ n: '*' });
    expect(Object.fromEntries(counts.map((c) => [c.task_id, Number(c.n)]))).toEqual({ items: 2, per_run: 12, pooled: 6, per_dag: 4 });
    for (const run of runs) {
      const lines = readFileSync(ledger, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith(`per_run ${run.run_id} `));
      expect(lines).toHaveLength(12); // 6 instances, start and end each
    }
    expect(mostPerRun('per_run')).toBeLessThanOrEqual(2);
    expect(mostAtOnce('pooled')).toBe(1);
    expect(mostAtOnce('per_dag')).toBe(1);
  });
});

/** The most bodies of `task` running at once within one run. */
function mostPerRun(task: string): number {
  const lines = readFileSync(ledger, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' '));
  const runIds = new Set(lines.filter(([name]) => name === task).map(([, runId]) => runId));
  let most = 0;
  for (const runId of runIds) {
    let now = 0;
    const events = lines
      .filter(([name, r]) => name === task && r === runId)
      .map(([, , , what, at]) => ({ at: Number(at), delta: what === 'start' ? 1 : -1 }))
      .sort((a, b) => a.at - b.at || a.delta - b.delta);
    for (const e of events) most = Math.max(most, (now += e.delta));
  }
  return most;
}

describe('withinCaps', () => {
  const candidate = (id: number, over: Partial<Parameters<typeof withinCaps>[0][number]> = {}) => ({
    id,
    dag_id: 'd',
    run_id: 'r1',
    task_id: 'm',
    pool: 'default_pool',
    pool_slots: 1,
    max_active_tasks: null,
    max_active_tis_per_dag: null,
    max_active_tis_per_dagrun: null,
    ...over,
  });
  const caps = { slots: 10, poolFree: new Map([['default_pool', 10]]), dagActive: new Map<string, number>(), maxActiveTasksPerDag: 16 };

  it('counts what already runs against maxActiveTisPerDagrun, per run', () => {
    const perRun = { max_active_tis_per_dagrun: 2 };
    const candidates = [candidate(1, perRun), candidate(2, perRun), candidate(3, perRun), candidate(4, { ...perRun, run_id: 'r2' })];
    expect(withinCaps(candidates, caps)).toEqual([1, 2, 4]);
    expect(withinCaps(candidates, { ...caps, taskRunActive: new Map([[JSON.stringify(['d', 'r1', 'm']), 1]]) })).toEqual([1, 4]);
  });

  it('counts every run against maxActiveTisPerDag, and other tasks not at all', () => {
    const perDag = { max_active_tis_per_dag: 2 };
    const candidates = [candidate(1, perDag), candidate(2, { ...perDag, run_id: 'r2' }), candidate(3, perDag), candidate(4, { task_id: 'other' })];
    expect(withinCaps(candidates, caps)).toEqual([1, 2, 4]);
    expect(withinCaps(candidates, { ...caps, taskActive: new Map([[JSON.stringify(['d', 'm']), 2]]) })).toEqual([4]);
  });
});
