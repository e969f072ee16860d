import { randomBytes } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { connect, type Database } from '../../db/database.ts';

/** A fresh database cloned from the migrated template; dropped after the test file. */
export function createTestDatabase(): Promise<Database> {
  return createDatabase('test', 'TEMPLATE airflow_test_template');
}

/** An empty, unmigrated database, for migration tests. */
export function createEmptyDatabase(): Promise<Database> {
  return createDatabase('empty', '');
}

async function createDatabase(prefix: string, clause: string): Promise<Database> {
  const adminUrl = inject('pgAdminUrl');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = connect(adminUrl);
  await admin.knex.raw(`CREATE DATABASE ${name} ${clause}`);
  await admin.close();
  const db = connect(adminUrl.replace(/\/postgres$/, `/${name}`));
  afterAll(async () => {
    await db.close();
    const cleanup = connect(adminUrl);
    await cleanup.knex.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await cleanup.close();
  });
  return db;
}
