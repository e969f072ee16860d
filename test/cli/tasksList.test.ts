// `airflow tasks list` against a DAG with nested task groups, in a real child process and database.
import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';

const db = await createTestDatabase();
const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
chmodSync(home, 0o755);
const env = { AIRFLOW_HOME: home, AIRFLOW__DATABASE__URL: db.url, AIRFLOW__CORE__DAGS_FOLDER: tempDagsFolder() };
const airflow = (...args: string[]) => runCli(args, { env, timeoutMs: 60_000 });

await registerDag(
  db.knex,
  { dagId: 'cli_groups', schedule: null },
  {
    start: {},
    orders: { group: 'extract', upstream: ['start'] },
    customers: { group: 'extract', upstream: ['start'] },
    dedupe: { group: 'clean', upstream: ['orders'] },
    validate: { group: 'clean', upstream: ['dedupe'] },
    join: { group: 'transform', upstream: ['validate', 'customers'] },
    load: { upstream: ['join'] },
  },
  {},
  { extract: { tooltip: 'Pull orders\nand customers' }, transform: {}, clean: { parent: 'transform' } },
);

describe('airflow tasks list', () => {
  it('lists every task with its prefixed id and innermost group', async () => {
    const listed = await airflow('tasks', 'list', 'cli_groups', '-o', 'json');
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as { task_id: string; task_group: string | null }[];
    expect(Object.fromEntries(rows.map((r) => [r.task_id, r.task_group]))).toEqual({
      start: null,
      'extract.orders': 'extract',
      'extract.customers': 'extract',
      'transform.clean.dedupe': 'transform.clean',
      'transform.clean.validate': 'transform.clean',
      'transform.join': 'transform',
      load: null,
    });
    const table = await airflow('tasks', 'list', 'cli_groups');
    expect(table.stdout.split('\n')[0]).toMatch(/^task_id\s+\| task_group\s+\| operator/);
  });

  it('--tree prints the groups, nested, with their tasks under them in topological order', async () => {
    const tree = await airflow('tasks', 'list', 'cli_groups', '--tree');
    expect(tree.code, tree.stderr).toBe(0);
    expect(tree.stdout).toBe(
      [
        '<Task(EmptyOperator): start>',
        '<TaskGroup: extract> Pull orders and customers',
        '    <Task(EmptyOperator): extract.orders>',
        '    <Task(EmptyOperator): extract.customers>',
        '<TaskGroup: transform>',
        '    <TaskGroup: transform.clean>',
        '        <Task(EmptyOperator): transform.clean.dedupe>',
        '        <Task(EmptyOperator): transform.clean.validate>',
        '    <Task(EmptyOperator): transform.join>',
        '<Task(EmptyOperator): load>',
        '',
      ].join('\n'),
    );
    const unknown = await airflow('tasks', 'list', 'no_such_dag', '--tree');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no_such_dag/);
  });
});
