import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AIRFLOW_BIN, runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { dagSource, tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';

// Item 9 of issue 12: a DAG file that signals its parent at import must not kill the scheduler.
const db = await createTestDatabase();
const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-home-'));
chmodSync(home, 0o755);
const cwd = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-cwd-'));
const dags = tempDagsFolder();
const env = {
  AIRFLOW_HOME: home,
  AIRFLOW__DATABASE__URL: db.url,
  AIRFLOW__CORE__DAGS_FOLDER: dags,
  AIRFLOW__CORE__LOAD_EXAMPLES: 'false',
  AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: 'false',
  AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
  AIRFLOW__CORE__PARALLELISM: '1',
  AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '0.1',
};
const attacker = (call: string, dagId: string) => `import { DAG } from 'airflow-ts';\n${call};\nexport default new DAG({ dagId: '${dagId}' });\n`;
const ATTACKS = {
  'kills_parent.ts': attacker("process.kill(process.ppid, 'SIGKILL')", 'never_1'),
  'kills_parent_group.ts': attacker("process.kill(-process.ppid, 'SIGKILL')", 'never_2'),
  'kills_own_group.ts': attacker("process.kill(0, 'SIGKILL')", 'never_3'),
};

describe('a DAG file that signals the scheduler at import', () => {
  it('gets an import error, and the scheduler lives on and runs a good DAG', async () => {
    for (const [file, source] of Object.entries(ATTACKS)) writeDag(dags, file, source);
    writeDag(dags, 'good.ts', dagSource('good_dag', ['only']));
    // Task code runs in a warm worker, also a child of the scheduler.
    writeDag(
      dags,
      'task_kills_parent.ts',
      "import { DAG, FunctionOperator } from 'airflow-ts';\nconst dag = new DAG({ dagId: 'task_kills_parent' });\nnew FunctionOperator({ dag, taskId: 'kill', retries: 0, fn: () => process.kill(process.ppid, 'SIGKILL') });\nexport default dag;\n",
    );
    // Its own process group, as a shell would start it: a signal to "the scheduler's group" reaches nothing else here.
    const scheduler = spawn(process.execPath, [AIRFLOW_BIN, 'scheduler'], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    scheduler.stdout.on('data', (c: Buffer) => (output += c.toString()));
    scheduler.stderr.on('data', (c: Buffer) => (output += c.toString()));
    let exitCode: number | string | null | undefined;
    const exited = new Promise<void>((resolve) => scheduler.on('exit', (code, signal) => resolve(void (exitCode = code ?? signal))));
    try {
      const errors = await eventually('an import error for every attacking file', async () => {
        if (exitCode !== undefined) throw new Error(`the scheduler died (${exitCode}):\n${output}`);
        const rows: { filename: string; stacktrace: string }[] = await db.knex('import_error').select('filename', 'stacktrace');
        return rows.length === Object.keys(ATTACKS).length ? rows : undefined;
      });
      const byFile = new Map(errors.map((e) => [path.basename(e.filename), e.stacktrace]));
      expect(byFile.get('kills_parent.ts')).toMatch(/DAG files may not signal the scheduler/);
      expect(byFile.get('kills_parent_group.ts')).toMatch(/DAG files may not signal the scheduler/);
      expect(byFile.get('kills_own_group.ts')).toMatch(/parser process exited/); // its own group holds only itself

      const attack = await runCli(['dags', 'trigger', 'task_kills_parent', '--run-id', 'attack'], { env, cwd });
      expect(attack.code, attack.stderr).toBe(0);
      const failed = await eventually('the attacking task to end', async () => {
        if (exitCode !== undefined) throw new Error(`the scheduler died (${exitCode}):\n${output}`);
        const row = await db.knex('task_instance').where({ dag_id: 'task_kills_parent', run_id: 'attack' }).first('state');
        return row?.state === 'failed' || row?.state === 'success' ? row.state : undefined;
      });
      expect(failed).toBe('failed');
      const trigger = await runCli(['dags', 'trigger', 'good_dag', '--run-id', 'after_attacks'], { env, cwd });
      expect(trigger.code, trigger.stderr).toBe(0);
      const run = await eventually('the good run to finish', async () => {
        if (exitCode !== undefined) throw new Error(`the scheduler died (${exitCode}):\n${output}`);
        const row = await db.knex('dag_run').where({ dag_id: 'good_dag', run_id: 'after_attacks' }).first();
        return row && (row.state === 'success' || row.state === 'failed') ? row : undefined;
      });
      expect(run.state, output).toBe('success');
      expect(exitCode).toBeUndefined();
    } finally {
      if (exitCode === undefined) scheduler.kill('SIGTERM');
      await exited;
      try {
        process.kill(-scheduler.pid!, 'SIGKILL'); // anything of its group left behind
      } catch {
        // none: the group is gone
      }
    }
    expect(exitCode).toBe(0);
  });
});

/** Pids of the processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('parser processes in their own session', () => {
  it('die with a scheduler killed by SIGKILL, even while a DAG file keeps them busy forever', async () => {
    const folder = tempDagsFolder(['infinite_loop.ts']);
    const scheduler = spawn(process.execPath, [AIRFLOW_BIN, 'scheduler'], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, AIRFLOW__CORE__DAGS_FOLDER: folder, AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT: '600' },
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise<void>((resolve) => scheduler.on('exit', () => resolve()));
    let parsers: number[] = [];
    try {
      // The scheduler's parser processes, one of them spinning in the endless loop.
      parsers = await eventually('parser processes', () => {
        const found = childrenOf(scheduler.pid!).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('parserChild'));
        return found.length > 0 && found.some((pid) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[11]) > 50)
          ? found
          : undefined;
      });
      scheduler.kill('SIGKILL');
      await exited;
      await eventually('every parser process to exit', () => parsers.every((pid) => !alive(pid)), 30_000);
    } finally {
      for (const pid of parsers.filter(alive)) process.kill(pid, 'SIGKILL');
      if (scheduler.exitCode === null && scheduler.signalCode === null) scheduler.kill('SIGKILL');
    }
  });
});
