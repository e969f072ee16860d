import os from 'node:os';
import type { BaseOperator } from '../core/baseOperator.ts';
import { secretsMasker } from '../core/secretsMasker.ts';
import { sendEmail } from '../core/smtp.ts';
import type { TaskContext } from '../core/taskContext.ts';
import type { TaskLog } from '../logging/fileTaskHandler.ts';

/** The smtp connection alerts go through (Airflow's [email] email_conn_id default). */
export const EMAIL_CONN_ID = 'smtp_default';

/**
 * Airflow's TaskInstance.email_alert: a task with `email` mails it when a try fails for good
 * (emailOnFailure) or will be retried (emailOnRetry), through the `smtp_default` connection. Runs in the
 * worker after the outcome is recorded; a mail that cannot be sent is logged and changes nothing.
 */
export async function sendEmailAlert(
  task: BaseOperator,
  outcome: string,
  context: TaskContext,
  log: TaskLog,
  tries: { tryNumber: number; maxTries: number },
): Promise<void> {
  const wanted = (outcome === 'failed' && task.emailOnFailure) || (outcome === 'up_for_retry' && task.emailOnRetry);
  if (!wanted || task.email.length === 0) return;
  const connection = context.conn.get(EMAIL_CONN_ID);
  if (!connection) {
    log.error(`Could not send the ${outcome} email alert: there is no '${EMAIL_CONN_ID}' connection; create an smtp connection of that name`);
    return;
  }
  const title = `${context.dagRun.dagId}.${task.taskId} ${context.runId} [${outcome}]`;
  const exception = context.exception instanceof Error ? context.exception.message : String(context.exception ?? '');
  const html = [
    `Try ${tries.tryNumber} out of ${tries.maxTries + 1}`,
    `Exception:<br>${escapeHtml(secretsMasker.mask(exception))}`,
    `Host: ${escapeHtml(os.hostname())}`,
  ].join('<br>');
  try {
    const sent = await sendEmail(connection, { to: task.email, subject: `Airflow alert: ${title}`, html });
    log.info(`Sent the ${outcome} email alert to ${sent.accepted.join(', ')}`);
  } catch (error) {
    log.error(`Could not send the ${outcome} email alert: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
