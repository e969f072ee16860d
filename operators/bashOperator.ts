/**
 * BashOperator: runs a shell command (Airflow's BashOperator). The command
 * and env are templates, rendered with the task context before running.
 */
import { BaseOperator, taskFail, type BaseOperatorOptions } from '../core/baseOperator.ts';

export interface BashOperatorOptions extends BaseOperatorOptions {
  /** Templated, e.g. 'echo "{{ ds }}"'. */
  bashCommand: string;
  /** Templated. Replaces the worker's environment unless appendEnv is true. */
  env?: Record<string, string>;
  appendEnv?: boolean;
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
