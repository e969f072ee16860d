import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AIRFLOW_BIN, runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { dagSource, tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';

// Item 7 of issue 12: DAGs already serialized in the database are scheduled while
// slow files are still being parsed, and listings read the database.
const db = await createTestDatabase();
const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
chmodSync(home, 0o755);
const cwd = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-cwd-'));
const dags = tempDagsFolder();
const SLOW_FILES = 5;
const env = {
  AIRFLOW_HOME: home,
  AIRFLOW__DATABASE__URL: db.url,
  AIRFLOW__CORE__DAGS_FOLDER: dags,
  AIRFLOW__CORE__LOAD_EXAMPLES: 'false',
  AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
  AIRFLOW__CORE__PARALLELISM: '1',
  AIRFLOW__SCHEDULER__PARSING_PROCESSES: '1',
  AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '0.1',
};

/** A valid DAG file whose import blocks for `ms` (a top-level call to a slow service). */
function slowDagSource(dagId: string, ms: number): string {
  return `import { DAG, EmptyOperator } from 'airflow-ts';\nAtomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${ms});\nconst dag = new DAG({ dagId: '${dagId}' });\nnew EmptyOperator({ dag, taskId: 'x' });\nexport default dag;\n`;
}

const slowParsed = async () => Number((await db.knex('dag').where('dag_id', 'like', 'slow_%').count({ n: '*' }))[0]!.n);

describe('a scheduler restarting on a folder of slow files', () => {
  it('runs a triggered run of an already serialized DAG before the slow files are parsed; listings read the database', { timeout: 150_000 }, async () => {
    // The good DAG was parsed by an earlier scheduler (here: `dags list --local`); it sorts last in the folder.
    writeDag(dags, 'zz_good.ts', dagSource('good_dag', ['only']));
    const first = await runCli(['dags', 'list', '--local', '-o', 'json'], { env, cwd });
    expect(first.code, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as { dag_id: string }[]).map((d) => d.dag_id)).toEqual(['good_dag']);
    expect((await runCli(['dags', 'unpause', 'good_dag'], { env, cwd })).code).toBe(0);
    // Then slow files arrive, each blocking its import for 4 s.
    for (let i = 0; i < SLOW_FILES; i++) writeDag(dags, `slow_${i}.ts`, slowDagSource(`slow_${i}`, 4_000));
    const trigger = await runCli(['dags', 'trigger', 'good_dag', '--run-id', 'during_parse'], { env, cwd });
    expect(trigger.code, trigger.stderr).toBe(0);

    const scheduler = spawn(process.execPath, [AIRFLOW_BIN, 'scheduler'], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    scheduler.stdout.on('data', (c: Buffer) => (output += c.toString()));
    scheduler.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => scheduler.on('exit', (code) => resolve(code)));
    try {
      const run = await eventually('the triggered run to finish', async () => {
        const row = await db.knex('dag_run').where({ dag_id: 'good_dag', run_id: 'during_parse' }).first();
        return row && (row.state === 'success' || row.state === 'failed') ? row : undefined;
      });
      expect(run.state, output).toBe('success');
      // Order, not time: the run finished while the scheduler's first scan was still on the slow files.
      const parsedWhenRunFinished = await slowParsed();
      expect(parsedWhenRunFinished, output).toBeLessThan(SLOW_FILES);

      // Meanwhile listings answer from the database, without parsing the slow files here.
      const listing = await runCli(['dags', 'list-import-errors', '-o', 'json'], { env, cwd });
      const dagList = await runCli(['dags', 'list', '-o', 'json'], { env, cwd });
      expect(listing.code, listing.stderr).toBe(0);
      expect(JSON.parse(listing.stdout)).toEqual([]);
      expect(await slowParsed()).toBeLessThan(SLOW_FILES);
      expect((JSON.parse(dagList.stdout) as { dag_id: string }[]).map((d) => d.dag_id)).toContain('good_dag');

      // The background scan still gets through every file.
      await eventually('every slow file to be parsed', async () => (await slowParsed()) === SLOW_FILES, 120_000);
    } finally {
      scheduler.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
