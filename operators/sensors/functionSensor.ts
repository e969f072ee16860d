/**
 * FunctionSensor: pokes by calling a TypeScript function (Airflow's PythonSensor). The function returns
 * true when the condition is met, or { isDone, xcomValue } to also hand a value on as the return_value XCom.
 */
import { taskFail } from '../../core/baseOperator.ts';
import { jsonProblem } from '../../core/param.ts';
import { runWithContext, type TaskContext } from '../../core/taskContext.ts';
import { BaseSensorOperator, type BaseSensorOperatorOptions, type PokeResult } from './baseSensorOperator.ts';

/** Receives the task context and the rendered opKwargs. */
export type PokeFunction = (context: TaskContext, kwargs: Record<string, unknown>) => PokeResult | Promise<PokeResult>;

export interface FunctionSensorOptions extends BaseSensorOperatorOptions {
  fn: PokeFunction;
  /** Templated keyword arguments, passed to `fn` as its second argument. Must be JSON. */
  opKwargs?: Record<string, unknown>;
}

export class FunctionSensor extends BaseSensorOperator {
  static override readonly templateFields: readonly string[] = ['opKwargs'];

  readonly fn: PokeFunction;
  readonly opKwargs: Record<string, unknown>;

  constructor(options: FunctionSensorOptions) {
    const fail = (message: string) => taskFail(options?.dag?.dagId, options?.taskId, message);
    const { fn, opKwargs = {} } = options ?? {};
    if (typeof fn !== 'function') fail(`fn must be a function, got ${typeof fn}; pass fn: (ctx) => true when the condition is met`);
    // As Airflow's PythonSensor: a function cannot be handed to the triggerer. Said here, not ignored at run time.
    if (options?.deferrable)
      fail(`deferrable is not supported: fn runs only in a worker, never in the triggerer; use mode: 'reschedule' to free the worker slot between pokes`);
    const problem = typeof opKwargs !== 'object' || opKwargs === null || Array.isArray(opKwargs) ? 'it is not an object' : jsonProblem(opKwargs, 'opKwargs');
    if (problem) fail(`opKwargs must be a JSON object: ${problem}`);
    super(options);
    this.fn = fn;
    this.opKwargs = { ...opKwargs };
  }

  override serializeFields(): Record<string, unknown> {
    return { ...super.serializeFields(), fnName: this.fn.name || '<anonymous>', opKwargs: this.opKwargs };
  }

  poke(context: TaskContext, rendered: Record<string, unknown>): Promise<PokeResult> {
    return Promise.resolve(runWithContext(context, () => this.fn(context, rendered.opKwargs as Record<string, unknown>)));
  }
}
