/**
 * FunctionOperator: runs a TypeScript function (Airflow's PythonOperator).
 * Its return value becomes the task's 'return_value' XCom, so keep it small JSON.
 */
import { BaseOperator, taskFail, type BaseOperatorOptions } from '../core/baseOperator.ts';
import { jsonProblem } from '../core/param.ts';
import { runWithContext, type TaskContext } from '../core/taskContext.ts';

/** Receives the task context and the rendered opKwargs. */
export type TaskFunction = (context: TaskContext, kwargs: Record<string, unknown>) => unknown;

export interface FunctionOperatorOptions extends BaseOperatorOptions {
  fn: TaskFunction;
  /** Templated keyword arguments, passed to `fn` as its second argument. Must be JSON. */
  opKwargs?: Record<string, unknown>;
}

export class FunctionOperator extends BaseOperator {
  static override readonly templateFields: readonly string[] = ['opKwargs'];

  readonly fn: TaskFunction;
  readonly opKwargs: Record<string, unknown>;

  constructor(options: FunctionOperatorOptions) {
    // Checked before super(), which adds the task to the DAG: a bad option must not leave a half-made task behind.
    const fail = (message: string) => taskFail(options?.dag?.dagId, options?.taskId, message);
    const { fn, opKwargs = {} } = options ?? {};
    if (typeof fn !== 'function') fail(`fn must be a function, got ${typeof fn}; pass fn: (ctx) => ...`);
    const problem = typeof opKwargs !== 'object' || opKwargs === null || Array.isArray(opKwargs) ? 'it is not an object' : jsonProblem(opKwargs, 'opKwargs');
    if (problem) fail(`opKwargs must be a JSON object: ${problem}`);
    super(options);
    this.fn = fn;
    this.opKwargs = { ...opKwargs };
  }

  serializeFields(): Record<string, unknown> {
    return { fnName: this.fn.name || '<anonymous>', opKwargs: this.opKwargs };
  }

  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    return runWithContext(context, () => this.fn(context, rendered.opKwargs as Record<string, unknown>));
  }
}
