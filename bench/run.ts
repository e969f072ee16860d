/**
 * `npm run bench`: starts the system on the embedded Postgres and measures
 * each scenario with each executor, from the task instances' own timestamps.
 * Prints one table (median of the runs) and writes the same figures as JSON
 * to bench/results/. A benchmark, not a test: missed targets do not fail it.
 *
 *   npm run bench -- [--scenario NAME]... [--executor LocalExecutor|SequentialExecutor]... [--runs N] [--quick]
 *                    [--sequential-fanout-tasks N]   (fewer fanout400 tasks with the SequentialExecutor, labelled)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startEmbeddedSystem, type BenchSystem } from './embeddedSystem.ts';
import { formatTable, formatValue, gitCommit, machineInfo, writeReport, type Report, type ScenarioResult } from './report.ts';
import { EXECUTORS, type BenchOptions, type ExecutorName, type Plan, type Scenario } from './scenario.ts';
import { SCENARIOS } from './scenarios/index.ts';
import { addDrainRatios, costCurve } from './scenarios/mapped.ts';
import { addSensorRatios } from './scenarios/rescheduleSensors.ts';
import { isExecutorUnavailable, startScheduler, stopAllSchedulers, type SchedulerProcess } from './schedulerProcess.ts';
import { median } from './stats.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
// The embedded Postgres cluster lives here (gitignored), reused across invocations.
const TMP = path.join(BENCH_DIR, '.tmp');
const USAGE =
  'usage: npm run bench -- [--scenario NAME]... [--executor LocalExecutor|SequentialExecutor]... [--runs N] [--quick] [--sequential-fanout-tasks N]';

const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', multiple: true },
    executor: { type: 'string', multiple: true },
    runs: { type: 'string' },
    quick: { type: 'boolean' },
    'sequential-fanout-tasks': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(
    `${USAGE}\nscenarios: ${SCENARIOS.map((s) => s.name).join(', ')}\n--quick: one run of each, a smoke check\n--sequential-fanout-tasks N: run fanout400 with N tasks under the SequentialExecutor (labelled; no target verdict)`,
  );
  process.exit(0);
}
const usageError = (message: string): never => {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
};
const scenarios = args.scenario
  ? args.scenario.map(
      (name) => SCENARIOS.find((s) => s.name === name) ?? usageError(`unknown scenario ${name}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`),
    )
  : SCENARIOS;
const executors = (args.executor ?? [...EXECUTORS]).map((name) =>
  (EXECUTORS as readonly string[]).includes(name) ? (name as ExecutorName) : usageError(`unknown executor ${name}; known: ${EXECUTORS.join(', ')}`),
);
const runs = args.quick ? 1 : Number(args.runs ?? 5);
if (!Number.isInteger(runs) || runs < 1) usageError(`--runs must be an integer >= 1, got ${args.runs}`);
const capArg = args['sequential-fanout-tasks'];
const options: BenchOptions = { sequentialFanoutTasks: capArg === undefined ? null : Number(capArg) };
if (capArg !== undefined && !(Number.isInteger(options.sequentialFanoutTasks) && options.sequentialFanoutTasks! >= 1)) {
  usageError(`--sequential-fanout-tasks must be an integer >= 1, got ${capArg}`);
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

// Each run's AIRFLOW_HOME and dags folder go to the system temp folder, not bench/.tmp: the DAG
// processor's watcher ignores every path with a dot-folder in it (its absolute path is matched),
// so edits to a dags folder under bench/.tmp would never be seen and parse1000 could not measure them.
const RUNS = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-bench-'));
// Interrupted: stop the scheduler we started (it drains its running tasks) rather than leave it behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`\n${signal}: stopping the scheduler, then exiting; the embedded Postgres stays up for the next run, ${RUNS} stays for a look`);
    void stopAllSchedulers().finally(() => process.exit(130));
  });
}

const loadAtStart = os.loadavg();
const commit = gitCommit(BENCH_DIR);
progress('starting the embedded Postgres...');
const system = await startEmbeddedSystem(TMP);
const results: ScenarioResult[] = [];
try {
  for (const executor of executors) {
    let unavailable: string | null = null;
    for (const scenario of scenarios) {
      const result: ScenarioResult = unavailable
        ? { ...emptyResult(scenario, executor), status: 'unavailable' as const, message: unavailable }
        : await runScenario(system, scenario, executor);
      if (result.status === 'unavailable') unavailable = result.message ?? 'unavailable';
      results.push(result);
    }
  }
} finally {
  await system.close();
  rmdirIfEmpty(RUNS); // failed runs' folders stay for a look
}

addDrainRatios(results);
addSensorRatios(results);
const report: Report = {
  generatedAt: new Date().toISOString(),
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
  commit,
  runsPerScenario: runs,
  options,
  machine: machineInfo(system.postgresVersion, loadAtStart),
  results,
};
const file = writeReport(report, path.join(BENCH_DIR, 'results'));
console.log([formatTable(report), ...costCurve(results).map((line, i) => `${i === 0 ? '\n' : ''}${line}`)].join('\n'));
progress(`\nwrote ${path.relative(process.cwd(), file)} and bench/results/latest.json`);
if (results.some((r) => r.status === 'error')) process.exitCode = 1;

function rmdirIfEmpty(dir: string): void {
  if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
}

function emptyResult(scenario: Scenario, executor: ExecutorName): ScenarioResult {
  return { scenario: scenario.name, description: scenario.description, executor, status: 'ok', runs: 0, plan: scenario.plan(executor, options), metrics: [] };
}

/** `runs` runs of one scenario with one executor; stops at the first failed run and keeps what it measured. */
async function runScenario(system: BenchSystem, scenario: Scenario, executor: ExecutorName): Promise<ScenarioResult> {
  const result = emptyResult(scenario, executor);
  const values = new Map<string, number[]>(scenario.metrics.map((m) => [m.key, []]));
  for (let i = 1; i <= runs; i++) {
    progress(`[${scenario.name} · ${executor}] run ${i}/${runs}${result.plan.note ? ` (${result.plan.note})` : ''}`);
    try {
      const figures = await runOnce(system, scenario, executor, result.plan);
      for (const m of scenario.metrics) values.get(m.key)!.push(figures[m.key]!);
      result.runs = i;
      progress(`  ${scenario.metrics.map((m) => `${m.key}=${formatValue(figures[m.key]!, m.unit)}`).join('  ')}`);
    } catch (error) {
      result.status = isExecutorUnavailable(error) ? 'unavailable' : 'error';
      result.message = error instanceof Error ? error.message : String(error);
      progress(`  ${result.status}: ${result.message}`);
      break;
    }
  }
  result.metrics =
    result.runs === 0
      ? []
      : scenario.metrics.map((m) => {
          const all = values.get(m.key)!;
          const mid = median(all);
          // A plan changed from the issue's setup (its note says how) gets figures but no verdict.
          const target = m.target?.executors.includes(executor) && !result.plan.note ? m.target : undefined;
          const met = target && (target.op === '<=' ? mid <= target.value : mid >= target.value);
          return {
            key: m.key,
            label: m.label,
            unit: m.unit,
            median: mid,
            values: all,
            ...(target && { target: { op: target.op, value: target.value, met: met! } }),
          };
        });
  return result;
}

/** One run on a fresh database and folder, with a fresh scheduler process that is stopped afterwards. */
async function runOnce(system: BenchSystem, scenario: Scenario, executor: ExecutorName, plan: Plan): Promise<Record<string, number>> {
  const db = await system.freshDatabase(`bench_${scenario.name}_${randomBytes(4).toString('hex')}`);
  const home = mkdtempSync(path.join(RUNS, `${scenario.name}-${executor}-`));
  const dagsFolder = path.join(home, 'dags');
  let scheduler: SchedulerProcess | null = null;
  let keep = false;
  try {
    const figures = await scenario.run(
      {
        executor,
        db,
        home,
        dagsFolder,
        startScheduler: async (extra) =>
          (scheduler = await startScheduler({ home, dagsFolder, databaseUrl: db.url, knex: db.knex, executor, parallelism: plan.parallelism, ...extra })),
      },
      plan,
    );
    return figures;
  } catch (error) {
    keep = !isExecutorUnavailable(error);
    throw error;
  } finally {
    const code = await (scheduler as SchedulerProcess | null)?.stop();
    if (code !== undefined && code !== 0) progress(`  the scheduler exited with code ${code}; see ${home}/scheduler.log`);
    await db.drop();
    if (keep) progress(`  kept ${home} (scheduler.log, task logs) for a look`);
    else rmSync(home, { recursive: true, force: true });
  }
}
