/**
 * SmtpNotifier: emails a templated message through an `smtp` connection (Airflow's SmtpNotifier), with
 * core/smtp.ts. `subject` and `htmlContent` are rendered with the callback's context.
 */
import { AirflowFailException } from '../../core/errors.ts';
import { BaseNotifier } from '../../core/notifier.ts';
import { emailAddressList, sendEmail } from '../../core/smtp.ts';
import type { TaskContext } from '../../core/taskContext.ts';

export interface SmtpNotifierOptions {
  /** Templated: one address, a comma-separated list or an array. */
  to: string | string[];
  /** Default 'smtp_default'. */
  connId?: string;
  /** Default: the connection's extra.from_email. */
  from?: string;
  /** Templated. */
  subject?: string;
  /** Templated HTML body. */
  htmlContent?: string;
}

const DEFAULT_SUBJECT = 'Airflow notification: DAG {{ dag_run.dag_id }}, run {{ dag_run.run_id }}';
const DEFAULT_HTML = '<p>DAG <b>{{ dag_run.dag_id }}</b>, run {{ dag_run.run_id }}, task {{ ti.task_id }}{% if reason %}: {{ reason }}{% endif %}</p>';

export class SmtpNotifier extends BaseNotifier {
  static override readonly templateFields: readonly string[] = ['to', 'subject', 'htmlContent'];

  readonly to: string | string[];
  readonly connId: string;
  readonly from: string | null;
  readonly subject: string;
  readonly htmlContent: string;

  constructor(options: SmtpNotifierOptions) {
    super();
    const o = options ?? ({} as SmtpNotifierOptions);
    if (emailAddressList(o.to).length === 0) throw new AirflowFailException('SmtpNotifier needs `to`, at least one address');
    this.to = o.to;
    this.connId = o.connId ?? 'smtp_default';
    this.from = o.from ?? null;
    this.subject = o.subject ?? DEFAULT_SUBJECT;
    this.htmlContent = o.htmlContent ?? DEFAULT_HTML;
  }

  async notify(context: TaskContext, rendered: Record<string, unknown>): Promise<void> {
    const connection = context.conn.get(this.connId);
    if (!connection) throw new AirflowFailException(`SmtpNotifier: connection '${this.connId}' does not exist; create an smtp connection`);
    const sent = await sendEmail(
      connection,
      {
        to: rendered.to as string | string[],
        subject: String(rendered.subject),
        html: String(rendered.htmlContent),
        ...(this.from ? { from: this.from } : {}),
      },
      { signal: context.signal },
    );
    context.log.info(`Email notification sent to ${sent.accepted.join(', ')}`);
  }
}
