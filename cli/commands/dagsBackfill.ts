import type { Argv } from 'yargs';
import { runIdFor } from '../../core/runId.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { runBackfillJob, type BackfillProgress } from '../../scheduler/backfillJob.ts';
import { backfillIntervals, createBackfillRuns } from '../../services/createBackfillRuns.ts';
import { dagFromDatabaseOrFiles } from '../dagFromDatabaseOrFiles.ts';
import { parseCliDate, parseConf } from '../parseDate.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';

/**
 * `airflow dags backfill`: creates the runs of a date range and runs them to the end itself (Airflow's BackfillJob).
 * A DAG no scheduler has parsed yet is parsed from the dags folder first, as `dags test` does.
 */
export function dagsBackfillCommand(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return yargs.command(
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
        const dag = await dagFromDatabaseOrFiles(runtime, args.dag_id);
        const start = parseCliDate(args.startDate, '--start-date', runtime.config.core.defaultTimezone);
        const end = parseCliDate(args.endDate, '--end-date', runtime.config.core.defaultTimezone);
        if (end < start) throw new Error('--end-date is before --start-date');
        const intervals = backfillIntervals(dag, start, end);
        if (args.dryRun) {
          for (const i of intervals) console.log(`${runIdFor('backfill', i.start)}  [${i.start.toISOString()}, ${i.end.toISOString()})`);
          return 0;
        }
        const { runs, existing } = await createBackfillRuns(knex, { dag, intervals, conf: parseConf(args.conf), now: new Date() });
        if (existing) console.error(`${existing} interval(s) already have a run and are left as they are.`);
        console.error(`Backfilling ${args.dag_id}: ${runs.length} run(s) from ${start.toISOString()} to ${end.toISOString()}`);
        if (runs.length === 0) return 0;
        const finished = await runBackfillJob({
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

/** One line on stderr, redrawn in place on a terminal: `[#####-----] 5/10 runs done (4 success, 1 failed), 12 tasks running`. */
function progressBar(total: number) {
  const tty = process.stderr.isTTY;
  let lastDone = -1;
  return ({ runs, taskStates }: BackfillProgress) => {
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
