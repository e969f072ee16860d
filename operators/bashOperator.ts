/**
 * BashOperator: runs a shell command (Airflow's BashOperator). The command
 * and env are templates, rendered with the task context before running.
 * Output lines go to the task log; the last stdout line is the return value.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { BaseOperator, taskFail, type BaseOperatorOptions } from '../core/baseOperator.ts';
import { AirflowError, AirflowSkipException } from '../core/errors.ts';
import type { TaskContext } from '../core/taskContext.ts';
import { TRY_MARK_ENV } from '../core/tryMark.ts';

export interface BashOperatorOptions extends BaseOperatorOptions {
  /** Templated, e.g. 'echo "{{ ds }}"'. */
  bashCommand: string;
  /** Templated. Replaces the worker's environment unless appendEnv is true; unset, the worker's environment is used. */
  env?: Record<string, string>;
  appendEnv?: boolean;
  /** Where the command runs; unset, a fresh temporary directory, removed afterwards (as Airflow). */
  cwd?: string;
  /** Exit codes that mark the task skipped instead of failed; default 99, null for none. */
  skipOnExitCode?: number | number[] | null;
}

export class BashOperator extends BaseOperator {
  static override readonly templateFields: readonly string[] = ['bashCommand', 'env'];

  readonly bashCommand: string;
  readonly env: Record<string, string> | null;
  readonly appendEnv: boolean;
  readonly cwd: string | null;
  readonly skipOnExitCode: number[];

  constructor(options: BashOperatorOptions) {
    // Checked before super(), which adds the task to the DAG: a bad option must not leave a half-made task behind.
    const fields = checkBashOptions(options);
    super(options);
    this.bashCommand = fields.bashCommand;
    this.env = fields.env;
    this.appendEnv = fields.appendEnv;
    this.cwd = fields.cwd;
    this.skipOnExitCode = fields.skipOnExitCode;
  }

  serializeFields(): Record<string, unknown> {
    return { bashCommand: this.bashCommand, env: this.env, appendEnv: this.appendEnv, cwd: this.cwd, skipOnExitCode: this.skipOnExitCode };
  }

  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    context.signal.throwIfAborted();
    const command = rendered.bashCommand as string;
    const env = rendered.env as Record<string, string> | null;
    if (this.cwd !== null && !(await stat(this.cwd).catch(() => null))?.isDirectory()) {
      throw new AirflowError(`task '${this.taskId}': cwd ${JSON.stringify(this.cwd)} is not an existing directory`);
    }
    const cwd = this.cwd ?? (await mkdtemp(path.join(tmpdir(), 'airflow-ts-bash-')));
    try {
      context.log.info(`Running command: ${command}`);
      const result = await runBash(command, cwd, { ...(env === null || this.appendEnv ? process.env : {}), ...env, ...airflowContextEnv(context) }, context);
      if (result.signal !== null) throw new AirflowError(`Bash command was killed by signal ${result.signal}`);
      if (this.skipOnExitCode.includes(result.code as number)) throw new AirflowSkipException(`Bash command returned exit code ${result.code}; skipping`);
      if (result.code !== 0) throw new AirflowError(`Bash command failed. The command returned a non-zero exit code ${result.code}.`);
      return result.lastLine;
    } finally {
      if (this.cwd === null) await rm(cwd, { recursive: true, force: true });
    }
  }
}

/**
 * Airflow's AIRFLOW_CTX_* variables, so scripts know which task they run for, and the try's mark,
 * which `env` must not drop: it is how the try's processes are found when its worker dies.
 */
export function airflowContextEnv(context: TaskContext): Record<string, string> {
  const mark = process.env[TRY_MARK_ENV];
  return {
    ...(mark === undefined ? {} : { [TRY_MARK_ENV]: mark }),
    AIRFLOW_CTX_DAG_ID: context.dag.dagId,
    AIRFLOW_CTX_TASK_ID: context.task.taskId,
    AIRFLOW_CTX_RUN_ID: context.runId,
    AIRFLOW_CTX_DAG_RUN_ID: context.runId, // Airflow's own name for it
    AIRFLOW_CTX_TRY_NUMBER: String(context.ti.tryNumber),
    AIRFLOW_CTX_LOGICAL_DATE: context.ts,
    AIRFLOW_CTX_DAG_OWNER: context.task.owner,
  };
}

export interface BashResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last non-empty stdout line, or undefined when there was none. */
  lastLine: string | undefined;
}

const KILL_GRACE_MS = 5_000;

/**
 * Runs `bash -c command` in its own process group, logging output lines as
 * they come. When the context's signal aborts, the whole group gets SIGTERM
 * (SIGKILL after a grace period) and the promise rejects with the abort reason.
 * When bash exits, what it left running in its group (`cmd &`) is killed: every
 * child dies with its try.
 */
export function runBash(command: string, cwd: string, env: NodeJS.ProcessEnv, context: TaskContext): Promise<BashResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let lastLine: string | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      context.log.info(line);
      if (line.trim() !== '') lastLine = line;
    });
    createInterface({ input: child.stderr }).on('line', (line) => context.log.info(line));

    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), signal); // negative pid: the group, so children of bash die too
      } catch {
        // already gone
      }
    };
    const onAbort = () => {
      context.log.warn('Task was cancelled; terminating the bash process group');
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    context.signal.addEventListener('abort', onAbort, { once: true });
    if (context.signal.aborted) onAbort(); // aborted while we were preparing: the event has already fired
    const done = () => {
      context.signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
    };
    child.on('exit', () => killGroup('SIGKILL')); // before 'close': a background job may hold the output pipes open
    child.on('error', (err) => {
      done();
      reject(new AirflowError(`could not start bash: ${err.message}`, { cause: err }));
    });
    // 'close' waits for the output streams to end, so no line is lost.
    child.on('close', (code, signal) => {
      done();
      if (context.signal.aborted) reject(abortReason(context.signal));
      else resolve({ code, signal, lastLine });
    });
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new AirflowError(`Bash command was cancelled: ${String(signal.reason)}`);
}

function checkBashOptions(options: BashOperatorOptions) {
  const fail = (message: string) => taskFail(options?.dag?.dagId, options?.taskId, message);
  const { bashCommand, env, appendEnv = false, cwd, skipOnExitCode = 99 } = options ?? {};
  if (typeof bashCommand !== 'string' || bashCommand.trim() === '') fail(`bashCommand must be a non-empty string, got ${JSON.stringify(bashCommand)}`);
  if (env !== undefined) {
    if (typeof env !== 'object' || env === null || Array.isArray(env)) fail('env must be an object of string values, like { FOO: "bar" }');
    for (const [key, value] of Object.entries(env)) {
      if (typeof value !== 'string') fail(`env.${key} must be a string, got ${JSON.stringify(value)}; convert it with String(...)`);
    }
  }
  if (typeof appendEnv !== 'boolean') fail(`appendEnv must be true or false, got ${JSON.stringify(appendEnv)}`);
  if (cwd !== undefined && (typeof cwd !== 'string' || cwd === '')) fail(`cwd must be a non-empty string, got ${JSON.stringify(cwd)}`);
  const codes = skipOnExitCode === null ? [] : Array.isArray(skipOnExitCode) ? skipOnExitCode : [skipOnExitCode];
  for (const code of codes) {
    if (!Number.isInteger(code) || code < 0 || code > 255) fail(`skipOnExitCode must hold exit codes 0-255, got ${JSON.stringify(code)}`);
  }
  return { bashCommand, env: env ? { ...env } : null, appendEnv, cwd: cwd ?? null, skipOnExitCode: [...codes] };
}
