/**
 * ShortCircuitOperator: runs a function; when its result is falsy, the
 * tasks after it are skipped (Airflow's ShortCircuitOperator). Falsy is
 * Python's notion, as in Airflow: also an empty array or empty object.
 */
import { BaseOperator, taskFail, type BaseOperatorOptions } from '../core/baseOperator.ts';
import { runWithContext, type TaskContext } from '../core/taskContext.ts';
import { isPlainObject } from '../core/xcomArg.ts';

export type ConditionFunction = (context: TaskContext) => unknown;

export interface ShortCircuitOperatorOptions extends BaseOperatorOptions {
  fn: ConditionFunction;
  /**
   * True (default): a falsy result skips every task downstream, whatever its
   * trigger rule. False: only the direct downstream tasks are skipped; the
   * rest follow their trigger rules.
   */
  ignoreDownstreamTriggerRules?: boolean;
}

export class ShortCircuitOperator extends BaseOperator {
  readonly fn: ConditionFunction;
  readonly ignoreDownstreamTriggerRules: boolean;

  constructor(options: ShortCircuitOperatorOptions) {
    // Checked before super(), which adds the task to the DAG: a bad option must not leave a half-made task behind.
    const fail = (message: string) => taskFail(options?.dag?.dagId, options?.taskId, message);
    const { fn, ignoreDownstreamTriggerRules = true } = options ?? {};
    if (typeof fn !== 'function') fail(`fn must be a function, got ${typeof fn}`);
    if (typeof ignoreDownstreamTriggerRules !== 'boolean')
      fail(`ignoreDownstreamTriggerRules must be true or false, got ${JSON.stringify(ignoreDownstreamTriggerRules)}`);
    super(options);
    this.fn = fn;
    this.ignoreDownstreamTriggerRules = ignoreDownstreamTriggerRules;
  }

  serializeFields(): Record<string, unknown> {
    return { fnName: this.fn.name || '<anonymous>', ignoreDownstreamTriggerRules: this.ignoreDownstreamTriggerRules };
  }

  override async execute(context: TaskContext): Promise<unknown> {
    const result: unknown = await runWithContext(context, () => this.fn(context));
    context.log.info(isFalsy(result) ? `Condition result is ${JSON.stringify(result)}: skipping downstream tasks` : 'Condition result is truthy: proceeding');
    return result;
  }

  override tasksToSkip(result: unknown): string[] | null {
    if (!isFalsy(result)) return null;
    if (!this.ignoreDownstreamTriggerRules) return [...this.downstreamTaskIds];
    // Everything reachable downstream, in the DAG's task order.
    const reached = new Set<string>();
    const pending = [...this.downstreamTaskIds];
    for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
      if (reached.has(id)) continue;
      reached.add(id);
      pending.push(...this.dag.getTask(id).downstreamTaskIds);
    }
    return this.dag.taskIds.filter((id) => reached.has(id));
  }
}

function isFalsy(value: unknown): boolean {
  return !value || (Array.isArray(value) && value.length === 0) || (isPlainObject(value) && Object.keys(value).length === 0);
}
