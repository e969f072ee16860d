/**
 * EmailOperator: sends an email through an `smtp` connection (Airflow's EmailOperator), with core/smtp.ts.
 * `to`, `subject`, `htmlContent`, `files`, `cc`, `bcc` and `fromEmail` are templates. A refused or unreachable
 * server fails the try (the task's retries apply); a message that cannot work (no recipient) fails it for good.
 */
import { BaseOperator, taskFail, type BaseOperatorOptions } from '../core/baseOperator.ts';
import { AirflowFailException } from '../core/errors.ts';
import { sendEmail } from '../core/smtp.ts';
import type { TaskContext } from '../core/taskContext.ts';

export const DEFAULT_SMTP_CONN_ID = 'smtp_default';

type Addresses = string | string[];

export interface EmailOperatorOptions extends BaseOperatorOptions {
  /** One address, several separated by ',' or ';', or a list. Templated. */
  to: Addresses;
  /** Templated. */
  subject: string;
  /** The HTML body. Templated. */
  htmlContent: string;
  cc?: Addresses;
  bcc?: Addresses;
  /** Local files to attach. Templated. */
  files?: string[];
  /** The sender; default the connection's extra.from_email. Templated. */
  fromEmail?: string;
  /** An `smtp` connection; default 'smtp_default'. */
  connId?: string;
}

export class EmailOperator extends BaseOperator {
  static override readonly templateFields: readonly string[] = ['to', 'subject', 'htmlContent', 'files', 'cc', 'bcc', 'fromEmail'];

  readonly to: Addresses;
  readonly subject: string;
  readonly htmlContent: string;
  readonly cc: Addresses | null;
  readonly bcc: Addresses | null;
  readonly files: string[];
  readonly fromEmail: string | null;
  readonly connId: string;

  constructor(options: EmailOperatorOptions) {
    const fail = (message: string): never => taskFail(options?.dag?.dagId, options?.taskId, message);
    const { to, subject, htmlContent, cc, bcc, files = [], fromEmail, connId = DEFAULT_SMTP_CONN_ID } = options ?? ({} as EmailOperatorOptions);
    const addresses = (value: unknown) => typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    if (!addresses(to) || (typeof to === 'string' ? to.trim() === '' : to.length === 0))
      fail(`to must be an address or a list of them, got ${JSON.stringify(to)}`);
    for (const [key, value] of Object.entries({ cc, bcc })) if (value !== undefined && !addresses(value)) fail(`${key} must be an address or a list of them`);
    if (typeof subject !== 'string') fail(`subject must be a string, got ${JSON.stringify(subject)}`);
    if (typeof htmlContent !== 'string') fail(`htmlContent must be a string, got ${JSON.stringify(htmlContent)}`);
    if (!Array.isArray(files) || !files.every((f) => typeof f === 'string' && f !== '')) fail('files must be a list of file paths');
    if (fromEmail !== undefined && typeof fromEmail !== 'string') fail(`fromEmail must be a string, got ${JSON.stringify(fromEmail)}`);
    if (typeof connId !== 'string' || connId === '') fail(`connId must be a connection id, got ${JSON.stringify(connId)}`);
    super(options);
    this.to = Array.isArray(to) ? [...to] : to;
    this.subject = subject;
    this.htmlContent = htmlContent;
    this.cc = cc === undefined ? null : Array.isArray(cc) ? [...cc] : cc;
    this.bcc = bcc === undefined ? null : Array.isArray(bcc) ? [...bcc] : bcc;
    this.files = [...files];
    this.fromEmail = fromEmail ?? null;
    this.connId = connId;
  }

  serializeFields(): Record<string, unknown> {
    return {
      to: this.to,
      subject: this.subject,
      htmlContent: this.htmlContent,
      cc: this.cc,
      bcc: this.bcc,
      files: this.files,
      fromEmail: this.fromEmail,
      connId: this.connId,
    };
  }

  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    const connection = context.conn.get(this.connId);
    if (!connection) {
      throw new AirflowFailException(
        `EmailOperator '${this.taskId}': connection '${this.connId}' does not exist; create an smtp connection (host, port, login, password, extra {"from_email": ...})`,
      );
    }
    const sent = await sendEmail(
      connection,
      {
        to: rendered.to as Addresses,
        subject: String(rendered.subject),
        html: String(rendered.htmlContent),
        cc: (rendered.cc as Addresses | null) ?? undefined,
        bcc: (rendered.bcc as Addresses | null) ?? undefined,
        files: rendered.files as string[],
        from: (rendered.fromEmail as string | null) ?? undefined,
      },
      { signal: context.signal },
    );
    context.log.info(`Sent an email to ${sent.accepted.join(', ')} (message id ${sent.messageId})`);
    return undefined;
  }
}
