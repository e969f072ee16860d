import type { BaseOperator } from '../core/baseOperator.ts';
import { AirflowError } from '../core/errors.ts';
import { runWithContext, type TaskContext } from '../core/taskContext.ts';
import { renderTemplateFields } from '../core/templating.ts';

/** Thrown when a try exceeds the task's executionTimeout. */
export class TaskTimeoutError extends AirflowError {
  constructor(readonly timeoutMs: number) {
    super(`Task timed out after ${timeoutMs / 1000} s (executionTimeout)`);
  }
}

/**
 * Runs one try of a task in this process: render its template fields, call
 * execute() under its executionTimeout, and return the result. The context's
 * AbortController is fired on timeout, so operators that honour the signal
 * (BashOperator kills its process group) stop; the runner process ends right
 * after recording the timeout, which stops the rest.
 */
export async function executeTask(
  task: BaseOperator,
  context: TaskContext,
  abort: AbortController,
  onRendered: (rendered: Record<string, unknown>) => Promise<void> = async () => {},
): Promise<unknown> {
  const rendered = await renderTemplateFields(task, context);
  await onRendered(rendered);
  const execution = runWithContext(context, () => task.execute(context, rendered));
  if (task.executionTimeoutMs === null) return execution;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort(new TaskTimeoutError(task.executionTimeoutMs!));
      reject(new TaskTimeoutError(task.executionTimeoutMs!));
    }, task.executionTimeoutMs!);
  });
  try {
    return await Promise.race([execution, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
