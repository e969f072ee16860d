/**
 * BranchOperator: runs a function that picks which direct downstream tasks
 * to follow; the others are skipped (Airflow's BranchPythonOperator). Tasks
 * further down are then skipped or not by their own trigger rules, so a join
 * after the branches usually wants 'none_failed_min_one_success'.
 */
import { BaseOperator, taskFail, type BaseOperatorOptions } from '../core/baseOperator.ts';
import { AirflowError } from '../core/errors.ts';
import { runWithContext, type TaskContext } from '../core/taskContext.ts';

/** Returns the task id(s) to follow; null (or an empty array) follows none. */
export type BranchFunction = (context: TaskContext) => BranchChoice | Promise<BranchChoice>;
type BranchChoice = string | readonly string[] | null | undefined;

export interface BranchOperatorOptions extends BaseOperatorOptions {
  fn: BranchFunction;
}

export class BranchOperator extends BaseOperator {
  readonly fn: BranchFunction;

  constructor(options: BranchOperatorOptions) {
    // Checked before super(), which adds the task to the DAG: a bad option must not leave a half-made task behind.
    if (typeof options?.fn !== 'function')
      taskFail(options?.dag?.dagId, options?.taskId, `fn must be a function returning task ids, got ${typeof options?.fn}`);
    super(options);
    this.fn = options.fn;
  }

  serializeFields(): Record<string, unknown> {
    return { fnName: this.fn.name || '<anonymous>' };
  }

  /** Returns the chosen task ids (also the return_value XCom). */
  override async execute(context: TaskContext): Promise<string[]> {
    const choice = await runWithContext(context, () => this.fn(context));
    const ids = choice === null || choice === undefined ? [] : typeof choice === 'string' ? [choice] : [...choice];
    const allowed = [...this.downstreamTaskIds];
    const unknown = ids.filter((id) => typeof id !== 'string' || !this.downstreamTaskIds.has(id));
    if (unknown.length > 0) {
      throw new AirflowError(
        `task '${this.taskId}' in DAG '${this.dag.dagId}': the branch function returned ${unknown.map((id) => JSON.stringify(id)).join(', ')}, ` +
          `which ${unknown.length === 1 ? 'is not a direct downstream task' : 'are not direct downstream tasks'}; choose from: ${allowed.join(', ') || '(none)'}`,
      );
    }
    context.log.info(ids.length > 0 ? `Following branch ${ids.join(', ')}` : 'No branch chosen; skipping all downstream tasks');
    return ids;
  }

  /** The direct downstream tasks not chosen. */
  override tasksToSkip(result: unknown): string[] {
    const chosen = new Set(typeof result === 'string' ? [result] : Array.isArray(result) ? result : []);
    return [...this.downstreamTaskIds].filter((id) => !chosen.has(id));
  }
}
