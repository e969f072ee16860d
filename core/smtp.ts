/**
 * Sending one email over SMTP through an `smtp` connection (Airflow's SmtpHook / utils.email.send_email_smtp),
 * with nodemailer. Shared by EmailOperator and the notifiers. The connection maps as Airflow's:
 * host, port, login / password (AUTH when a login is set), and extra keys
 *   from_email   the sender when the message names none
 *   disable_ssl  true: plain SMTP (default false: SMTPS, implicit TLS, as Airflow's default)
 *   disable_tls  true: no STARTTLS upgrade on a plain connection
 *   timeout      seconds for connecting, the greeting and each reply (default 30)
 * Errors never carry the password: nodemailer's messages hold server replies, not credentials.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { AirflowError, AirflowFailException } from './errors.ts';
import type { ConnectionInfo } from './taskContext.ts';

export interface EmailMessage {
  /** One address, a comma/semicolon-separated list (as Airflow's), or an array. */
  to: string | readonly string[];
  subject: string;
  /** The HTML body (Airflow's html_content). */
  html: string;
  cc?: string | readonly string[];
  bcc?: string | readonly string[];
  /** Paths of local files to attach, each under its base name. */
  files?: readonly string[];
  /** The sender; default the connection's extra.from_email. */
  from?: string;
}

export interface SentEmail {
  messageId: string;
  /** The recipients the server accepted. */
  accepted: string[];
}

const DEFAULT_TIMEOUT_S = 30;

/** Addresses as a list: Airflow's get_email_address_list splits strings on ',' and ';'. */
export function emailAddressList(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const parts = typeof value === 'string' ? value.split(/[,;]/) : [...value];
  return parts.map((address) => String(address).trim()).filter((address) => address !== '');
}

/**
 * Sends `message` through the SMTP server of `connection` (an `smtp` connection as the task context gives it,
 * `context.conn.get(id)`). Aborting `signal` closes the SMTP connection and rejects. Throws AirflowFailException
 * for a message or connection that cannot work (no recipient, no sender, a file that is not there) and
 * AirflowError when the server refuses or cannot be reached (retryable).
 */
export async function sendEmail(connection: ConnectionInfo, message: EmailMessage, options: { signal?: AbortSignal } = {}): Promise<SentEmail> {
  const to = emailAddressList(message.to);
  if (to.length === 0) throw new AirflowFailException('an email needs at least one recipient in `to`');
  const from = message.from ?? stringExtra(connection, 'from_email');
  if (!from) throw new AirflowFailException("an email needs a sender: set `from`, or from_email in the smtp connection's extra");
  if (!connection.host) throw new AirflowFailException('the smtp connection has no host');
  const attachments = await Promise.all(
    (message.files ?? []).map(async (file) => ({
      filename: path.basename(file),
      content: await readFile(file).catch((error: Error) => {
        throw new AirflowFailException(`cannot attach ${JSON.stringify(file)}: ${error.message}`);
      }),
    })),
  );
  const secure = !flagExtra(connection, 'disable_ssl');
  const timeoutMs = 1000 * (Number(connection.extra.timeout ?? DEFAULT_TIMEOUT_S) || DEFAULT_TIMEOUT_S);
  const transport = nodemailer.createTransport({
    host: connection.host,
    port: connection.port ?? (secure ? 465 : 587),
    secure,
    ignoreTLS: !secure && flagExtra(connection, 'disable_tls'),
    auth: connection.login ? { user: connection.login, pass: connection.password ?? '' } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  const onAbort = () => transport.close();
  options.signal?.throwIfAborted();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const info = await transport.sendMail({
      from,
      to,
      cc: emailAddressList(message.cc),
      bcc: emailAddressList(message.bcc),
      subject: message.subject,
      html: message.html,
      attachments,
    });
    return { messageId: info.messageId, accepted: info.accepted.map(String) };
  } catch (error) {
    options.signal?.throwIfAborted();
    const reason = error instanceof Error ? error.message : String(error);
    throw new AirflowError(`sending the email through ${connection.host}:${connection.port ?? ''} failed: ${reason}`, { cause: error });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    transport.close();
  }
}

function stringExtra(connection: ConnectionInfo, key: string): string | undefined {
  const value = connection.extra[key];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** Airflow reads these flags from JSON or from strings like "true". */
function flagExtra(connection: ConnectionInfo, key: string): boolean {
  const value = connection.extra[key];
  return value === true || (typeof value === 'string' && value.toLowerCase() === 'true');
}
