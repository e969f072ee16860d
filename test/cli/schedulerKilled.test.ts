import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { AIRFLOW_BIN } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';

const db = await createTestDatabase();
const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
chmodSync(home, 0o755);
const dags = tempDagsFolder();
writeDag(
  dags,
  'slow.ts',
  `import { BashOperator, DAG } from 'airflow-ts';\nconst dag = new DAG({ dagId: 'slow', isPausedUponCreation: false });\nnew BashOperator({ dag, taskId: 'sleep', bashCommand: 'sleep 2 && echo done' });\nexport default dag;\n`,
);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a scheduler killed with SIGKILL', () => {
  it('loses nothing: its worker finishes and records the running task, then exits instead of living on as an orphan', async () => {
    const scheduler = spawn(process.execPath, [AIRFLOW_BIN, 'scheduler'], {
      cwd: home,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AIRFLOW_HOME: home,
        AIRFLOW__DATABASE__URL: db.url,
        AIRFLOW__CORE__DAGS_FOLDER: dags,
        AIRFLOW__CORE__LOAD_EXAMPLES: 'false',
        AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
      },
      stdio: 'ignore',
    });
    await eventually('the DAG to be parsed', async () => (await db.knex('serialized_dag').where('dag_id', 'slow').first()) ?? undefined);
    const run = await triggerDagRun(db.knex, { dagId: 'slow', now: new Date() });
    const ti = await eventually(
      'the task to run',
      async () => (await db.knex('task_instance').where({ dag_id: 'slow', run_id: run.run_id, state: 'running' }).first()) ?? undefined,
    );
    const workerPid = ti.pid as number;
    expect(alive(workerPid)).toBe(true);

    scheduler.kill('SIGKILL');
    const done = await eventually('the orphaned worker to record the task', async () => {
      const row = await db.knex('task_instance').where('id', ti.id).first('state');
      return row.state === 'running' ? undefined : row.state;
    });
    expect(done).toBe('success');
    await eventually('the worker to exit', () => (alive(workerPid) ? undefined : true), 30_000);
  });
});
