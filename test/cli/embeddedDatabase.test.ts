import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../db/migrations/index.ts';
import { runCli } from '../helpers/cli.ts';

// The README's promise: with nothing configured, `airflow db migrate` and
// `airflow dags list --local` work on the embedded Postgres, which stops afterwards.
const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-embedded-'));
chmodSync(home, 0o755); // as root, the postgres user must reach $AIRFLOW_HOME/postgres
const cwd = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-cwd-'));
const env = { AIRFLOW_HOME: home };
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('the embedded Postgres default', () => {
  it('db migrate then dags list shows the example DAGs, and no server is left running', async () => {
    const migrate = await runCli(['db', 'migrate'], { env, cwd, timeoutMs: 120_000 });
    expect(migrate.stderr).toMatch(/initialising the embedded Postgres cluster/);
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain(`Applied ${MIGRATIONS.length} migration(s): ${MIGRATIONS.map((m) => m.name).join(', ')}`);
    expect(migrate.stdout).toMatch(/embedded Postgres/);

    const list = await runCli(['dags', 'list', '--local', '-o', 'json'], { env, cwd, timeoutMs: 120_000 });
    expect(list.code).toBe(0);
    const ids = (JSON.parse(list.stdout) as { dag_id: string }[]).map((r) => r.dag_id);
    expect(ids).toEqual([
      'example_deferrable',
      'example_dynamic_mapping',
      'example_email',
      'example_etl',
      'example_external_consumer',
      'example_external_publisher',
      'example_file_to_sql',
      'example_http',
      'example_mapped_operators',
      'example_mapped_task_groups',
      'example_ml_pipeline',
      'example_notifications',
      'example_params',
      'example_sensors',
      'example_sql',
      'example_task_groups',
      'example_taskflow',
      'example_trigger_controller',
      'example_trigger_target',
    ]);

    const again = await runCli(['db', 'migrate'], { env, cwd, timeoutMs: 120_000 });
    expect(again.stdout).toMatch(/already at the latest migration/);
    expect(again.stderr).not.toMatch(/initialising/);
    expect(existsSync(path.join(home, 'postgres', 'data', 'postmaster.pid'))).toBe(false);
  });

  it('a command that fails in a fresh home exits non-zero (the cluster library’s exit hook no longer turns it into 0)', async () => {
    const fresh = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-embedded-'));
    chmodSync(fresh, 0o755);
    try {
      const pause = await runCli(['dags', 'pause', 'no_such_dag'], { env: { AIRFLOW_HOME: fresh }, cwd, timeoutMs: 120_000 });
      expect(pause.stderr).toMatch(/initialising the embedded Postgres cluster/);
      expect(pause.stderr).toMatch(/run `airflow db migrate` first/);
      expect(pause.code).toBe(1);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
