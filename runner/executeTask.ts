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
 * Thrown when a try exceeded its executionTimeout and its body did not stop
 * within STOP_GRACE_MS of being told to: it still runs in this process, so the
 * runner must end the process rather than record the try (a retry would overlap it).
 */
export class TaskDidNotStopError extends AirflowError {
  constructor(readonly timeoutMs: number) {
    super(`Task timed out after ${timeoutMs / 1000} s (executionTimeout) and did not stop within ${STOP_GRACE_MS / 1000} s of being cancelled; ending its process`);
  }
}

/** How long a timed-out body gets to stop (BashOperator: SIGTERM to its process group) before its process is ended. */
export const STOP_GRACE_MS = 5_000;

/**
 * Runs one try of a task in this process: render its template fields, call
 * execute() under its executionTimeout, and return the result. The context's
 * AbortController is fired on timeout, so operators that honour the signal
 * (BashOperator kills its process group) stop; the timeout is reported once the
 * body has stopped, or as TaskDidNotStopError when it ignores the signal.
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
  const timeoutMs = task.executionTimeoutMs;
  const settled = execution.then(
    () => true,
    () => true,
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    if (await Promise.race([settled, timedOut])) return await execution;
  } finally {
    clearTimeout(timer);
  }
  // Timed out. The try is over only when its body is: cancel it and give it a while to stop.
  abort.abort(new TaskTimeoutError(timeoutMs));
  let grace: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([settled, new Promise<false>((resolve) => (grace = setTimeout(() => resolve(false), STOP_GRACE_MS)))]);
  clearTimeout(grace);
  throw stopped ? new TaskTimeoutError(timeoutMs) : new TaskDidNotStopError(timeoutMs);
}
