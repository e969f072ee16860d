import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { memoryLogger } from '../core/logger.ts';
import { connect, type Database } from '../db/database.ts';
import { ensureEmbeddedPostgres, type EmbeddedServer } from '../db/embeddedPostgres.ts';
import { migrateToLatest } from '../db/migrate.ts';

const TEMPLATE = 'bench_template';

/** The embedded Postgres the benchmark runs on, with a migrated template to clone per run. */
export interface BenchSystem {
  postgresVersion: string;
  /** A new database cloned from the migrated template; `drop()` removes it. */
  freshDatabase(name: string): Promise<BenchDatabase>;
  close(): Promise<void>;
}

export interface BenchDatabase extends Database {
  name: string;
  drop(): Promise<void>;
}

/**
 * Starts (or attaches to) the embedded Postgres under `<root>/home`, the same
 * server `airflow` would start, and prepares the template database. Databases
 * left behind by an interrupted earlier bench are dropped first.
 */
export async function startEmbeddedSystem(root: string): Promise<BenchSystem> {
  const home = path.join(root, 'home');
  mkdirSync(home, { recursive: true });
  // As root, Postgres runs as the `postgres` user, which must be able to reach the cluster folder.
  for (const dir of [root, home]) chmodSync(dir, 0o755);
  const server: EmbeddedServer = await ensureEmbeddedPostgres({ airflowHome: home, port: 0, logger: memoryLogger() });
  const urlOf = (database: string) => server.url.replace(/\/airflow$/, `/${database}`);
  const admin = connect(urlOf('postgres'));

  const stale = (await admin.knex('pg_database').where('datname', 'like', 'bench\\_%').pluck('datname')) as string[];
  for (const name of stale) await admin.knex.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.knex.raw(`CREATE DATABASE ${TEMPLATE}`);
  const template = connect(urlOf(TEMPLATE));
  await migrateToLatest(template.knex, template.url);
  await template.close();
  const postgresVersion = ((await admin.knex.raw('SHOW server_version')).rows[0] as { server_version: string }).server_version;

  return {
    postgresVersion,
    async freshDatabase(name) {
      await admin.knex.raw(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
      const db = connect(urlOf(name));
      return {
        ...db,
        name,
        async drop() {
          await db.close();
          await admin.knex.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        },
      };
    },
    async close() {
      await admin.knex.raw(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
      await admin.close();
      await server.stop(); // the last airflow-ts connection out stops the server
    },
  };
}
