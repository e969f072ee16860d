import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { AirflowError } from '../core/errors.ts';
import { dataExceptionMessage } from '../db/pgErrors.ts';
import { configCommands } from './commands/config.ts';
import { dagsCommands } from './commands/dags.ts';
import { dbCommands } from './commands/db.ts';
import { rotateFernetKeyCommand } from './commands/rotateFernetKey.ts';
import { schedulerCommand } from './commands/scheduler.ts';
import { standaloneCommand } from './commands/standalone.ts';
import { taskCommands } from './commands/tasks.ts';
import { triggererCommand } from './commands/triggerer.ts';
import { userCommands } from './commands/users.ts';
import { webserverCommand } from './commands/webserver.ts';
import { versionCommand } from './commands/version.ts';
import type { GlobalArgs } from './runtime.ts';

/** The `airflow` command line, with Airflow's command names. */
const cli = (yargs(hideBin(process.argv)) as unknown as Argv<GlobalArgs>)
  .scriptName('airflow')
  .usage('$0 <command> [options]')
  .option('config', {
    type: 'string',
    describe: 'Path to airflow.config.ts (default: $AIRFLOW_CONFIG, ./airflow.config.ts, $AIRFLOW_HOME/airflow.config.ts)',
    global: true,
  })
  .option('verbose', { alias: 'v', type: 'boolean', describe: 'Debug logging', global: true })
  .command('db', 'Manage the metadata database', dbCommands)
  .command('dags', 'Manage DAGs', dagsCommands)
  .command('tasks', 'Inspect, run and clear task instances', (y) => taskCommands(y).demandCommand(1, 'Choose a tasks command; see `airflow tasks --help`'))
  .command('config', 'Show the configuration', configCommands)
  .command(rotateFernetKeyCommand)
  .command(schedulerCommand)
  .command(standaloneCommand)
  .command(triggererCommand)
  .command(webserverCommand)
  .command('users', 'Manage users of the web UI and REST API', userCommands)
  .command(versionCommand)
  .demandCommand(1, 'Choose a command; see `airflow --help`')
  .recommendCommands()
  .strict()
  .help()
  .alias('help', 'h')
  .version(false)
  .wrap(Math.min(120, process.stdout.columns || 100))
  .fail((message, error, y) => {
    if (error) throw error;
    console.error(`${y.help() && ''}${message}\nRun with --help for usage.`);
    process.exit(2);
  });

try {
  await cli.parseAsync();
} catch (error) {
  // Expected failures print one clear line; anything else keeps its stack. A value Postgres
  // refused (a NUL character, say) is described, not shown as the SQL that carried it.
  const invalid = process.env.AIRFLOW_TS_DEBUG ? null : dataExceptionMessage(error);
  console.error(
    invalid
      ? `Error: ${invalid}`
      : error instanceof AirflowError || (error instanceof Error && !process.env.AIRFLOW_TS_DEBUG)
        ? `Error: ${error.message}`
        : error,
  );
  process.exitCode = 1;
}
