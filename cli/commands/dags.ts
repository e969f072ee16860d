import type { Argv } from 'yargs';
import { listDags, setPaused } from '../../db/models/dag.ts';
import { listImportErrors } from '../../db/models/importError.ts';
import { createDagFileProcessor } from '../../scheduler/dagProcessing/createDagFileProcessor.ts';
import { dagFromDatabaseOrFiles } from '../dagFromDatabaseOrFiles.ts';
import { refreshFromFiles } from '../refreshFromFiles.ts';
import { dagAsDot, dagAsTree } from '../dagGraphText.ts';
import { outputOption, printRows } from '../output.ts';
import { withRuntime, type GlobalArgs, type Runtime } from '../runtime.ts';
import { dagRunCommands } from './dagRuns.ts';
import { dagsBackfillCommand } from './dagsBackfill.ts';
import { dagsTestCommand } from './dagsTest.ts';

/**
 * Listings read what the DAG processor recorded, so they answer at once even
 * while 100 slow files are being parsed; `--local` (Airflow 3's name) parses
 * the dags folder here first and records the result.
 */
const localOption = {
  alias: 'l',
  type: 'boolean',
  default: false,
  describe: 'Parse the dags folder here first (and record the result) instead of reading only what the database holds',
} as const;

export function dagsCommands(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return dagsBackfillCommand(dagsTestCommand(dagRunCommands(yargs)))
    .command(
      'list',
      'List the DAGs',
      (y) => y.option('output', outputOption).option('local', localOption),
      (args) =>
        withRuntime(args, async (runtime) => {
          if (args.local) await refreshFromFiles(runtime);
          const dags = await listDags((await runtime.db()).knex);
          printRows(
            dags.map((d) => ({ dag_id: d.dag_id, fileloc: d.fileloc, owners: d.owners, is_paused: d.is_paused, tags: d.tags, schedule: d.timetable_summary })),
            args.output,
            ['dag_id', 'fileloc', 'owners', 'is_paused', 'tags', 'schedule'],
          );
          if (dags.length === 0 && !args.local)
            console.error('No DAGs recorded yet: start the scheduler, or parse the dags folder here with `airflow dags list --local`.');
          const errors = await listImportErrors((await runtime.db()).knex);
          if (errors.length && args.output === 'table') {
            console.error(`\n${errors.length} DAG file(s) failed to import; see \`airflow dags list-import-errors\`.`);
          }
        }),
    )
    .command(
      'list-import-errors',
      'List the DAG files that failed to import, with the reason',
      (y) => y.option('output', outputOption).option('local', localOption),
      (args) =>
        withRuntime(args, async (runtime) => {
          if (args.local) await refreshFromFiles(runtime);
          const errors = await listImportErrors((await runtime.db()).knex);
          printRows(
            errors.map((e) => ({ filepath: e.filename, line: e.line, error: args.output === 'table' ? e.message : e.stacktrace, timestamp: e.timestamp })),
            args.output,
            ['filepath', 'line', 'error', 'timestamp'],
          );
        }),
    )
    .command(
      'reserialize',
      'Parse every DAG file now and write the serialized DAGs to the database',
      (y) => y,
      (args) =>
        withRuntime(args, async (runtime) => {
          const { knex } = await runtime.db();
          const processor = createDagFileProcessor(runtime.config, knex, runtime.logger);
          try {
            const outcomes = await processor.processAll();
            const parsed = outcomes.filter((o) => o.kind === 'parsed');
            const failed = outcomes.filter((o) => o.kind === 'import_error');
            console.log(`Parsed ${parsed.length} file(s) with ${parsed.flatMap((o) => o.dagIds).length} DAG(s); ${failed.length} import error(s).`);
            for (const o of failed) console.log(`  ${o.message}`);
          } finally {
            await processor.stop();
          }
        }),
    )
    .command(
      'show <dag_id>',
      "Print a DAG's tasks as a tree (or Graphviz DOT with --dot)",
      (y) => y.positional('dag_id', { type: 'string', demandOption: true }).option('dot', { type: 'boolean', default: false, describe: 'Print Graphviz DOT' }),
      (args) =>
        withRuntime(args, async (runtime) => {
          const dag = await dagFromDatabaseOrFiles(runtime, args.dag_id);
          process.stdout.write(args.dot ? dagAsDot(dag) : dagAsTree(dag));
        }),
    )
    .command(
      'pause <dag_id>',
      'Pause a DAG: no new runs are scheduled',
      (y) => y.positional('dag_id', { type: 'string', demandOption: true }),
      (args) => withRuntime(args, (runtime) => pause(runtime, args.dag_id, true)),
    )
    .command(
      'unpause <dag_id>',
      'Resume a paused DAG',
      (y) => y.positional('dag_id', { type: 'string', demandOption: true }),
      (args) => withRuntime(args, (runtime) => pause(runtime, args.dag_id, false)),
    )
    .demandCommand(1, 'Choose a dags command; see `airflow dags --help`');
}

async function pause(runtime: Runtime, dagId: string, paused: boolean): Promise<void> {
  const changed = await setPaused((await runtime.db()).knex, dagId, paused);
  console.log(`Dag: ${dagId}, paused: ${paused}${changed ? '' : ' (unchanged)'}`);
}
