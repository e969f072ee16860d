import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import type { Scenario } from '../scenario.ts';
import { sleep, startScheduler, type SchedulerProcess } from '../schedulerProcess.ts';

const PARALLELISM = 2;

/**
 * `deferred1000` / `deferred10000`: one task mapped over N instances, each deferring at once to a DateTimeTrigger
 * at one moment (`fireAt`, in the run's conf) far enough ahead for all N to defer first, held by one triggerer
 * (`airflow triggerer`, capacity N). Sampled every 100 ms: when the last one deferred, the triggerer's RSS and the
 * worker slots in use (running or queued task instances) while all wait, and after fireAt how long until half and
 * all of them left `deferred` (the triggerer's resume latency), then until half and all had run their resumed
 * method on a worker (parallelism 2, so this part is the executor's throughput).
 */
function deferredScenario(n: number): Scenario {
  const dagId = `deferred${n}`;
  return {
    name: dagId,
    description: `${n} mapped instances deferred to one DateTimeTrigger moment, one triggerer, parallelism ${PARALLELISM}`,
    metrics: [
      { key: 'defer_all_s', label: 'trigger → all deferred', unit: 's' },
      {
        key: 'triggerer_rss_mb',
        label: 'triggerer RSS holding all waits (max sampled)',
        unit: 'MiB',
        target: { op: '<=', value: 200, executors: ['LocalExecutor'] },
      },
      { key: 'slots_used', label: 'worker slots in use while all wait (max sampled)', unit: 'x', target: { op: '<=', value: 0, executors: ['LocalExecutor'] } },
      {
        key: 'resume_median_ms',
        label: 'event → half out of deferred (median resume)',
        unit: 'ms',
        target: { op: '<=', value: 1000, executors: ['LocalExecutor'] },
      },
      { key: 'resume_all_ms', label: 'event → all out of deferred', unit: 'ms' },
      { key: 'method_median_ms', label: 'event → half resumed in their method on a worker', unit: 'ms' },
      { key: 'method_all_ms', label: 'event → all resumed in their method on a worker', unit: 'ms' },
    ],
    plan: () => ({ parallelism: PARALLELISM, params: { mapped: n, maxMapLength: Math.max(1024, n) } }),
    async run(context, plan) {
      writeDeferredDag(context.dagsFolder, dagId, n);
      const scheduler = await context.startScheduler({ env: { AIRFLOW__CORE__MAX_MAP_LENGTH: String(plan.params.maxMapLength) } });
      let triggerer: SchedulerProcess | null = null;
      try {
        triggerer = await startScheduler({
          command: 'triggerer',
          home: context.home,
          dagsFolder: context.dagsFolder,
          databaseUrl: context.db.url,
          knex: context.db.knex,
          executor: context.executor,
          parallelism: PARALLELISM,
          env: { AIRFLOW__TRIGGERER__DEFAULT_CAPACITY: String(n) },
        });
        return await measure(context.db.knex, dagId, n, scheduler, triggerer);
      } finally {
        await triggerer?.stop();
      }
    },
  };
}

export const deferred1000 = deferredScenario(1_000);
export const deferred10000 = deferredScenario(10_000);

async function measure(knex: Knex, dagId: string, n: number, scheduler: SchedulerProcess, triggerer: SchedulerProcess): Promise<Record<string, number>> {
  // Time for all N to defer at well below the rate measured on a loaded machine (75/s with 2 slots), plus a margin.
  const fireAt = new Date(Date.now() + 20_000 + n * 25);
  const triggeredAt = Date.now();
  const run = await triggerDagRun(knex, { dagId, conf: { fireAt: fireAt.toISOString() }, now: new Date() });
  const counts = async () => {
    const rows: { state: string | null; n: number }[] = await knex('task_instance')
      .where({ dag_id: dagId, run_id: run.run_id, task_id: 'wait' })
      .groupBy('state')
      .select('state', knex.raw('count(*)::int AS n'));
    return Object.fromEntries(rows.map((r) => [r.state ?? 'none', r.n])) as Record<string, number>;
  };
  const alive = () => {
    const reason = scheduler.exitReason() ?? triggerer.exitReason();
    if (reason) throw new Error(reason);
  };
  let allDeferredAt: number | null = null;
  let rss = 0;
  let slots = 0;
  while (Date.now() < fireAt.getTime()) {
    alive();
    const c = await counts();
    if (allDeferredAt === null && (c.deferred ?? 0) === n) allDeferredAt = Date.now();
    if (allDeferredAt !== null) {
      rss = Math.max(rss, triggerer.rssMb());
      slots = Math.max(slots, (c.running ?? 0) + (c.queued ?? 0));
    }
    await sleep(100);
  }
  if (allDeferredAt === null)
    throw new Error(`not all ${n} task instances were deferred by the fire moment; raise the margin (${JSON.stringify(await counts())})`);
  let halfOut: number | null = null;
  let allOut: number | null = null;
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    alive();
    const c = await counts();
    const waiting = c.deferred ?? 0;
    if (halfOut === null && waiting <= n / 2) halfOut = Date.now();
    if (allOut === null && waiting === 0) allOut = Date.now();
    if ((c.success ?? 0) === n) break;
    if ((c.failed ?? 0) > 0) throw new Error(`a resumed task failed: ${JSON.stringify(c)}`);
    if (Date.now() > deadline) throw new Error(`not all resumed within 30 minutes: ${JSON.stringify(c)}`);
    await sleep(100);
  }
  const ends = (
    (await knex('task_instance')
      .where({ dag_id: dagId, run_id: run.run_id, task_id: 'wait' })
      .orderBy('end_date')
      .select(knex.raw('(extract(epoch from end_date) * 1000)::float8 AS end_ms'))) as { end_ms: number }[]
  ).map((r) => Number(r.end_ms));
  return {
    defer_all_s: (allDeferredAt - triggeredAt) / 1000,
    triggerer_rss_mb: rss,
    slots_used: slots,
    resume_median_ms: halfOut! - fireAt.getTime(),
    resume_all_ms: (allOut ?? Date.now()) - fireAt.getTime(),
    method_median_ms: ends[Math.floor(ends.length / 2)]! - fireAt.getTime(),
    method_all_ms: ends.at(-1)! - fireAt.getTime(),
  };
}

function writeDeferredDag(folder: string, dagId: string, n: number): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    path.join(folder, `${dagId}.ts`),
    `// Generated by bench/scenarios/deferred.ts: ${n} mapped instances, each deferring to one DateTimeTrigger moment (conf.fireAt).
import { BaseOperator, DAG, DateTimeTrigger } from 'airflow-ts';
import type { BaseOperatorOptions, TaskContext } from 'airflow-ts';

class WaitForMoment extends BaseOperator {
  readonly index: number;
  constructor(options: BaseOperatorOptions & { index: number }) {
    super(options);
    this.index = options.index;
  }
  serializeFields() {
    return { index: this.index };
  }
  override async execute(context: TaskContext): Promise<unknown> {
    return this.defer({ trigger: new DateTimeTrigger({ moment: String(context.dagRun.conf.fireAt) }), method: 'resumed' });
  }
  resumed(): undefined {
    return undefined;
  }
}

const dag = new DAG({ dagId: '${dagId}', schedule: null, isPausedUponCreation: false });
WaitForMoment.partial({ dag, taskId: 'wait' }).expand({ index: Array.from({ length: ${n} }, (_, i) => i) });

export default dag;
`,
  );
}
