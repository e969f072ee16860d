import type { Knex } from 'knex';
import pg from 'pg';
import { SchemaVersionMismatchError } from '../core/errors.ts';
import { MIGRATIONS } from './migrations/index.ts';

/**
 * Schema migrations.
 *
 * ## Isolation
 * knex's own lock table makes a second concurrent `migrate.latest()` fail
 * ("Migration table is already locked"). We hold a session-level advisory
 * lock on a dedicated connection around it, so concurrent callers queue up:
 * the first applies the migrations, the others find nothing left to do.
 *
 * ## Atomicity
 * knex runs each migration in its own transaction; a failing migration rolls
 * back and leaves the schema at the previous one.
 */
const LOCK_KEY = 'airflow-ts:migrate';

type Migration = (typeof MIGRATIONS)[number];

const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: (migration) => migration.name,
  getMigration: async (migration) => migration,
};

const MIGRATE_CONFIG: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

export const LATEST_MIGRATION = MIGRATIONS[MIGRATIONS.length - 1]!.name;

/** Applies every pending migration; returns the names applied by this call. */
export async function migrateToLatest(knex: Knex, url: string): Promise<string[]> {
  return withMigrationLock(url, async () => {
    await assertSchemaNotNewer(knex);
    const [, applied] = (await knex.migrate.latest(MIGRATE_CONFIG)) as [number, string[]];
    return applied;
  });
}

/** Rolls every migration back (drops the metadata tables). */
export async function rollbackAll(knex: Knex, url: string): Promise<string[]> {
  return withMigrationLock(url, async () => {
    const [, rolledBack] = (await knex.migrate.rollback(MIGRATE_CONFIG, true)) as [number, string[]];
    return rolledBack;
  });
}

export interface SchemaStatus {
  applied: string[];
  pending: string[];
  /** Names in the database that this code does not know: the schema is newer. */
  unknown: string[];
}

export async function schemaStatus(knex: Knex): Promise<SchemaStatus> {
  const exists = await knex.schema.hasTable('knex_migrations');
  const applied = exists ? ((await knex('knex_migrations').orderBy('id').pluck('name')) as string[]) : [];
  const known = MIGRATIONS.map((m) => m.name as string);
  return {
    applied,
    pending: known.filter((n) => !applied.includes(n)),
    unknown: applied.filter((n) => !known.includes(n)),
  };
}

/** Refuses a database migrated by a newer airflow-ts, naming both versions. */
export async function assertSchemaNotNewer(knex: Knex): Promise<void> {
  const { unknown, applied } = await schemaStatus(knex);
  if (unknown.length > 0) throw new SchemaVersionMismatchError(applied[applied.length - 1]!, LATEST_MIGRATION);
}

async function withMigrationLock<T>(url: string, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {}); // the server going away: the migration's own queries report it; never an unhandled 'error'
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [LOCK_KEY]);
    return await fn();
  } finally {
    // Ending the session releases the lock even if the unlock is never sent.
    await client.end();
  }
}
