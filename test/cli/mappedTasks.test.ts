import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { transitionTaskInstance } from '../../db/transitions.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';

// `tasks state` and `tasks test` address one instance of a mapped task with --map-index, as Airflow's CLI.
const db = await createTestDatabase();
const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
chmodSync(home, 0o755);
const dags = tempDagsFolder();
for (const example of ['example_dynamic_mapping', 'example_mapped_operators', 'example_mapped_task_groups']) {
  copyFileSync(fileURLToPath(new URL(`../../dags/${example}.ts`, import.meta.url)), path.join(dags, `${example}.ts`));
}
const cwd = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-cwd-'));
const env = { AIRFLOW_HOME: home, AIRFLOW__DATABASE__URL: db.url, AIRFLOW__CORE__DAGS_FOLDER: dags };
const airflow = (...args: string[]) => runCli(args, { env, cwd, timeoutMs: 120_000 });

describe('the CLI on mapped task instances', () => {
  it('tasks state --map-index N prints one instance, by run id or logical date; without it a mapped task is a clear error', async () => {
    const ran = await airflow('dags', 'test', 'example_dynamic_mapping');
    expect(ran.code, ran.stderr).toBe(0);
    const run = await db.knex('dag_run').where('dag_id', 'example_dynamic_mapping').first('id', 'run_id', 'logical_date');
    // Make one instance differ so the answer shows which map index was read.
    const third = await db.knex('task_instance').where({ dag_id: 'example_dynamic_mapping', run_id: run.run_id, task_id: 'embed', map_index: 3 }).first('id');
    await transitionTaskInstance(db.knex, third.id, { to: 'failed', now: new Date() });

    const byRun = await airflow('tasks', 'state', 'example_dynamic_mapping', 'embed', run.run_id, '--map-index', '3');
    expect([byRun.code, byRun.stdout.trim()], byRun.stderr).toEqual([0, 'failed']);
    const byDate = await airflow('tasks', 'state', 'example_dynamic_mapping', 'embed', (run.logical_date as Date).toISOString(), '--map-index', '2');
    expect([byDate.code, byDate.stdout.trim()], byDate.stderr).toEqual([0, 'success']);

    const unmapped = await airflow('tasks', 'state', 'example_dynamic_mapping', 'embed', run.run_id);
    expect(unmapped.code).toBe(1);
    expect(unmapped.stderr).toMatch(/example_dynamic_mapping\.embed is mapped in run '.+': give the instance with --map-index N/);
    const beyond = await airflow('tasks', 'state', 'example_dynamic_mapping', 'embed', run.run_id, '--map-index', '9');
    expect(beyond.stderr).toMatch(/No task instance example_dynamic_mapping\.embed in run '.+' with map index 9/);

    // tasks test runs the instance on its element (the gathered chunks of the run at that date), recording nothing.
    const tested = await airflow('tasks', 'test', 'example_dynamic_mapping', 'embed', (run.logical_date as Date).toISOString(), '--map-index', '2');
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/Task example_dynamic_mapping\.embed succeeded; returned \{"docId":"mapping","position":0,"vector":\[[\d.,]+\]\}/);
  });

  it("tasks test --map-index N runs a mapped classic operator built with that instance's combination", async () => {
    const ran = await airflow('dags', 'test', 'example_mapped_operators');
    expect(ran.code, ran.stderr).toBe(0);
    const run = await db.knex('dag_run').where('dag_id', 'example_mapped_operators').first('logical_date');
    // checksum maps algorithms (slowest) × files: index 4 is md5 of the second file.
    const tested = await airflow('tasks', 'test', 'example_mapped_operators', 'checksum', (run.logical_date as Date).toISOString(), '--map-index', '4');
    expect(tested.code, tested.stderr).toBe(0);
    const md5 = createHash('md5').update('customers.csv').digest('hex').slice(0, 12);
    expect(tested.stdout).toContain(`Task example_mapped_operators.checksum succeeded; returned "${md5}"`);
  });

  it('tasks list marks mapped tasks (a mapped column; <Mapped(...)> and <MappedTaskGroup: ...> in --tree)', async () => {
    const parsed = await airflow('dags', 'reserialize');
    expect(parsed.code, parsed.stderr).toBe(0);
    const listed = await airflow('tasks', 'list', 'example_dynamic_mapping', '-o', 'json');
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as { task_id: string; mapped: boolean }[];
    expect(Object.fromEntries(rows.map((r) => [r.task_id, r.mapped]))).toEqual({
      list_documents: false,
      chunk: true,
      gather_chunks: false,
      embed: true,
      build_index: false,
    });
    const tree = await airflow('tasks', 'list', 'example_mapped_task_groups', '--tree');
    expect(tree.code, tree.stderr).toBe(0);
    expect(tree.stdout).toMatch(/^<Task\(TaskFlowOperator\): regions>$/m);
    expect(tree.stdout).toMatch(/^<MappedTaskGroup: per_region> Fetch, validate and sum one region$/m);
    expect(tree.stdout).toMatch(/^ {4}<Mapped\(TaskFlowOperator\): per_region\.fetch>$/m);
    expect(tree.stdout).toMatch(/^<Task\(TaskFlowOperator\): report>$/m);
  });
});
