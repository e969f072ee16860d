import type { Knex } from 'knex';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { waitForParsedDags } from '../dagRuns.ts';
import { writeMappedDag } from '../generateDags.ts';
import type { ScenarioResult } from '../report.ts';
import type { Metric, Scenario } from '../scenario.ts';
import { sleep, type SchedulerProcess } from '../schedulerProcess.ts';
import { median } from '../stats.ts';
import { startBenchUi } from '../webUi.ts';

const PARALLELISM = 2; // as fanout400, whose rate the drain is compared with
const FIBO = 10;
const GRID_REQUESTS = 10;
/** How often the bench looks for the expanded rows (and samples the scheduler's RSS meanwhile). */
const EXPANSION_POLL_MS = 5;
const RSS_SAMPLE_MS = 100;
const COUNT_EVERY_MS = 1000;
const TIMEOUT_MS = 30 * 60_000;
const STALL_MS = 120_000;

/**
 * One DAG whose task `work` is mapped over the `n` numbers that the upstream task `make_items`
 * returns (TaskFlow expand() over an XCom), LocalExecutor at parallelism 2 as fanout400. Per run:
 * expansion (upstream end_date → the n mapped rows committed), the drain rate (n / first mapped
 * start → last mapped end), the scheduler's RSS growth, its CPU time per mapped instance, and the
 * finished run's grid page server time. The ratio to fanout400's drain rate is added by run.ts
 * when fanout400 ran in the same bench. Targets (issue 14) apply at n = 10,000. With `reduce`, a task
 * `total` takes the n values after them (mapNreduce): what the worker's mini scheduler decides per instance.
 */
export function mappedScenario(n: number, options: { reduce?: boolean } = {}): Scenario {
  const reduce = options.reduce ?? false;
  const name = `map${n}${reduce ? 'reduce' : ''}`;
  const local = ['LocalExecutor'] as const;
  const target = (op: '<=' | '>=', value: number) => (n === 10_000 && !reduce ? { target: { op, value, executors: local } } : {});
  const metrics: Metric[] = [
    { key: 'expansion_ms', label: 'upstream end → all mapped rows committed', unit: 'ms', ...target('<=', 1000) },
    { key: 'drain_ti_per_s', label: 'mapped instances/s, first mapped start → last mapped end', unit: 'TI/s' },
    { key: 'rss_growth_mb', label: 'scheduler RSS growth (max sampled − before trigger)', unit: 'MiB', ...target('<=', 50) },
    { key: 'grid_ms', label: 'grid page of the finished run, server time', unit: 'ms', ...target('<=', 300) },
    { key: 'cpu_ms_per_ti', label: 'scheduler CPU per mapped instance (trigger → run end)', unit: 'ms' },
    { key: 'total_ms', label: 'trigger → last end', unit: 'ms' },
    { key: 'task_median_ms', label: 'mapped instance start → end, median', unit: 'ms' },
  ];
  return {
    name,
    description: `one task mapped over ${n} elements from an upstream task, fibo(${FIBO}) each${reduce ? ', then a reduce' : ''}, parallelism ${PARALLELISM}`,
    metrics,
    plan: () => ({ parallelism: PARALLELISM, params: { mapped: n, fibo: FIBO, maxMapLength: Math.max(1024, n) } }),
    async run(context, plan) {
      const { knex } = context.db;
      const dag = writeMappedDag(context.dagsFolder, name, n, FIBO, reduce);
      const scheduler = await context.startScheduler({ env: { AIRFLOW__CORE__MAX_MAP_LENGTH: String(plan.params.maxMapLength) } });
      const figures = await measureRun(knex, dag.dagId, n, scheduler);
      const ui = await startBenchUi(context);
      try {
        return { ...figures, grid_ms: await ui.serverTimeMs(`/dags/${dag.dagId}/grid?num_runs=25`, GRID_REQUESTS) };
      } finally {
        await ui.stop();
      }
    },
  };
}

export const map100 = mappedScenario(100);
export const map1000 = mappedScenario(1000);
export const map10000 = mappedScenario(10_000);
export const map1000reduce = mappedScenario(1000, { reduce: true });

// extract(epoch ...) is numeric: exact to the microsecond, unlike a JS Date (ms).
const epochMs = (expression: string) => `(extract(epoch from ${expression}) * 1000)::text`;

/**
 * Triggers the run and follows it to success. Until the mapped rows exist it polls every 5 ms for
 * them, reading the database's clock_timestamp() with the count: the rows appear all at once when
 * the expanding transaction commits, so that poll's time is the commit to within ~5 ms. The RSS of
 * the scheduler process (VmRSS) is sampled every 100 ms from just before the trigger to the end.
 */
async function measureRun(knex: Knex, dagId: string, n: number, scheduler: SchedulerProcess): Promise<Omit<Record<string, number>, 'grid_ms'>> {
  const rssBefore = scheduler.rssMb();
  const cpuBefore = scheduler.cpuMs();
  let rssMax = rssBefore;
  let lastRssSample = Date.now();
  const sampleRss = () => {
    if (Date.now() - lastRssSample < RSS_SAMPLE_MS) return;
    lastRssSample = Date.now();
    rssMax = Math.max(rssMax, scheduler.rssMb());
  };
  await waitForParsedDags(knex, [dagId], scheduler, TIMEOUT_MS);
  const run = await triggerDagRun(knex, { dagId, now: new Date() });
  const where = { dag_id: dagId, run_id: run.run_id };
  const deadline = Date.now() + TIMEOUT_MS;
  let expandedAt: number | null = null;
  let states = '';
  let movedAt = Date.now();
  let countedAt = 0;
  for (;;) {
    sampleRss();
    if (expandedAt === null) {
      const row = await knex('task_instance')
        .where({ ...where, task_id: 'work' })
        .where('map_index', '>=', 0)
        .first(knex.raw('count(*)::int AS n'), knex.raw(`${epochMs('clock_timestamp()')} AS at_ms`));
      if (row.n === n) expandedAt = Number(row.at_ms);
      else if (row.n > 0) throw new Error(`saw ${row.n} of ${n} mapped rows: expansion is not one transaction`);
    }
    const { state } = await knex('dag_run').where(where).first('state');
    if (state === 'success' && expandedAt !== null) break;
    // Counting 10,000 rows by state is work on the measured database: once a second is enough to see a stall.
    if (Date.now() - countedAt >= COUNT_EVERY_MS) {
      countedAt = Date.now();
      const counts = await knex('task_instance').where(where).groupBy('state').orderBy('state').select('state', knex.raw('count(*)::int AS n'));
      const now = counts.map((c: { state: string | null; n: number }) => `${c.state ?? 'none'}=${c.n}`).join(' ');
      if (now !== states) [states, movedAt] = [now, Date.now()];
    }
    const problem =
      state === 'failed'
        ? 'failed'
        : state === 'success'
          ? `succeeded without the bench seeing ${n} mapped rows`
          : scheduler.exitReason()
            ? `is ${state}, but ${scheduler.exitReason()}`
            : Date.now() - movedAt > STALL_MS
              ? `made no progress for ${STALL_MS / 1000} s`
              : Date.now() > deadline
                ? `did not finish within ${TIMEOUT_MS / 1000} s`
                : null;
    if (problem) throw new Error(`run ${run.run_id} of ${dagId} ${problem}; task instances: ${states}`);
    await sleep(expandedAt === null ? EXPANSION_POLL_MS : RSS_SAMPLE_MS);
  }
  const cpuAfter = scheduler.cpuMs();
  rssMax = Math.max(rssMax, scheduler.rssMb());

  const times = await knex('task_instance')
    .where(where)
    .first(
      knex.raw(`${epochMs("max(end_date) FILTER (WHERE task_id = 'make_items')")} AS upstream_end`),
      knex.raw(`${epochMs("min(start_date) FILTER (WHERE task_id = 'work')")} AS first_start`),
      knex.raw(`${epochMs("max(end_date) FILTER (WHERE task_id = 'work')")} AS last_end`),
      knex.raw(`count(*) FILTER (WHERE task_id = 'work' AND state = 'success')::int AS succeeded`),
    );
  if (times.succeeded !== n) throw new Error(`${times.succeeded} of ${n} mapped instances succeeded`);
  const queued = await knex('dag_run')
    .where(where)
    .first(knex.raw(`${epochMs('queued_at')} AS at`));
  const instances = (
    (await knex('task_instance')
      .where({ ...where, task_id: 'work' })
      .select(knex.raw(`${epochMs('start_date')} AS start_ms`), knex.raw(`${epochMs('end_date')} AS end_ms`))) as {
      start_ms: string;
      end_ms: string;
    }[]
  ).map((r) => ({ start: Number(r.start_ms), end: Number(r.end_ms) }));
  const lastEnd = Number(times.last_end);
  return {
    expansion_ms: expandedAt - Number(times.upstream_end),
    drain_ti_per_s: n / ((lastEnd - Number(times.first_start)) / 1000),
    rss_growth_mb: rssMax - rssBefore,
    cpu_ms_per_ti: (cpuAfter - cpuBefore) / n,
    total_ms: lastEnd - Number(queued.at),
    task_median_ms: median(instances.map((t) => t.end - t.start)),
  };
}

/**
 * Adds to each mapN result "drain rate / fanout400's" (its first start → last end rate, median, same
 * executor, same bench): the issue's target is a ratio of at least 1 at 10,000. Without a fanout400
 * result in this bench there is nothing to compare with and nothing is added.
 */
export function addDrainRatios(results: ScenarioResult[]): void {
  for (const result of results) {
    const n = mappedCount(result.scenario);
    const drain = result.metrics.find((m) => m.key === 'drain_ti_per_s');
    const fanout = results
      .find((r) => r.scenario === 'fanout400' && r.executor === result.executor && !r.plan.note)
      ?.metrics.find((m) => m.key === 'ti_per_s_running');
    if (n === null || !drain || !fanout) continue;
    const values = drain.values.map((v) => v / fanout.median);
    const ratio = median(values);
    const applies = n === 10_000 && result.scenario === `map${n}` && result.executor === 'LocalExecutor' && !result.plan.note;
    result.metrics.push({
      key: 'drain_vs_fanout400',
      label: `drain rate / fanout400's (${fanout.median.toFixed(1)} TI/s, first start → last end)`,
      unit: 'x',
      median: ratio,
      values,
      ...(applies && { target: { op: '>=', value: 1, met: ratio >= 1 } }),
    });
  }
}

/** Scheduler CPU per finished mapped instance against N, per executor: the curve the issue asks to stay flat. */
export function costCurve(results: readonly ScenarioResult[]): string[] {
  const lines: string[] = [];
  for (const executor of new Set(results.map((r) => r.executor))) {
    const points = results
      .filter((r) => r.executor === executor && mappedCount(r.scenario) !== null && !r.scenario.endsWith('reduce'))
      .map((r) => ({ n: mappedCount(r.scenario)!, cost: r.metrics.find((m) => m.key === 'cpu_ms_per_ti')?.median }))
      .filter((p): p is { n: number; cost: number } => p.cost !== undefined)
      .sort((a, b) => a.n - b.n);
    if (points.length === 0) continue;
    const curve = points.map((p) => `${p.n.toLocaleString('en-US')} → ${p.cost.toFixed(3)} ms`).join(', ');
    lines.push(`Scheduler CPU per mapped instance (${executor}): ${curve}`);
  }
  return lines;
}

function mappedCount(scenario: string): number | null {
  const match = /^map(\d+)(reduce)?$/.exec(scenario);
  return match ? Number(match[1]) : null;
}
