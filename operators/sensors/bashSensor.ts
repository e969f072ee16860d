/**
 * BashSensor: pokes by running a shell command (Airflow's BashSensor): exit code 0 means done. Any other
 * code means "not yet", unless `retryExitCode` is set: then only that code means "not yet" and the others
 * fail the sensor. The command runs as the BashOperator's does, in its own process group that dies with
 * the try, with the AIRFLOW_CTX_* variables, in a fresh temporary folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { taskFail } from '../../core/baseOperator.ts';
import { AirflowError } from '../../core/errors.ts';
import type { TaskContext } from '../../core/taskContext.ts';
import { airflowContextEnv, runBash } from '../bashOperator.ts';
import { BaseSensorOperator, type BaseSensorOperatorOptions } from './baseSensorOperator.ts';

export interface BashSensorOptions extends BaseSensorOperatorOptions {
  /** Templated. */
  bashCommand: string;
  /** Templated. Replaces the worker's environment; unset, the worker's environment is used. */
  env?: Record<string, string>;
  /** The exit code that means "not yet"; unset, every non-zero code does. */
  retryExitCode?: number;
}

export class BashSensor extends BaseSensorOperator {
  static override readonly templateFields: readonly string[] = ['bashCommand', 'env'];

  readonly bashCommand: string;
  readonly env: Record<string, string> | null;
  readonly retryExitCode: number | null;

  constructor(options: BashSensorOptions) {
    const fail = (message: string): never => taskFail(options?.dag?.dagId, options?.taskId, message);
    const { bashCommand, env, retryExitCode } = options ?? ({} as BashSensorOptions);
    if (typeof bashCommand !== 'string' || bashCommand.trim() === '') fail(`bashCommand must be a non-empty string, got ${JSON.stringify(bashCommand)}`);
    // As Airflow's BashSensor: its command runs in a worker's process group, never in the triggerer.
    if (options?.deferrable)
      fail(
        `deferrable is not supported: the command runs only in a worker, never in the triggerer; use mode: 'reschedule' to free the worker slot between pokes`,
      );
    if (env !== undefined && (typeof env !== 'object' || env === null || Object.values(env).some((v) => typeof v !== 'string'))) {
      fail('env must be an object of string values, like { FOO: "bar" }');
    }
    if (retryExitCode !== undefined && (!Number.isInteger(retryExitCode) || retryExitCode < 1 || retryExitCode > 255)) {
      fail(`retryExitCode must be an exit code 1-255, got ${JSON.stringify(retryExitCode)}`);
    }
    super(options);
    this.bashCommand = bashCommand;
    this.env = env ? { ...env } : null;
    this.retryExitCode = retryExitCode ?? null;
  }

  override serializeFields(): Record<string, unknown> {
    return { ...super.serializeFields(), bashCommand: this.bashCommand, env: this.env, retryExitCode: this.retryExitCode };
  }

  async poke(context: TaskContext, rendered: Record<string, unknown>): Promise<boolean> {
    const command = rendered.bashCommand as string;
    const env = rendered.env as Record<string, string> | null;
    const cwd = await mkdtemp(path.join(tmpdir(), 'airflow-ts-bash-sensor-'));
    try {
      context.log.info(`Running command: ${command}`);
      const result = await runBash(command, cwd, { ...(env === null ? process.env : env), ...airflowContextEnv(context) }, context);
      if (result.signal !== null) throw new AirflowError(`Bash command was killed by signal ${result.signal}`);
      context.log.info(`Command exited with return code ${result.code}`);
      if (result.code === 0) return true;
      if (this.retryExitCode === null || result.code === this.retryExitCode) return false;
      throw new AirflowError(`Bash command returned exit code ${result.code}, neither 0 (done) nor ${this.retryExitCode} (not yet)`);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }
}
