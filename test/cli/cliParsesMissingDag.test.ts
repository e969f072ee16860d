import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { dagSource, tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';

// A fresh database no scheduler has filled: the DAGs exist only as files.
const db = await createTestDatabase();
const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
chmodSync(home, 0o755);
const dags = tempDagsFolder(['daily_one_task.ts', 'throws.ts']);
const env = { AIRFLOW_HOME: home, AIRFLOW__DATABASE__URL: db.url, AIRFLOW__CORE__DAGS_FOLDER: dags, AIRFLOW__CORE__LOAD_EXAMPLES: 'false' };
const airflow = (...args: string[]) => runCli(args, { env, cwd: home, timeoutMs: 120_000 });

describe('dags backfill of a DAG not yet in the database', () => {
  it('parses the dags folder (in the parser processes) and backfills it', async () => {
    expect(await db.knex('serialized_dag').where('dag_id', 'fixture_daily').count({ n: '*' })).toEqual([{ n: 0 }]);
    const result = await airflow('dags', 'backfill', 'fixture_daily', '-s', '2025-01-01', '-e', '2025-01-03');
    expect(result.code, result.stderr).toBe(0);
    const runs = await db.knex('dag_run').where({ dag_id: 'fixture_daily', run_type: 'backfill' }).orderBy('logical_date');
    expect(runs.map((r) => [r.run_id, r.state])).toEqual([
      ['backfill__2025-01-01T00:00:00+00:00', 'success'],
      ['backfill__2025-01-02T00:00:00+00:00', 'success'],
      ['backfill__2025-01-03T00:00:00+00:00', 'success'],
    ]);
  });

  it('names the file and line that failed to import when the DAG is in no file that loads', async () => {
    const result = await airflow('dags', 'backfill', 'fixture_throws', '-s', '2025-01-01', '-e', '2025-01-03');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`DAG 'fixture_throws' is in no DAG file that loads; 1 file(s) in the dags folder failed to import:`);
    expect(result.stderr).toContain(`${path.join(dags, 'throws.ts')}:4: `);
    expect(result.stderr).toContain('the warehouse is down');
    expect(await db.knex('dag_run').where('dag_id', 'fixture_throws').count({ n: '*' })).toEqual([{ n: 0 }]);
  });
});

describe('other commands that read a DAG parse the folder for one not yet in the database', () => {
  it('dags show and tasks list find a DAG file added after the last parse', async () => {
    writeDag(dags, 'added_later.ts', dagSource('added_later', ['first', 'second']));
    const show = await airflow('dags', 'show', 'added_later');
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('second');
    writeDag(dags, 'added_later_too.ts', dagSource('added_later_too', ['a', 'b']));
    const list = await airflow('tasks', 'list', 'added_later_too', '-o', 'json');
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { task_id: string }[]).map((t) => t.task_id)).toEqual(['a', 'b']);
  });

  it('tasks test runs a task of a DAG file added after the last parse', async () => {
    writeDag(dags, 'added_for_tasks_test.ts', dagSource('added_for_tasks_test', ['only']));
    const result = await airflow('tasks', 'test', 'added_for_tasks_test', 'only', '2025-03-01');
    expect(result.code, result.stderr).toBe(0);
    expect(await db.knex('serialized_dag').where('dag_id', 'added_for_tasks_test').count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('dags test of a DAG whose file fails to import names the file and line', async () => {
    const result = await airflow('dags', 'test', 'fixture_throws');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${path.join(dags, 'throws.ts')}:4: `);
  });
});
