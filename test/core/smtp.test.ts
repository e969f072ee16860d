import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AirflowError, AirflowFailException } from '../../core/errors.ts';
import { emailAddressList, sendEmail } from '../../core/smtp.ts';
import type { ConnectionInfo } from '../../core/taskContext.ts';
import { startSmtpServer } from '../helpers/smtpServer.ts';

const PASSWORD = 'smtp-pass-66120';
const server = await startSmtpServer({ user: 'mailer', pass: PASSWORD });

const smtp = (changes: Partial<ConnectionInfo> = {}): ConnectionInfo => ({
  conn_type: 'smtp',
  host: '127.0.0.1',
  port: server.port,
  login: 'mailer',
  password: PASSWORD,
  schema: null,
  extra: { from_email: 'airflow@example.com', disable_ssl: true, disable_tls: 'true', timeout: 5 },
  ...changes,
});

describe('sendEmail over a real SMTP server', () => {
  it('logs in and delivers subject, html body, cc, bcc and attachments', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-smtp-'));
    writeFileSync(path.join(dir, 'report.csv'), 'a,b\n1,2\n');
    const sent = await sendEmail(smtp(), {
      to: 'ops@example.com; lead@example.com',
      cc: ['cc@example.com'],
      bcc: 'hidden@example.com',
      subject: 'Load finished',
      html: '<p>42 rows loaded</p>',
      files: [path.join(dir, 'report.csv')],
    });
    expect(sent.accepted.sort()).toEqual(['cc@example.com', 'hidden@example.com', 'lead@example.com', 'ops@example.com']);
    const mail = server.received.at(-1)!;
    expect(mail.from).toBe('airflow@example.com');
    expect(mail.to.sort()).toEqual(sent.accepted);
    expect(mail.raw).toMatch(/^Subject: Load finished$/m);
    expect(mail.raw).toContain('<p>42 rows loaded</p>');
    expect(mail.raw).toMatch(/^Cc: cc@example.com$/m);
    expect(mail.raw).not.toContain('hidden@example.com'); // bcc: envelope only
    expect(mail.raw).toMatch(/filename=report.csv/);
  });

  it('a refused login is a retryable AirflowError that does not carry the password', async () => {
    const error = await sendEmail(smtp({ password: 'wrong-pass-31337' }), { to: 'a@example.com', subject: 's', html: 'b' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirflowError);
    expect(error).not.toBeInstanceOf(AirflowFailException);
    expect(String((error as Error).message)).toMatch(/sending the email through 127.0.0.1:\d+ failed: .*Invalid/);
    expect(String((error as Error).message)).not.toContain('wrong-pass-31337');
  });

  it('refuses a message without recipient or sender, and a missing attachment, before connecting', async () => {
    await expect(sendEmail(smtp(), { to: ' , ', subject: 's', html: 'b' })).rejects.toThrow(AirflowFailException);
    await expect(sendEmail(smtp({ extra: { disable_ssl: true } }), { to: 'a@example.com', subject: 's', html: 'b' })).rejects.toThrow(/needs a sender/);
    await expect(sendEmail(smtp(), { to: 'a@example.com', subject: 's', html: 'b', files: ['/nonexistent/x.pdf'] })).rejects.toThrow(
      /cannot attach "\/nonexistent\/x.pdf"/,
    );
  });

  it('splits address strings on commas and semicolons, as Airflow', () => {
    expect(emailAddressList('a@x.org, b@x.org;c@x.org')).toEqual(['a@x.org', 'b@x.org', 'c@x.org']);
    expect(emailAddressList(undefined)).toEqual([]);
  });
});
