import { describe, expect, it } from 'vitest';
import { SchemaVersionMismatchError } from '../../core/errors.ts';
import { LATEST_MIGRATION, assertSchemaNotNewer, migrateToLatest, rollbackAll, schemaStatus } from '../../db/migrate.ts';
import { MIGRATIONS } from '../../db/migrations/index.ts';

const ALL = MIGRATIONS.map((m) => m.name as string);
import { createEmptyDatabase } from '../helpers/database.ts';

const TABLES = [
  'session',
  'auth_failure',
  'rendered_task_instance_fields',
  'users',
  'dag',
  'serialized_dag',
  'dag_code',
  'dag_run',
  'task_instance',
  'xcom',
  'import_error',
  'variable',
  'connection',
  'slot_pool',
  'log',
  'job',
];

describe('migrations', () => {
  it('concurrent migrate calls all succeed and apply each migration once', async () => {
    const db = await createEmptyDatabase();
    const results = await Promise.all(Array.from({ length: 5 }, () => migrateToLatest(db.knex, db.url)));
    expect(results.flat()).toEqual(ALL);
    for (const table of TABLES) expect(await db.knex.schema.hasTable(table), table).toBe(true);
    expect(await db.knex('slot_pool').select('pool', 'slots')).toEqual([{ pool: 'default_pool', slots: 128 }]);
    expect(await schemaStatus(db.knex)).toEqual({ applied: ALL, pending: [], unknown: [] });
  });

  it('migrating again is a no-op, and rollback then migrate restores the schema', async () => {
    const db = await createEmptyDatabase();
    await migrateToLatest(db.knex, db.url);
    expect(await migrateToLatest(db.knex, db.url)).toEqual([]);
    expect((await rollbackAll(db.knex, db.url)).sort()).toEqual([...ALL].sort());
    for (const table of TABLES) expect(await db.knex.schema.hasTable(table), table).toBe(false);
    expect((await schemaStatus(db.knex)).pending).toEqual(ALL);
    await migrateToLatest(db.knex, db.url);
    expect(await db.knex.schema.hasTable('task_instance')).toBe(true);
  });

  it('refuses a schema migrated by a newer airflow-ts, naming both versions', async () => {
    const db = await createEmptyDatabase();
    await migrateToLatest(db.knex, db.url);
    await db.knex('knex_migrations').insert({ name: '9999_from_the_future', batch: 2, migration_time: new Date() });
    await expect(assertSchemaNotNewer(db.knex)).rejects.toThrow(SchemaVersionMismatchError);
    await expect(migrateToLatest(db.knex, db.url)).rejects.toThrow(new RegExp(`9999_from_the_future.*${LATEST_MIGRATION}`));
  });

  it('enforces one run per (dag_id, run_id) and per (dag_id, logical_date)', async () => {
    const db = await createEmptyDatabase();
    await migrateToLatest(db.knex, db.url);
    await db.knex('dag').insert({ dag_id: 'd', fileloc: '/x.ts' });
    const run = { dag_id: 'd', state: 'queued', run_type: 'manual' };
    await db.knex('dag_run').insert({ ...run, run_id: 'r1', logical_date: new Date('2025-01-01T00:00:00Z') });
    await expect(db.knex('dag_run').insert({ ...run, run_id: 'r1', logical_date: new Date('2025-01-02T00:00:00Z') })).rejects.toMatchObject({ code: '23505' });
    await expect(db.knex('dag_run').insert({ ...run, run_id: 'r2', logical_date: new Date('2025-01-01T00:00:00Z') })).rejects.toMatchObject({ code: '23505' });
  });
});
