/**
 * TaskFlowOperator: what `task()` creates for each call of a task function
 * (Airflow's @task). Its arguments may hold XComArgs; those tasks become
 * upstreams, and their values replace the XComArgs when this task runs.
 */
import { BaseOperator, taskFail, type BaseOperatorOptions } from '../core/baseOperator.ts';
import { jsonProblem } from '../core/param.ts';
import { runWithContext, type TaskContext } from '../core/taskContext.ts';
import { findXComArgs, resolveXComArgs, serializeXComArgs } from '../core/xcomArg.ts';

export type TaskFlowFunction = (...args: never[]) => unknown;

export interface TaskFlowOperatorOptions extends BaseOperatorOptions {
  fn: TaskFlowFunction;
  /** Positional arguments: JSON, with XComArgs anywhere inside. Strings are templated. */
  args?: unknown[];
}

export class TaskFlowOperator extends BaseOperator {
  static override readonly templateFields: readonly string[] = ['args'];

  readonly fn: TaskFlowFunction;
  readonly args: unknown[];

  constructor(options: TaskFlowOperatorOptions) {
    // Checked before super(), which adds the task to the DAG: a bad option must not leave a half-made task behind.
    const fail = (message: string) => taskFail(options?.dag?.dagId, options?.taskId, message);
    const { fn, args = [] } = options ?? {};
    if (typeof fn !== 'function') fail(`fn must be a function, got ${typeof fn}`);
    if (!Array.isArray(args)) fail(`args must be an array, got ${typeof args}`);
    const problem = jsonProblem(serializeXComArgs(args), 'args');
    if (problem) fail(`arguments must be JSON or XComArgs (task outputs): ${problem}`);
    const upstreams = findXComArgs(args).map((arg) => arg.operator);
    for (const up of upstreams) {
      if (up.dag !== options.dag) fail(`argument comes from task '${up.taskId}' of DAG '${up.dag.dagId}'; tasks can only use outputs of tasks in the same DAG`);
    }
    super(options);
    this.fn = fn;
    this.args = [...args];
    this.setUpstream(upstreams);
  }

  serializeFields(): Record<string, unknown> {
    return { fnName: this.fn.name || '<anonymous>', args: serializeXComArgs(this.args) };
  }

  /** Calls fn with the rendered args, XComArgs replaced by their values; getCurrentContext() works inside. */
  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    const args = (await resolveXComArgs(rendered.args ?? this.args, context.ti)) as unknown[];
    return runWithContext(context, () => (this.fn as (...a: unknown[]) => unknown)(...args));
  }
}
