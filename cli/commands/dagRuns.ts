import type { Argv } from 'yargs';
import { listDagRuns, dagRunFields } from '../../db/models/dagRun.ts';
import { getSerializedDag } from '../../db/models/serializedDag.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { outputOption, printRows } from '../output.ts';
import { parseCliDate, parseConf } from '../parseDate.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';

/** `airflow dags trigger` and `airflow dags list-runs`. */
export function dagRunCommands(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return yargs
    .command(
      'trigger <dag_id>',
      'Create a manual dag run; the scheduler runs it',
      (y) =>
        y
          .positional('dag_id', { type: 'string', demandOption: true })
          .option('conf', { alias: 'c', type: 'string', describe: "JSON object passed to the run (checked against the DAG's params)" })
          .option('run-id', { alias: 'r', type: 'string', describe: 'Run id (default manual__<logical date>)' })
          .option('logical-date', { alias: 'l', type: 'string', describe: 'Logical date (default now)' })
          .option('note', { type: 'string' })
          .option('output', outputOption),
      (args) =>
        withRuntime(args, async ({ db, config }) => {
          const { knex } = await db();
          const run = await triggerDagRun(knex, {
            dagId: args.dag_id,
            runId: args.runId,
            logicalDate: args.logicalDate ? parseCliDate(args.logicalDate, '--logical-date', config.core.defaultTimezone) : undefined,
            conf: parseConf(args.conf),
            note: args.note,
            now: new Date(),
          });
          printRows([dagRunFields(run)], args.output);
        }),
    )
    .command(
      'list-runs <dag_id>',
      'List the runs of a DAG, newest first',
      (y) =>
        y
          .positional('dag_id', { type: 'string', demandOption: true })
          .option('state', { type: 'string', describe: 'Only runs in this state' })
          .option('limit', { type: 'number', default: 100 })
          .option('output', outputOption),
      (args) =>
        withRuntime(args, async ({ db }) => {
          const { knex } = await db();
          await getSerializedDag(knex, args.dag_id); // a clear error for an unknown DAG
          const runs = await listDagRuns(knex, args.dag_id, { state: args.state, limit: args.limit });
          printRows(runs.map(dagRunFields), args.output, [
            'dag_id',
            'run_id',
            'state',
            'run_type',
            'logical_date',
            'data_interval_start',
            'data_interval_end',
            'start_date',
            'end_date',
            'conf',
          ]);
        }),
    );
}
