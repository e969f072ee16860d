import type { Argv } from 'yargs';
import { InProcessExecutor } from '../../executors/inProcessExecutor.ts';
import { runBackfillJob } from '../../scheduler/backfillJob.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { parseCliDate, parseConf } from '../parseDate.ts';
import { dagFromDatabaseOrFiles } from '../dagFromDatabaseOrFiles.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';

/** `airflow dags test` (Airflow's `dag.test()`): one manual run of the whole DAG, run to the end in this process. */
export function dagsTestCommand(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return yargs.command(
    'test <dag_id> [logical_date]',
    'Run a whole DAG once in this process, printing task states as they change',
    (y) =>
      y
        .positional('dag_id', { type: 'string', demandOption: true })
        .positional('logical_date', { type: 'string', describe: 'Default: now' })
        .option('conf', { alias: 'c', type: 'string', describe: 'JSON object for the run' }),
    async (args) => {
      const state = await withRuntime(args, async (runtime) => {
        await dagFromDatabaseOrFiles(runtime, args.dag_id, { parseFirst: true });
        const { knex } = await runtime.db();
        const run = await triggerDagRun(knex, {
          dagId: args.dag_id,
          logicalDate: args.logical_date ? parseCliDate(args.logical_date, 'logical_date', runtime.config.core.defaultTimezone) : undefined,
          conf: parseConf(args.conf),
          now: new Date(),
        });
        console.log(`Running ${args.dag_id} run ${run.run_id} in this process`);
        const seen = new Map<string, string>();
        const [finished] = await runBackfillJob({
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
  );
}
