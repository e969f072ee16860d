import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';

const db = await createTestDatabase();
const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
chmodSync(home, 0o755);
const dags = tempDagsFolder(['daily_one_task.ts', 'pipeline.ts']);
const cwd = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-cwd-'));
const env = { AIRFLOW_HOME: home, AIRFLOW__DATABASE__URL: db.url, AIRFLOW__CORE__DAGS_FOLDER: dags, AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '0.1' };
const airflow = (...args: string[]) => runCli(args, { env, cwd, timeoutMs: 120_000 });

describe('commands that create and run dag runs', () => {
  it('dags test runs example_etl in one process and prints every task reaching success', async () => {
    const result = await airflow('dags', 'test', 'example_etl');
    expect(result.code, result.stderr).toBe(0);
    for (const task of ['extract', 'clean_orders', 'clean_customers', 'join', 'load']) expect(result.stdout).toContain(`  ${task}: success`);
    expect(result.stdout).toMatch(/Dag run manual__\S+: success/);
  });

  it("dags backfill over a week of @daily creates exactly 7 runs with Airflow's logical dates and data intervals", async () => {
    const result = await airflow('dags', 'backfill', 'fixture_daily', '-s', '2025-01-01', '-e', '2025-01-07');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/\[#{30}\] 7\/7 runs done \(7 success, 0 failed\)/);
    const runs = await db.knex('dag_run').where({ dag_id: 'fixture_daily', run_type: 'backfill' }).orderBy('logical_date');
    expect(runs.map((r) => [r.run_id, r.state, r.data_interval_start.toISOString(), r.data_interval_end.toISOString()])).toEqual(
      Array.from({ length: 7 }, (_, i) => {
        const day = `2025-01-0${i + 1}`;
        const next = i === 6 ? '2025-01-08' : `2025-01-0${i + 2}`;
        return [`backfill__${day}T00:00:00+00:00`, 'success', `${day}T00:00:00.000Z`, `${next}T00:00:00.000Z`];
      }),
    );
    const again = await airflow('dags', 'backfill', 'fixture_daily', '-s', '2025-01-01', '-e', '2025-01-07');
    expect(again.stderr).toMatch(/7 interval\(s\) already have a run/);
  });

  it('dags backfill --dry-run prints the runs it would create and creates none; an end before the start is refused', async () => {
    const dry = await airflow('dags', 'backfill', 'fixture_daily', '-s', '2025-02-01', '-e', '2025-02-03', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.trim().split('\n')).toEqual([
      'backfill__2025-02-01T00:00:00+00:00  [2025-02-01T00:00:00.000Z, 2025-02-02T00:00:00.000Z)',
      'backfill__2025-02-02T00:00:00+00:00  [2025-02-02T00:00:00.000Z, 2025-02-03T00:00:00.000Z)',
      'backfill__2025-02-03T00:00:00+00:00  [2025-02-03T00:00:00.000Z, 2025-02-04T00:00:00.000Z)',
    ]);
    expect(await db.knex('dag_run').where('dag_id', 'fixture_daily').where('logical_date', '>=', '2025-02-01').count({ n: '*' })).toEqual([{ n: 0 }]);
    const backwards = await airflow('dags', 'backfill', 'fixture_daily', '-s', '2025-02-03', '-e', '2025-02-01');
    expect(backwards.code).toBe(1);
    expect(backwards.stderr).toMatch(/--end-date is before --start-date/);
  });

  it("dags trigger checks conf against the DAG's params", async () => {
    const bad = await airflow('dags', 'trigger', 'fixture_daily', '--conf', '{"size": 0}');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Invalid conf for DAG 'fixture_daily': param 'size'=0: must be >= 1/);
    const notJson = await airflow('dags', 'trigger', 'fixture_daily', '--conf', '{size: 2}');
    expect(notJson.stderr).toMatch(/--conf is not valid JSON/);
    const good = await airflow('dags', 'trigger', 'fixture_daily', '--conf', '{"size": 5}', '--run-id', 'with_conf', '-o', 'json');
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)[0]).toMatchObject({ run_id: 'with_conf', state: 'queued', run_type: 'manual', conf: { size: 5 } });
    const duplicate = await airflow('dags', 'trigger', 'fixture_daily', '--run-id', 'with_conf');
    expect(duplicate.stderr).toMatch(/already has a run with run id 'with_conf'/);
  });

  it('tasks test runs a task without recording anything; tasks clear sends a finished task back to the scheduler', async () => {
    const test = await airflow('tasks', 'test', 'fixture_pipeline', 'report', '2025-03-01');
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toContain('total= for 2025-03-01'); // no run at that date: the XCom pull is empty
    expect(await db.knex('task_instance').where({ dag_id: 'fixture_pipeline' }).count({ n: '*' })).toEqual([{ n: 0 }]);

    const listed = await airflow('tasks', 'list', 'fixture_pipeline', '-o', 'json');
    expect((JSON.parse(listed.stdout) as { task_id: string }[]).map((t) => t.task_id)).toEqual(['count', 'double', 'report']);

    const dryRun = await airflow('tasks', 'clear', 'fixture_daily', '-s', '2025-01-03', '-e', '2025-01-03');
    expect(dryRun.stdout).toMatch(/Would clear: fixture_daily\.only backfill__2025-01-03T00:00:00\+00:00 \(success\)/);
    const cleared = await airflow('tasks', 'clear', 'fixture_daily', '-s', '2025-01-03', '-e', '2025-01-03', '--yes');
    expect(cleared.code).toBe(0);
    const state = await airflow('tasks', 'state', 'fixture_daily', 'only', 'backfill__2025-01-03T00:00:00+00:00');
    expect(state.stdout.trim()).toBe('None');
    expect(await db.knex('dag_run').where({ dag_id: 'fixture_daily', run_id: 'backfill__2025-01-03T00:00:00+00:00' }).first('state')).toEqual({
      state: 'queued',
    });
  });
});
