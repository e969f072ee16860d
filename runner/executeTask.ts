import type { BaseOperator } from '../core/baseOperator.ts';
import { TaskDidNotStopError, TaskTimeoutError } from '../core/errors.ts';
import { runWithContext, type TaskContext } from '../core/taskContext.ts';
import { renderTemplateFields } from '../core/templating.ts';
import type { TaskInstanceRow } from '../db/rows.ts';

/** How long a timed-out body gets to stop (BashOperator: SIGTERM to its process group) before its process is ended. */
export const STOP_GRACE_MS = 5_000;

/**
 * Runs one try of a task in this process: build a mapped instance's operator, render its template fields, call
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
  /** A deferred task resumes (next_method set) in that method with its next_kwargs (the event under `event`). */
  ti: Pick<TaskInstanceRow, 'next_method' | 'next_kwargs'> | null = null,
): Promise<unknown> {
  // A mapped classic operator runs as the operator built with its map index's values (context.task from here on).
  const runnable = (context.task = (await task.unmap(context)).operator);
  const rendered = await renderTemplateFields(runnable, context);
  // The rendered fields (display data) are written while the body runs, not before it: a mapped TaskFlow
  // instance's first await (reading its element) then overlaps that write instead of following it. The try
  // ends only once the write has: its failure fails the try, as before.
  const saved = onRendered(rendered);
  saved.catch(() => {}); // handled below, after the body: a rejection meanwhile is not an unhandled one
  let result: unknown;
  try {
    result = await runBody(task, runnable, context, abort, rendered, ti);
  } catch (error) {
    await saved.catch(() => {}); // the body's error is the try's
    throw error;
  }
  await saved;
  return result;
}

async function runBody(
  task: BaseOperator,
  runnable: BaseOperator,
  context: TaskContext,
  abort: AbortController,
  rendered: Record<string, unknown>,
  ti: Pick<TaskInstanceRow, 'next_method' | 'next_kwargs'> | null,
): Promise<unknown> {
  const execution = runWithContext(context, () =>
    ti?.next_method ? runnable.resumeExecution(ti.next_method, ti.next_kwargs ?? {}, context) : runnable.execute(context, rendered),
  );
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
  throw stopped ? new TaskTimeoutError(timeoutMs) : new TaskDidNotStopError(timeoutMs, STOP_GRACE_MS);
}
