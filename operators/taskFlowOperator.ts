/**
 * TaskFlowOperator: what `task()` creates for each call of a task function
 * (Airflow's @task). Its arguments may hold XComArgs; those tasks become
 * upstreams, and their values replace the XComArgs when this task runs.
 */
import { BaseOperator, taskFail, type BaseOperatorOptions } from '../core/baseOperator.ts';
import { jsonProblem } from '../core/param.ts';
import { runWithContext, type TaskContext } from '../core/taskContext.ts';
import type { SerializedExpandInput } from '../core/expandInput.ts';
import { findXComArgs, isXComArg, resolveXComArgs, serializeXComArgs, type XComArg } from '../core/xcomArg.ts';

export type TaskFlowFunction = (...args: never[]) => unknown;

export interface TaskFlowOperatorOptions extends BaseOperatorOptions {
  fn: TaskFlowFunction;
  /** Positional arguments: JSON, with XComArgs anywhere inside. Strings are templated. */
  args?: unknown[];
  /** Makes it a mapped task (expand()): one instance per element, passed as the last argument. */
  expandInput?: readonly unknown[] | XComArg;
}

export class TaskFlowOperator extends BaseOperator {
  static override readonly templateFields: readonly string[] = ['args'];

  readonly fn: TaskFlowFunction;
  readonly args: unknown[];
  readonly #expandInput: SerializedExpandInput | null;

  constructor(options: TaskFlowOperatorOptions) {
    // Checked before super(), which adds the task to the DAG: a bad option must not leave a half-made task behind.
    const fail = (message: string) => taskFail(options?.dag?.dagId, options?.taskId, message);
    const { fn, args = [] } = options ?? {};
    if (typeof fn !== 'function') fail(`fn must be a function, got ${typeof fn}`);
    if (!Array.isArray(args)) fail(`args must be an array, got ${typeof args}`);
    const problem = jsonProblem(serializeXComArgs(args), 'args');
    if (problem) fail(`arguments must be JSON or XComArgs (task outputs): ${problem}`);
    const { expandInput } = options;
    if (expandInput !== undefined && !Array.isArray(expandInput) && !isXComArg(expandInput))
      fail(`expand() takes a list or a task output, got ${expandInput === null ? 'null' : typeof expandInput}`);
    if (Array.isArray(expandInput)) {
      const listProblem = jsonProblem(serializeXComArgs(expandInput), 'expand()');
      if (listProblem || findXComArgs(expandInput).length > 0) fail(`expand() list elements must be JSON values: ${listProblem ?? 'it holds a task output'}`);
    }
    const upstreams = findXComArgs([args, expandInput]).map((arg) => arg.operator);
    for (const up of upstreams) {
      if (up.dag !== options.dag) fail(`argument comes from task '${up.taskId}' of DAG '${up.dag.dagId}'; tasks can only use outputs of tasks in the same DAG`);
    }
    super(options);
    this.fn = fn;
    this.args = [...args];
    this.#expandInput =
      expandInput === undefined
        ? null
        : isXComArg(expandInput)
          ? { xcomArg: { taskId: expandInput.taskId, key: expandInput.key } }
          : { literal: [...expandInput] };
    this.setUpstream(upstreams);
  }

  override get expandInput(): SerializedExpandInput | null {
    return this.#expandInput;
  }

  serializeFields(): Record<string, unknown> {
    return { fnName: this.fn.name || '<anonymous>', args: serializeXComArgs(this.args) };
  }

  /** Calls fn with the rendered args, XComArgs replaced by their values; getCurrentContext() works inside. */
  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    const args = (await resolveXComArgs(rendered.args ?? this.args, context.ti)) as unknown[];
    if (this.#expandInput) args.push(await this.element(context));
    return runWithContext(context, () => (this.fn as (...a: unknown[]) => unknown)(...args));
  }

  /** A mapped instance's element: of the literal list, or of the upstream's output, at its map index. */
  private async element(context: TaskContext): Promise<unknown> {
    const input = this.#expandInput!;
    const { mapIndex } = context.ti;
    const values =
      'literal' in input ? input.literal : 'xcomArg' in input ? await context.ti.xcomPull({ taskIds: input.xcomArg.taskId, key: input.xcomArg.key }) : null;
    if (!Array.isArray(values) || mapIndex < 0 || mapIndex >= values.length) {
      throw new Error(`mapped task '${this.taskId}' has no element at map index ${mapIndex} (the task was not expanded, or its input changed)`);
    }
    return values[mapIndex];
  }
}
