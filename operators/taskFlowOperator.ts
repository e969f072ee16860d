/**
 * TaskFlowOperator: what `task()` creates for each call of a task function
 * (Airflow's @task). Its arguments may hold XComArgs; those tasks become
 * upstreams, and their values replace the XComArgs when this task runs.
 */
import { BaseOperator, taskFail, type BaseOperatorOptions } from '../core/baseOperator.ts';
import { checkMappedArguments, resolveInMappedGroup, serializeMappedArguments } from '../core/mappedTaskGroup.ts';
import { jsonProblem } from '../core/param.ts';
import { runWithContext, type TaskContext } from '../core/taskContext.ts';
import type { SerializedExpandInput } from '../core/expandInput.ts';
import { mapSourceElement, mapSourceProblem, serializeMapSource, type MapSource } from '../core/mapSource.ts';
import { findXComArgs, isXComArg, resolveXComArgs, serializeXComArgs } from '../core/xcomArg.ts';

export type TaskFlowFunction = (...args: never[]) => unknown;

export interface TaskFlowOperatorOptions extends BaseOperatorOptions {
  fn: TaskFlowFunction;
  /** Positional arguments: JSON, with XComArgs anywhere inside. Strings are templated. */
  args?: unknown[];
  /** Makes it a mapped task (expand()): one instance per element, passed as the last argument. */
  expandInput?: MapSource;
  /** Makes it a mapped task (expandArgs(), Airflow's expand_kwargs): one instance per argument list, appended to `args`. */
  expandArgs?: MapSource;
}

export class TaskFlowOperator extends BaseOperator {
  static override readonly templateFields: readonly string[] = ['args'];

  readonly fn: TaskFlowFunction;
  readonly args: unknown[];
  /** What a mapped task maps over, and whether each element is one argument or a list of them. */
  readonly #mapped: { source: MapSource; as: 'element' | 'args' } | null;

  constructor(options: TaskFlowOperatorOptions) {
    // Checked before super(), which adds the task to the DAG: a bad option must not leave a half-made task behind.
    const fail = (message: string) => taskFail(options?.dag?.dagId, options?.taskId, message);
    const { fn, args = [], expandInput, expandArgs } = options ?? {};
    if (typeof fn !== 'function') fail(`fn must be a function, got ${typeof fn}`);
    if (!Array.isArray(args)) fail(`args must be an array, got ${typeof args}`);
    const problem = jsonProblem(serializeXComArgs(serializeMappedArguments(args)), 'args');
    if (problem) fail(`arguments must be JSON or XComArgs (task outputs): ${problem}`);
    if (expandInput !== undefined && expandArgs !== undefined) fail('expand() and expandArgs() cannot both be used on one task');
    const mapped =
      expandInput !== undefined
        ? { source: expandInput, as: 'element' as const }
        : expandArgs !== undefined
          ? { source: expandArgs, as: 'args' as const }
          : null;
    if (mapped) {
      const method = mapped.as === 'element' ? 'expand()' : 'expandArgs()';
      const sourceProblem = mapSourceProblem(mapped.source, method);
      if (sourceProblem) fail(sourceProblem);
      const list: readonly unknown[] = Array.isArray(mapped.source) && mapped.as === 'args' ? mapped.source : [];
      const notAList = list.findIndex((e) => !Array.isArray(e));
      if (notAList >= 0) fail(`expandArgs() takes a list of argument lists; element ${notAList} is ${JSON.stringify(list[notAList])}`);
    }
    const upstreams = findXComArgs([args, mapped?.source]).flatMap((arg) => arg.operators);
    for (const up of upstreams) {
      if (up.dag !== options.dag) fail(`argument comes from task '${up.taskId}' of DAG '${up.dag.dagId}'; tasks can only use outputs of tasks in the same DAG`);
    }
    super(options);
    this.fn = fn;
    this.args = [...args];
    this.#mapped = mapped && { ...mapped, source: isXComArg(mapped.source) ? mapped.source : [...mapped.source] };
    checkMappedArguments(this, args);
    this.setUpstream(upstreams);
  }

  override get expandInput(): SerializedExpandInput | null {
    if (!this.#mapped) return super.expandInput; // a task in a mapped group maps over the group's input
    const source = serializeMapSource(this.#mapped.source);
    return this.#mapped.as === 'element' ? source : { args: source };
  }

  serializeFields(): Record<string, unknown> {
    return { fnName: this.fn.name || '<anonymous>', args: serializeXComArgs(serializeMappedArguments(this.args)) };
  }

  /** Calls fn with the rendered args, XComArgs replaced by their values; getCurrentContext() works inside. */
  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    const inGroup = await resolveInMappedGroup(rendered.args ?? this.args, this, context.ti);
    const args = (await resolveXComArgs(inGroup, context.ti)) as unknown[];
    if (this.#mapped) args.push(...(await this.mappedArgs(context)));
    return runWithContext(context, () => (this.fn as (...a: unknown[]) => unknown)(...args));
  }

  /** A mapped instance's arguments: its element, or its argument list, at its map index. */
  private async mappedArgs(context: TaskContext): Promise<unknown[]> {
    const { source, as } = this.#mapped!;
    const { mapIndex } = context.ti;
    let element: unknown;
    try {
      element = await mapSourceElement(source, context.ti, mapIndex);
    } catch (error) {
      throw new Error(`mapped task '${this.taskId}': ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (as === 'element') return [element];
    if (!Array.isArray(element))
      throw new Error(`mapped task '${this.taskId}': expandArgs() needs an argument list at map index ${mapIndex}, got ${JSON.stringify(element)}`);
    return element;
  }
}
