import type { BaseOperator } from '../core/baseOperator.ts';
import type { TaskContext } from '../core/taskContext.ts';
import type { TaskLog } from '../logging/fileTaskHandler.ts';
import { sendEmailAlert } from './emailAlert.ts';

/**
 * What runs in the worker after a try's outcome is recorded: the task's callback for that outcome (a function,
 * a notifier or a list, core/callbacks.ts), then its email alert (emailOnFailure / emailOnRetry). Neither can
 * change the outcome; their errors go to the try's log.
 */
export async function runTaskCallbacks(
  task: BaseOperator,
  outcome: string,
  context: TaskContext,
  log: TaskLog,
  tries: { tryNumber: number; maxTries: number },
): Promise<void> {
  await runCallback(task, outcome, context, log);
  await sendEmailAlert(task, outcome, context, log, tries);
}

async function runCallback(task: BaseOperator, outcome: string, context: TaskContext, log: TaskLog): Promise<void> {
  const callback =
    outcome === 'success' ? task.onSuccessCallback : outcome === 'failed' ? task.onFailureCallback : outcome === 'up_for_retry' ? task.onRetryCallback : null;
  if (!callback) return;
  try {
    await callback(context);
  } catch (error) {
    // A broken callback is reported but does not change the recorded outcome (as in Airflow).
    log.error(`The ${outcome} callback failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
