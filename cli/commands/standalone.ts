import type { CommandModule } from 'yargs';
import { migrateToLatest } from '../../db/migrate.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';
import { startSchedulerDaemon } from '../schedulerDaemon.ts';
import { untilStopSignal } from '../untilStopSignal.ts';
import { redact } from './db.ts';

/**
 * Everything in one process for a laptop: the (embedded) database, its
 * migrations and the scheduler (with DAG processing). The webserver joins
 * when it exists.
 */
export const standaloneCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'standalone',
  describe: 'Run the whole system in one process on the configured (default: embedded) Postgres',
  handler: (args) =>
    withRuntime(args, async (runtime) => {
      const stopped = untilStopSignal();
      const database = await runtime.db({ migrated: false });
      const applied = await migrateToLatest(database.knex, database.url);
      if (applied.length) runtime.logger.info(`applied migrations: ${applied.join(', ')}`);
      const stop = await startSchedulerDaemon(runtime, database);
      runtime.logger.info(`airflow-ts standalone is running on ${redact(database.url)}; dags folder ${runtime.config.core.dagsFolder}. Ctrl-C stops it.`);
      const signal = await stopped;
      runtime.logger.info(`received ${signal}; stopping`);
      await stop();
    }),
};
