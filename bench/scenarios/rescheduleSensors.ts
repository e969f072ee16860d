import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { triggerAndWait, waitForParsedDags } from '../dagRuns.ts';
import { writeFanoutDag } from '../generateDags.ts';
import type { ScenarioResult } from '../report.ts';
import type { Scenario } from '../scenario.ts';
import { sleep } from '../schedulerProcess.ts';
import { median } from '../stats.ts';

const SENSORS = 1000;
const OTHERS = 400;
const PARALLELISM = 2;
/** Airflow's default poke interval (60 s): ~17 pokes/s for 1,000 sensors, each a try that takes a slot for a few ms. */
const POKE_INTERVAL_MS = 60_000;
const TIMEOUT_MS = 10 * 60_000;

// extract(epoch ...) is numeric: exact to the microsecond, unlike a JS Date (ms).
const epochMs = (expression: string) => `(extract(epoch from ${expression}) * 1000)::text`;

/**
 * Issue 15: 1,000 reschedule-mode sensors waiting at parallelism 2 while 400 other tasks (fanout400's DAG)
 * run, triggered once the sensors' second pokes have begun. Each poke is a try that frees its slot when it
 * ends (up_for_reschedule), so the other tasks get the slots between pokes (the sensors' run is older, so
 * its due pokes are claimed first, as in Airflow at equal priority weight). Figures: time until every sensor has poked once, the other tasks' rate
 * (first start → last end; the ratio to fanout400 alone is added when fanout400 ran in the same bench), the
 * pokes per second meanwhile, and the time from the file the sensors wait for appearing to the last sensor's
 * success (at most one poke interval, plus the queue).
 */
export const sensors1000: Scenario = {
  name: 'sensors1000',
  description: `${SENSORS} reschedule-mode sensors (poke every ${POKE_INTERVAL_MS / 1000} s) and ${OTHERS} fibo(10) tasks beside them, parallelism ${PARALLELISM}`,
  metrics: [
    { key: 'all_poked_ms', label: 'trigger → every sensor has poked once', unit: 'ms' },
    { key: 'others_ti_per_s', label: `the ${OTHERS} other tasks' rate while the sensors wait, first start → last end`, unit: 'TI/s' },
    { key: 'pokes_per_s', label: 'sensor pokes/s while the other tasks ran', unit: 'TI/s' },
    { key: 'release_ms', label: 'file written → last sensor succeeded', unit: 'ms' },
  ],
  plan: () => ({ parallelism: PARALLELISM, params: { sensors: SENSORS, others: OTHERS, pokeIntervalMs: POKE_INTERVAL_MS } }),
  async run(context) {
    const { knex } = context.db;
    const release = path.join(context.home, 'sensors1000.release');
    writeSensorsDag(context.dagsFolder, release);
    const others = writeFanoutDag(context.dagsFolder, 'others400', OTHERS, 10);
    const scheduler = await context.startScheduler();
    await waitForParsedDags(knex, ['sensors1000', others.dagId], scheduler, TIMEOUT_MS);
    const run = await triggerDagRun(knex, { dagId: 'sensors1000', now: new Date() });
    const where = { 'ti.dag_id': 'sensors1000', 'ti.run_id': run.run_id };
    const deadline = Date.now() + TIMEOUT_MS;
    const poked = async () =>
      (await knex('task_reschedule as tr').join('task_instance as ti', 'ti.id', 'tr.ti_id').where(where).countDistinct({ n: 'tr.ti_id' }).first()) as {
        n: string;
      };
    while (Number((await poked()).n) < SENSORS) {
      if (scheduler.exitReason() || Date.now() > deadline)
        throw new Error(`sensors did not all poke: ${(await poked()).n} of ${SENSORS}; ${scheduler.exitReason() ?? 'timed out'}`);
      await sleep(200);
    }
    const firstPokes = await knex.raw(
      `SELECT ${epochMs('max(first_end)')} AS at, ${epochMs('min(first_end)')} AS first FROM (SELECT min(tr.end_date) AS first_end FROM task_reschedule tr JOIN task_instance ti ON ti.id = tr.ti_id WHERE ti.dag_id = ? AND ti.run_id = ? GROUP BY tr.ti_id) f`,
      ['sensors1000', run.run_id],
    );
    const queued = await knex('dag_run')
      .where({ dag_id: 'sensors1000', run_id: run.run_id })
      .first(knex.raw(`${epochMs('queued_at')} AS at`));

    // The other tasks start once the sensors' second pokes have begun (20 of them seen): they compete with them.
    await sleep(Math.max(0, Number(firstPokes.rows[0].first) + POKE_INTERVAL_MS - Date.now()));
    while (Number((await pokeCount(knex, run.run_id)).n) < SENSORS + 20) {
      if (scheduler.exitReason() || Date.now() > deadline) throw new Error(`the second pokes did not begin: ${scheduler.exitReason() ?? 'timed out'}`);
      await sleep(50);
    }
    const busy = await triggerAndWait(knex, others.dagId, scheduler, TIMEOUT_MS);
    const firstStart = Math.min(...busy.tasks.map((t) => t.start));
    const lastEnd = Math.max(...busy.tasks.map((t) => t.end));
    const pokes = await pokesBetween(knex, run.run_id, firstStart, lastEnd);

    writeFileSync(release, 'go');
    const releasedAt = Date.now();
    for (;;) {
      const { state } = await knex('dag_run').where({ dag_id: 'sensors1000', run_id: run.run_id }).first('state');
      if (state === 'success') break;
      if (state === 'failed' || scheduler.exitReason() || Date.now() > deadline)
        throw new Error(`sensors run ${state}: ${scheduler.exitReason() ?? 'timed out'}`);
      await sleep(200);
    }
    const last = await knex('task_instance')
      .where({ dag_id: 'sensors1000', run_id: run.run_id })
      .first(knex.raw(`${epochMs('max(end_date)')} AS at`));
    return {
      all_poked_ms: Number(firstPokes.rows[0].at) - Number(queued.at),
      others_ti_per_s: OTHERS / ((lastEnd - firstStart) / 1000),
      pokes_per_s: pokes / ((lastEnd - firstStart) / 1000),
      release_ms: Number(last.at) - releasedAt,
    };
  },
};

/** Every sensor poke of the run so far (each try that ended up for reschedule). */
const pokeCount = async (knex: Knex, runId: string) =>
  (await knex('task_reschedule as tr')
    .join('task_instance as ti', 'ti.id', 'tr.ti_id')
    .where({ 'ti.dag_id': 'sensors1000', 'ti.run_id': runId })
    .count({ n: '*' })
    .first()) as {
    n: string;
  };

/** Sensor pokes (tries ended up for reschedule) that ended between two epoch-ms instants. */
async function pokesBetween(knex: Knex, runId: string, fromMs: number, toMs: number): Promise<number> {
  const row = await knex('task_reschedule as tr')
    .join('task_instance as ti', 'ti.id', 'tr.ti_id')
    .where({ 'ti.dag_id': 'sensors1000', 'ti.run_id': runId })
    .whereBetween('tr.end_date', [new Date(fromMs), new Date(toMs)])
    .count({ n: '*' })
    .first();
  return Number((row as { n: string }).n);
}

function writeSensorsDag(folder: string, release: string): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    path.join(folder, 'sensors1000.ts'),
    `// Generated by bench/scenarios/rescheduleSensors.ts: ${SENSORS} reschedule-mode sensors waiting for one file.
import { existsSync } from 'node:fs';
import { DAG, FunctionSensor } from 'airflow-ts';

const dag = new DAG({ dagId: 'sensors1000', schedule: null, isPausedUponCreation: false, maxActiveTasks: ${SENSORS + OTHERS} });
for (let i = 0; i < ${SENSORS}; i++)
  new FunctionSensor({ dag, taskId: 's' + String(i).padStart(4, '0'), mode: 'reschedule', pokeInterval: ${POKE_INTERVAL_MS}, timeout: { hours: 1 }, fn: () => existsSync(${JSON.stringify(release)}) });

export default dag;
`,
  );
}

/** Adds "the other tasks' rate / fanout400's" (same executor, same bench) to each sensors1000 result. */
export function addSensorRatios(results: ScenarioResult[]): void {
  for (const result of results.filter((r) => r.scenario === 'sensors1000')) {
    const others = result.metrics.find((m) => m.key === 'others_ti_per_s');
    const fanout = results
      .find((r) => r.scenario === 'fanout400' && r.executor === result.executor && !r.plan.note)
      ?.metrics.find((m) => m.key === 'ti_per_s_running');
    if (!others || !fanout) continue;
    const values = others.values.map((v) => v / fanout.median);
    result.metrics.push({
      key: 'others_vs_fanout400',
      label: `other tasks' rate / fanout400's alone (${fanout.median.toFixed(1)} TI/s)`,
      unit: 'x',
      median: median(values),
      values,
    });
  }
}
