import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { AirflowSkipException } from '../../core/errors.ts';
import { BashOperator, type BashOperatorOptions } from '../../operators/bashOperator.ts';
import { eventually } from '../helpers/eventually.ts';
import { contextFor, RUN_ID, runTask } from './fakeRunner.ts';

let n = 0;
function bash(options: Omit<BashOperatorOptions, 'dag' | 'taskId'>) {
  const dag = new DAG({ dagId: `bash_${++n}`, defaultArgs: { owner: 'ops' } });
  const run = contextFor(new BashOperator({ dag, taskId: 'run', ...options }));
  return { ...run, execute: () => runTask(run) };
}

const scratch = mkdtempSync(path.join(tmpdir(), 'bash-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('BashOperator.execute', () => {
  it('runs the rendered command, logs its output and returns the last non-empty stdout line', async () => {
    const { execute, lines } = bash({ bashCommand: 'echo "day {{ ds }}"; echo "last {{ ds_nodash }}"; echo ""' });
    expect(await execute()).toBe('last 20240102');
    expect(lines.some((l) => l.endsWith('INFO - day 2024-01-02'))).toBe(true);
  });

  it('returns undefined when the command prints nothing, so no XCom is pushed', async () => {
    const { execute, xcom } = bash({ bashCommand: 'true' });
    expect(await execute()).toBeUndefined();
    expect(xcom.values.size).toBe(0);
  });

  it('writes stderr lines to the task log', async () => {
    const { execute, lines } = bash({ bashCommand: 'echo oops >&2; echo fine' });
    expect(await execute()).toBe('fine');
    expect(lines.some((l) => l.endsWith('- oops'))).toBe(true);
  });

  it('sets Airflow’s AIRFLOW_CTX_* variables', async () => {
    const { execute } = bash({
      bashCommand:
        'echo "$AIRFLOW_CTX_DAG_ID|$AIRFLOW_CTX_TASK_ID|$AIRFLOW_CTX_RUN_ID|$AIRFLOW_CTX_TRY_NUMBER|$AIRFLOW_CTX_LOGICAL_DATE|$AIRFLOW_CTX_DAG_OWNER"',
    });
    expect(await execute()).toBe(`bash_${n}|run|${RUN_ID}|1|2024-01-02T03:04:05+00:00|ops`);
  });

  describe('environment', () => {
    process.env.BASH_TEST_INHERITED = 'inherited';
    afterAll(() => delete process.env.BASH_TEST_INHERITED);

    it('inherits the worker’s environment when env is unset', async () => {
      expect(await bash({ bashCommand: 'echo "$BASH_TEST_INHERITED"' }).execute()).toBe('inherited');
    });

    it('replaces the environment with the rendered env', async () => {
      const { execute } = bash({ bashCommand: 'echo "$GREETING|${BASH_TEST_INHERITED:-unset}"', env: { GREETING: 'hi {{ ds }}' } });
      expect(await execute()).toBe('hi 2024-01-02|unset');
    });

    it('adds the rendered env to the worker’s with appendEnv', async () => {
      const { execute } = bash({ bashCommand: 'echo "$GREETING|$BASH_TEST_INHERITED"', env: { GREETING: 'hi {{ ds }}' }, appendEnv: true });
      expect(await execute()).toBe('hi 2024-01-02|inherited');
    });
  });

  describe('working directory', () => {
    it('runs in cwd when given', async () => {
      expect(await bash({ bashCommand: 'pwd', cwd: scratch }).execute()).toBe(realpathSync(scratch));
    });

    it('runs in a fresh temporary directory otherwise, and removes it afterwards', async () => {
      const dir = (await bash({ bashCommand: 'touch leftover; pwd' }).execute()) as string;
      expect(path.basename(dir)).toMatch(/^airflow-ts-bash-/);
      expect(existsSync(dir)).toBe(false);
    });

    it('fails clearly when cwd does not exist', async () => {
      await expect(bash({ bashCommand: 'pwd', cwd: path.join(scratch, 'missing') }).execute()).rejects.toThrow('is not an existing directory');
    });
  });

  describe('exit codes', () => {
    it('skips on exit code 99 by default', async () => {
      await expect(bash({ bashCommand: 'exit 99' }).execute()).rejects.toBeInstanceOf(AirflowSkipException);
    });

    it('skips on the configured codes only', async () => {
      await expect(bash({ bashCommand: 'exit 3', skipOnExitCode: [3, 4] }).execute()).rejects.toBeInstanceOf(AirflowSkipException);
      await expect(bash({ bashCommand: 'exit 99', skipOnExitCode: null }).execute()).rejects.toThrow('non-zero exit code 99');
    });

    it('fails on any other non-zero exit code, naming it', async () => {
      const err = await bash({ bashCommand: 'echo partial; exit 1' })
        .execute()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(AirflowSkipException);
      expect((err as Error).message).toBe('Bash command failed. The command returned a non-zero exit code 1.');
    });
  });

  describe('cancellation', () => {
    it('kills the whole process group when the signal aborts, rejecting with the reason', async () => {
      const controller = new AbortController();
      const dag = new DAG({ dagId: 'bash_abort' });
      const pidFile = path.join(mkdtempSync(path.join(tmpdir(), 'airflow-ts-bash-abort-')), 'pid');
      const run = contextFor(new BashOperator({ dag, taskId: 'sleepy', bashCommand: `sleep 30 & echo $! > ${pidFile}; wait` }), { signal: controller.signal });
      const running = runTask(run);
      // Abort once the background sleep is running (its pid written), not after a guessed delay.
      const pid = await eventually(
        'the background sleep to start',
        () => (existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8').trim())) || undefined,
        10_000,
      );
      controller.abort(new Error('execution timeout'));
      // The background sleep holds stdout, so the command ends only once it is dead too.
      await expect(running).rejects.toThrow('execution timeout');
      const gone = () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      };
      await eventually("the group's background sleep to be gone (reaped)", gone, 10_000);
    }, 15_000); // well before the 30 s sleep would end by itself

    it('does not start when the signal has already aborted', async () => {
      const controller = new AbortController();
      controller.abort(new Error('cancelled before start'));
      const dag = new DAG({ dagId: 'bash_aborted' });
      const run = contextFor(new BashOperator({ dag, taskId: 't', bashCommand: 'sleep 30' }), { signal: controller.signal });
      await expect(runTask(run)).rejects.toThrow('cancelled before start');
    });
  });
});
