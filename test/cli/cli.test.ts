import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { LATEST_MIGRATION } from '../../db/migrate.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';

const db = await createTestDatabase();
const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
const dags = tempDagsFolder(['good.ts', 'cycle.ts']);
// A cwd without airflow.config.ts, so only env vars configure the CLI.
const cwd = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-cwd-'));
const env = { AIRFLOW_HOME: home, AIRFLOW__DATABASE__URL: db.url, AIRFLOW__CORE__DAGS_FOLDER: dags };
const airflow = (...args: string[]) => runCli(args, { env, cwd });

describe('airflow CLI', () => {
  it('db check reports a migrated database', async () => {
    const result = await airflow('db', 'check');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`latest migration (${LATEST_MIGRATION})`);
  });

  it('dags list --local parses the folder and lists the DAGs with the examples, as JSON with Airflow field names', async () => {
    const result = await airflow('dags', 'list', '--local', '-o', 'json');
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as Record<string, unknown>[];
    const ids = rows.map((r) => r.dag_id);
    expect(ids).toEqual(expect.arrayContaining(['fixture_good', 'example_etl', 'example_ml_pipeline', 'example_params']));
    expect(ids).not.toContain('fixture_cycle');
    expect(rows.find((r) => r.dag_id === 'fixture_good')).toEqual({
      dag_id: 'fixture_good',
      fileloc: path.join(dags, 'good.ts'),
      owners: 'airflow',
      is_paused: true,
      tags: ['fixture'],
      schedule: '@daily',
    });
  });

  it('dags list prints a table for people and yaml on request', async () => {
    const table = await airflow('dags', 'list');
    expect(table.stdout.split('\n')[0]).toMatch(/^dag_id\s+\| fileloc\s+\| owners\s+\| is_paused/);
    expect(table.stdout).toContain('fixture_good');
    const yaml = await airflow('dags', 'list', '-o', 'yaml');
    expect((YAML.parse(yaml.stdout) as { dag_id: string }[]).map((r) => r.dag_id)).toContain('fixture_good');
  });

  it('list-import-errors names the cycle, both tasks and the file', async () => {
    const result = await airflow('dags', 'list-import-errors', '-o', 'json');
    expect(result.code).toBe(0);
    const errors = JSON.parse(result.stdout) as { filepath: string; error: string }[];
    expect(errors).toHaveLength(1);
    expect(errors[0]!.filepath).toBe(path.join(dags, 'cycle.ts'));
    expect(errors[0]!.error).toMatch(/Cycle detected in DAG 'fixture_cycle': (a -> b -> a|b -> a -> b)/);
  });

  it('a value Postgres refuses (a NUL character in conf) fails with a clear message, not the SQL', async () => {
    const result = await airflow('dags', 'trigger', 'fixture_good', '--conf', '{"greeting": "a\\u0000b"}');
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('Error: Invalid value: a JSON value contains a NUL (\\u0000) character');
  });

  it("dags trigger reads a date without an offset in core.defaultTimezone (UTC by default), not the machine's zone", async () => {
    await airflow('dags', 'list', '--local'); // parses the folder: registers fixture_good
    const nyMachine = { ...env, TZ: 'America/New_York' };
    const utc = await runCli(['dags', 'trigger', 'fixture_good', '-r', 'tz_utc', '-l', '2025-01-31T06:00'], { env: nyMachine, cwd });
    expect(utc.stderr).toBe('');
    const tokyo = await runCli(['dags', 'trigger', 'fixture_good', '-r', 'tz_tokyo', '-l', '2025-02-01T06:00'], {
      env: { ...nyMachine, AIRFLOW__CORE__DEFAULT_TIMEZONE: 'Asia/Tokyo' },
      cwd,
    });
    expect(tokyo.stderr).toBe('');
    const offset = await runCli(['dags', 'trigger', 'fixture_good', '-r', 'tz_offset', '-l', '2025-02-02T06:00+02:00'], {
      env: { ...nyMachine, AIRFLOW__CORE__DEFAULT_TIMEZONE: 'Asia/Tokyo' },
      cwd,
    });
    expect(offset.stderr).toBe('');
    const logicalDate = async (runId: string) =>
      ((await db.knex('dag_run').where({ dag_id: 'fixture_good', run_id: runId }).first('logical_date')).logical_date as Date).toISOString();
    expect(await logicalDate('tz_utc')).toBe('2025-01-31T06:00:00.000Z');
    expect(await logicalDate('tz_tokyo')).toBe('2025-01-31T21:00:00.000Z'); // 06:00 in Tokyo (+09:00)
    expect(await logicalDate('tz_offset')).toBe('2025-02-02T04:00:00.000Z'); // an explicit offset wins
  });

  it('pause and unpause change is_paused, and an unknown DAG fails with a clear message', async () => {
    await airflow('dags', 'list');
    expect((await airflow('dags', 'unpause', 'fixture_good')).stdout).toContain('Dag: fixture_good, paused: false');
    expect(await db.knex('dag').where('dag_id', 'fixture_good').first('is_paused')).toEqual({ is_paused: false });
    expect((await airflow('dags', 'pause', 'fixture_good')).code).toBe(0);
    expect(await db.knex('dag').where('dag_id', 'fixture_good').first('is_paused')).toEqual({ is_paused: true });
    const missing = await airflow('dags', 'pause', 'no_such_dag');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/DAG 'no_such_dag' not found/);
  });

  it('dags show prints a tree, and Graphviz DOT with --dot', async () => {
    const tree = await airflow('dags', 'show', 'example_etl');
    expect(tree.code).toBe(0);
    expect(tree.stdout.split('\n')[0]).toMatch(/^<Task\(\w+\): \w+>$/);
    const dot = await airflow('dags', 'show', 'fixture_good', '--dot');
    expect(dot.stdout).toContain('digraph "fixture_good"');
    expect(dot.stdout).toContain('"start" -> "end";');
  });

  it('users list shows every user by username, without the password hash', async () => {
    expect((await airflow('users', 'create', '-u', 'zed', '-p', 'zed-password-1', '-r', 'Viewer', '-e', 'zed@example.com')).code).toBe(0);
    expect((await airflow('users', 'create', '-u', 'amy', '-p', 'amy-password-1', '-r', 'Op')).code).toBe(0);
    const listed = await airflow('users', 'list', '-o', 'json');
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as Record<string, unknown>[];
    expect(rows.map((r) => [r.username, r.role, r.active])).toEqual([
      ['amy', 'Op', true],
      ['zed', 'Viewer', true],
    ]);
    expect(Object.keys(rows[1]!).sort()).toEqual(['active', 'email', 'first_name', 'id', 'last_name', 'role', 'username']);
    expect(rows[1]!.email).toBe('zed@example.com');
  });

  it('config get-value and list show effective values in Airflow spelling', async () => {
    const value = await airflow('config', 'get-value', 'core', 'dags_folder');
    expect(value.stdout.trim()).toBe(dags);
    const list = await runCli(['config', 'list', '-o', 'json'], { env: { ...env, AIRFLOW__CORE__PARALLELISM: '7' }, cwd });
    const rows = JSON.parse(list.stdout) as { section: string; key: string; value: unknown }[];
    expect(rows).toContainEqual({ section: 'core', key: 'parallelism', value: 7 });
    expect(rows.find((r) => r.key === 'url')!.value).not.toContain(db.url.split('@')[0]!.split(':').pop()!);
  });

  it('config shows object and list values as JSON, with passwords in kubernetes.env hidden by list', async () => {
    const withK8s = {
      ...env,
      AIRFLOW__KUBERNETES__ENV: '{"AIRFLOW__DATABASE__URL":"postgresql://u:hunter2@db/airflow"}',
      AIRFLOW__KUBERNETES__TOLERATIONS: '[{"key":"gpu","operator":"Exists"}]',
    };
    const list = await runCli(['config', 'list', '--section', 'kubernetes'], { env: withK8s, cwd });
    expect(list.stdout).toContain('env = {"AIRFLOW__DATABASE__URL":"postgresql://u:***@db/airflow"}');
    expect(list.stdout).toContain('tolerations = [{"key":"gpu","operator":"Exists"}]');
    expect(list.stdout).not.toContain('hunter2');
    const value = await runCli(['config', 'get-value', 'kubernetes', 'tolerations'], { env: withK8s, cwd });
    expect(value.stdout.trim()).toBe('[{"key":"gpu","operator":"Exists"}]');
  });

  it('a bad config value stops the command with the key, value and what is allowed', async () => {
    const result = await runCli(['dags', 'list'], { env: { ...env, AIRFLOW__CORE__EXECUTOR: 'CeleryExecutor' }, cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Invalid config core.executor="CeleryExecutor" (from env AIRFLOW__CORE__EXECUTOR): expected one of SequentialExecutor, LocalExecutor, KubernetesExecutor',
    );
  });

  it('unknown commands and --help behave like a CLI should', async () => {
    const help = await airflow('dags', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('list-import-errors');
    const unknown = await airflow('dagz');
    expect(unknown.code).toBe(2);
  });
});
