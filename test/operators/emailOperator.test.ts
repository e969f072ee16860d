import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { serializeDag } from '../../core/serialize.ts';
import { AirflowError, AirflowFailException, DagDefinitionError } from '../../core/errors.ts';
import type { ConnectionInfo } from '../../core/taskContext.ts';
import { EmailOperator } from '../../operators/emailOperator.ts';
import { startSmtpServer } from '../helpers/smtpServer.ts';
import { contextFor, runTask } from './fakeRunner.ts';

const server = await startSmtpServer({ user: 'mailer', pass: 'smtp-pw-70231' });
let n = 0;
const dag = () => new DAG({ dagId: `email_ops_${++n}` });
const smtp: ConnectionInfo = {
  conn_type: 'smtp',
  host: '127.0.0.1',
  port: server.port,
  login: 'mailer',
  password: 'smtp-pw-70231',
  schema: null,
  extra: { from_email: 'airflow@example.com', disable_ssl: true, disable_tls: true },
};
const withConn = (conn: ConnectionInfo = smtp) => ({ connections: { get: (id: string) => (id === 'smtp_default' ? conn : undefined) } });

describe('EmailOperator with a real SMTP server', () => {
  it('sends the rendered subject and HTML body with cc, bcc and an attachment', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-email-'));
    writeFileSync(path.join(dir, '2024-01-02.csv'), 'id\n1\n');
    const task = new EmailOperator({
      dag: dag(),
      taskId: 'notify',
      to: 'ops@example.com',
      cc: ['lead@example.com'],
      bcc: 'audit@example.com',
      subject: 'Orders for {{ ds }}',
      htmlContent: '<h1>Loaded {{ params.rows }} rows</h1>',
      files: [`${dir}/{{ ds }}.csv`],
      params: { rows: 2 },
    });
    expect(() => serializeDag(task.dag)).not.toThrow(); // every template field is serialized (the DAG processor checks)
    const run = contextFor(task, withConn());
    await runTask(run);
    const mail = server.received.at(-1)!;
    expect(mail.to.sort()).toEqual(['audit@example.com', 'lead@example.com', 'ops@example.com']);
    expect(mail.raw).toMatch(/^Subject: Orders for 2024-01-02$/m);
    expect(mail.raw).toContain('<h1>Loaded 2 rows</h1>');
    expect(mail.raw).toMatch(/filename=2024-01-02.csv/);
    expect(run.lines.some((l) => l.includes('Sent an email to ops@example.com, lead@example.com, audit@example.com'))).toBe(true);
  });

  it('a refused login is a retryable error; a missing connection or bad options are clear', async () => {
    const task = new EmailOperator({ dag: dag(), taskId: 't', to: 'a@example.com', subject: 's', htmlContent: 'b' });
    const error = await runTask(contextFor(task, withConn({ ...smtp, password: 'bad-pass-9981' }))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirflowError);
    expect(error).not.toBeInstanceOf(AirflowFailException);
    await expect(runTask(contextFor(task, { connections: { get: () => undefined } }))).rejects.toThrow(
      /connection 'smtp_default' does not exist; create an smtp connection/,
    );
    expect(() => new EmailOperator({ dag: dag(), taskId: 't', to: '', subject: 's', htmlContent: 'b' })).toThrow(DagDefinitionError);
    expect(() => new EmailOperator({ dag: dag(), taskId: 't', to: 'a@b.c', subject: 's', htmlContent: 'b', files: 'x' as never })).toThrow(
      /files must be a list/,
    );
  });
});
