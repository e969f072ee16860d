import type { Argv } from 'yargs';
import { checkConnection } from '../../db/database.ts';
import { LATEST_MIGRATION, migrateToLatest, rollbackAll, schemaStatus } from '../../db/migrate.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';

export function dbCommands(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return yargs
    .command(
      'migrate',
      'Create or upgrade the metadata database schema',
      (y) => y,
      (args) =>
        withRuntime(args, async ({ db }) => {
          const database = await db({ migrated: false });
          const applied = await migrateToLatest(database.knex, database.url);
          console.log(
            applied.length
              ? `Applied ${applied.length} migration(s): ${applied.join(', ')}`
              : `Database is already at the latest migration (${LATEST_MIGRATION})`,
          );
          console.log(`Database: ${database.embedded ? 'embedded Postgres' : 'external Postgres'} ${redact(database.url)}`);
        }),
    )
    .command(
      'check',
      'Check that the metadata database is reachable and migrated',
      (y) => y,
      (args) =>
        withRuntime(args, async ({ db }) => {
          const database = await db({ migrated: false });
          await checkConnection(database.knex);
          const status = await schemaStatus(database.knex);
          console.log(`Connection to ${redact(database.url)} works.`);
          if (status.unknown.length) throw new Error(`The schema has migrations this airflow-ts does not know: ${status.unknown.join(', ')}`);
          if (status.pending.length) throw new Error(`Pending migrations: ${status.pending.join(', ')}; run \`airflow db migrate\``);
          console.log(`Schema is at the latest migration (${LATEST_MIGRATION}).`);
        }),
    )
    .command(
      'reset',
      'Drop every metadata table and migrate again (all DAG runs, task instances, variables and connections are lost)',
      (y) => y.option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask for confirmation' }),
      (args) =>
        withRuntime(args, async ({ db }) => {
          if (!args.yes) throw new Error('`airflow db reset` deletes all metadata; run it again with --yes to confirm');
          const database = await db({ migrated: false });
          await rollbackAll(database.knex, database.url);
          await migrateToLatest(database.knex, database.url);
          console.log(`Database reset to an empty schema at ${LATEST_MIGRATION}.`);
        }),
    )
    .demandCommand(1, 'Choose a db command: migrate, check or reset');
}

/** Hides the password of a database URL for printing. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
