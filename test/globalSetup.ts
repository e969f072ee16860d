import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { memoryLogger } from '../core/logger.ts';
import { connect } from '../db/database.ts';
import { ensureEmbeddedPostgres } from '../db/embeddedPostgres.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { ensureChromium } from './helpers/browser.ts';

/**
 * One embedded Postgres for the whole test run, with a migrated template
 * database that each test file clones (CREATE DATABASE ... TEMPLATE), so files
 * run in parallel without seeing each other's rows.
 */
export default async function setup(project: TestProject) {
  ensureChromium();
  const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-test-'));
  chmodSync(home, 0o755); // as root, the postgres user must reach $AIRFLOW_HOME/postgres
  const server = await ensureEmbeddedPostgres({ airflowHome: home, port: 0, logger: memoryLogger() });
  const adminUrl = server.url.replace(/\/airflow$/, '/postgres');
  const templateUrl = server.url.replace(/\/airflow$/, '/airflow_test_template');

  const admin = connect(adminUrl);
  await admin.knex.raw('DROP DATABASE IF EXISTS airflow_test_template');
  await admin.knex.raw('CREATE DATABASE airflow_test_template');
  const template = connect(templateUrl);
  await migrateToLatest(template.knex, templateUrl);
  await template.close();
  await admin.close();

  project.provide('pgAdminUrl', adminUrl);
  return async () => {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}
