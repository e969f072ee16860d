import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import type { Knex } from 'knex';
import { migrateToLatest } from '../../db/migrate.ts';
import { createUser, deleteUser, userExists } from '../../db/models/user.ts';
import { Triggerer } from '../../triggerer/triggererJob.ts';
import { startWebserver } from '../../webserver/startWebserver.ts';
import { withRuntime, type GlobalArgs } from '../runtime.ts';
import { startSchedulerDaemon } from '../schedulerDaemon.ts';
import { untilStopSignal } from '../untilStopSignal.ts';

/**
 * Everything in one process for a laptop (what `npm start` runs): the
 * (embedded) database and its migrations, an admin user, the scheduler with
 * DAG processing, the triggerer, and the webserver. A second start reuses the same data.
 */
export const standaloneCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'standalone',
  describe: 'Run the whole system in one process on the configured (default: embedded) Postgres',
  handler: (args) =>
    withRuntime(args, async (runtime) => {
      const { config, logger } = runtime;
      const stopped = untilStopSignal();
      const database = await runtime.db({ migrated: false });
      const applied = await migrateToLatest(database.knex, database.url);
      if (applied.length) logger.info(`applied migrations: ${applied.join(', ')}`);
      const password = await ensureAdmin(database.knex, config.airflowHome);
      const stopScheduler = await startSchedulerDaemon(runtime, database);
      const triggerer = new Triggerer({ knex: database.knex, config, logger: logger.child({ component: 'triggerer' }) });
      await triggerer.start();
      const server = await startWebserver({ knex: database.knex, config, logger: logger.child({ component: 'webserver' }) });
      console.log(
        [
          '',
          `airflow-ts standalone is ready: ${server.url}  (REST API: ${server.url}/api/v1)`,
          `Login with username: admin  password: ${password}`,
          `(the password is kept in ${path.join(config.airflowHome, 'standalone_admin_password.txt')}; dags folder ${config.core.dagsFolder}; Ctrl-C stops everything)`,
          '',
        ].join('\n'),
      );
      const signal = await stopped;
      logger.info(`received ${signal}; stopping`);
      await server.stop();
      await triggerer.stop();
      await stopScheduler();
    }),
};

/** Airflow standalone's admin: created once with a generated password kept in $AIRFLOW_HOME/standalone_admin_password.txt. */
async function ensureAdmin(knex: Knex, airflowHome: string): Promise<string> {
  const file = path.join(airflowHome, 'standalone_admin_password.txt');
  const existing = await userExists(knex, 'admin');
  if (existing && existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(12).toString('base64url');
  if (existing) await deleteUser(knex, 'admin'); // the password file was lost: issue a new one
  await createUser(knex, { username: 'admin', password, role: 'Admin', firstName: 'Admin', lastName: 'User', email: 'admin@example.com' });
  mkdirSync(airflowHome, { recursive: true });
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}
