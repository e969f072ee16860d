import type { Argv } from 'yargs';
import { nextDagRunInfo } from '../../core/nextDagRun.ts';
import { runIdFor } from '../../core/runId.ts';
import type { SerializedDag } from '../../core/serialize.ts';
import { getSerializedDag } from '../../db/dagQueries.ts';
import { createDagRun } from '../../db/dagRuns.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { InProcessExecutor } from '../../executors/inProcessExecutor.ts';
import { driveRunsToCompletion, type RunProgress } from '../../scheduler/driveRuns.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { parseCliDate, parseConf } from '../parseDate.ts';
import { refreshFromFiles } from '../refreshFromFiles.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';

/** `airflow dags test` and `airflow dags backfill`: commands that run dag runs to the end themselves. */
export function runDrivingCommands(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return yargs
    .command(
      'test <dag_id> [logical_date]',
      'Run a whole DAG once in this process, printing task states as they change',
      (y) =>
        y
          .positional('dag_id', { type: 'string', demandOption: true })
          .positional('logical_date', { type: 'string', describe: 'Default: now' })
          .option('conf', { alias: 'c', type: 'string', describe: 'JSON object for the run' }),
      async (args) => {
        const state = await withRuntime(args, async (runtime) => {
          await refreshFromFiles(runtime);
          const { knex } = await runtime.db();
          const run = await triggerDagRun(knex, {
            dagId: args.dag_id,
            logicalDate: args.logical_date ? parseCliDate(args.logical_date, 'logical_date', runtime.config.core.defaultTimezone) : undefined,
            conf: parseConf(args.conf),
            now: new Date(),
          });
          console.log(`Running ${args.dag_id} run ${run.run_id} in this process`);
          const seen = new Map<string, string>();
          const [finished] = await driveRunsToCompletion({
            knex,
            config: runtime.config,
            executor: new InProcessExecutor({ knex, config: runtime.config, logger: runtime.logger }),
            logger: runtime.logger,
            dagId: args.dag_id,
            runIds: [run.run_id],
            ignorePause: true,
            onProgress: ({ taskStates }) => {
              for (const ti of taskStates) {
                const state = ti.state ?? 'none';
                if (seen.get(ti.task_id) !== state) console.log(`  ${ti.task_id}: ${state}`);
                seen.set(ti.task_id, state);
              }
            },
          });
          console.log(`Dag run ${run.run_id}: ${finished?.state}`);
          return finished?.state;
        });
        process.exitCode = state === 'success' ? 0 : 1;
      },
    )
    .command(
      'backfill <dag_id>',
      "Create and run the DAG's runs for every schedule interval whose logical date is between --start-date and --end-date",
      (y) =>
        y
          .positional('dag_id', { type: 'string', demandOption: true })
          .option('start-date', { alias: 's', type: 'string', demandOption: true })
          .option('end-date', { alias: 'e', type: 'string', demandOption: true })
          .option('conf', { alias: 'c', type: 'string' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'Only print the runs it would create' }),
      async (args) => {
        const failed = await withRuntime(args, async (runtime) => {
          const database = await runtime.db();
          const { knex } = database;
          const dag = await getSerializedDag(knex, args.dag_id);
          const start = parseCliDate(args.startDate, '--start-date', runtime.config.core.defaultTimezone);
          const end = parseCliDate(args.endDate, '--end-date', runtime.config.core.defaultTimezone);
          if (end < start) throw new Error('--end-date is before --start-date');
          const intervals = backfillIntervals(dag, start, end);
          if (args.dryRun) {
            for (const i of intervals) console.log(`${runIdFor('backfill', i.start)}  [${i.start.toISOString()}, ${i.end.toISOString()})`);
            return 0;
          }
          const existing = new Set(
            (
              await knex('dag_run')
                .where('dag_id', dag.dagId)
                .whereIn(
                  'logical_date',
                  intervals.map((i) => i.start),
                )
                .pluck('logical_date')
            ).map((d: Date) => d.getTime()),
          );
          const runs = await knex.transaction(async (trx) => {
            const created = [];
            for (const interval of intervals.filter((i) => !existing.has(i.start.getTime()))) {
              created.push(
                await createDagRun(trx, {
                  dag,
                  runId: runIdFor('backfill', interval.start),
                  runType: 'backfill',
                  logicalDate: interval.start,
                  dataInterval: interval,
                  conf: parseConf(args.conf),
                  now: new Date(),
                }),
              );
            }
            return created;
          });
          if (existing.size) console.error(`${existing.size} interval(s) already have a run and are left as they are.`);
          console.error(`Backfilling ${args.dag_id}: ${runs.length} run(s) from ${start.toISOString()} to ${end.toISOString()}`);
          if (runs.length === 0) return 0;
          const finished = await driveRunsToCompletion({
            knex,
            config: runtime.config,
            executor: createExecutor(runtime.config, database.embedded ? null : database.url, runtime.logger),
            logger: runtime.logger,
            dagId: dag.dagId,
            runIds: runs.map((r) => r.run_id),
            onProgress: progressBar(runs.length),
          });
          process.stderr.write('\n');
          for (const run of finished) console.log(`${run.run_id}: ${run.state}`);
          return finished.filter((r) => r.state === 'failed').length;
        });
        process.exitCode = failed ? 1 : 0;
      },
    );
}

/** Intervals whose logical date (start) lies in [start, end], as Airflow's backfill picks them. */
export function backfillIntervals(dag: SerializedDag, start: Date, end: Date) {
  const restricted = { ...dag, startDate: start.toISOString(), endDate: end.toISOString(), catchup: true };
  const intervals = [];
  const farFuture = new Date(8.64e15);
  for (
    let info = nextDagRunInfo(restricted, null, farFuture, true);
    info && intervals.length < 100_000;
    info = nextDagRunInfo(restricted, info.dataInterval, farFuture, true)
  ) {
    intervals.push(info.dataInterval);
  }
  return intervals;
}

/** One line on stderr, redrawn in place on a terminal: `[#####-----] 5/10 runs done (4 success, 1 failed), 12 tasks running`. */
function progressBar(total: number) {
  const tty = process.stderr.isTTY;
  let lastDone = -1;
  return ({ runs, taskStates }: RunProgress) => {
    const success = runs.filter((r) => r.state === 'success').length;
    const failed = runs.filter((r) => r.state === 'failed').length;
    const done = success + failed;
    const running = taskStates.filter((t) => t.state === 'running' || t.state === 'queued').length;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} runs done (${success} success, ${failed} failed), ${running} task(s) running`;
    if (tty) process.stderr.write(`\r${line}`);
    else if (done !== lastDone) process.stderr.write(`${line}\n`);
    lastDone = done;
  };
}
