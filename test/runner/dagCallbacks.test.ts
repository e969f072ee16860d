import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fernetFor } from '../../core/crypto/fernetKey.ts';
import { memoryLogger } from '../../core/logger.ts';
import { createConnection } from '../../db/models/connection.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { dagCallbackLogPath, taskLogPath } from '../../logging/fileTaskHandler.ts';
import { createDagCallbackRunner } from '../../scheduler/dagProcessing/createDagFileProcessor.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { startHttpServer } from '../helpers/httpServer.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';
import { startSmtpServer } from '../helpers/smtpServer.ts';

const TOKEN = 'T0KEN-b7e2-webhook-secret';
const db = await createTestDatabase();
const dags = tempDagsFolder();
copyFileSync(fileURLToPath(new URL('../fixtures/runs/notifications.ts', import.meta.url)), path.join(dags, 'notifications.ts'));
copyFileSync(fileURLToPath(new URL('../../dags/example_notifications.ts', import.meta.url)), path.join(dags, 'example_notifications.ts'));
const config = await testConfig(dags, db.url, { AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', AIRFLOW__CORE__PARALLELISM: '2' });
await parseDags(config, db.knex);
await db.knex('dag').update({ is_paused: false });
const webhook = await startHttpServer(() => ({ status: 200, body: 'ok' }));
const smtp = await startSmtpServer();
const logger = memoryLogger();
const fernet = fernetFor(config, logger);
const audit = { owner: null, at: new Date() };
// The webhook's token is the connection's password (Slack's incoming-webhook connection keeps it there).
await createConnection(db.knex, fernet, { conn_id: 'hook', conn_type: 'http', host: '127.0.0.1', port: webhook.port, password: TOKEN }, audit);
await createConnection(db.knex, fernet, { conn_id: 'chat_webhook', conn_type: 'http', host: `http://127.0.0.1:${webhook.port}/chat`, password: TOKEN }, audit);
await createConnection(
  db.knex,
  fernet,
  {
    conn_id: 'smtp_default',
    conn_type: 'smtp',
    host: '127.0.0.1',
    port: smtp.port,
    extra: JSON.stringify({ from_email: 'airflow@example.com', disable_ssl: true, disable_tls: true }),
  },
  audit,
);
// Two schedulers, as in an HA deployment, each with its DAG processor's callback runner: a run is finished by
// one of them only, so its callback runs once.
const callbacks = createDagCallbackRunner(config, db.knex, db.url, logger);
const otherCallbacks = createDagCallbackRunner(config, db.knex, db.url, logger);
const scheduler = new Scheduler({
  knex: db.knex,
  config,
  executor: createExecutor(config, db.url, logger),
  logger,
  onDagRunFinished: (run) => callbacks.runFinished(run),
});
const otherScheduler = new Scheduler({
  knex: db.knex,
  config,
  executor: createExecutor(config, db.url, logger),
  logger,
  onDagRunFinished: (run) => otherCallbacks.runFinished(run),
});
await scheduler.start();
await otherScheduler.start();
afterAll(async () => {
  await Promise.all([scheduler.stop(5_000), otherScheduler.stop(5_000)]);
  await Promise.all([callbacks.stop(), otherCallbacks.stop()]);
});

type RunRow = { id: number; dag_id: string; run_id: string; state: string };

async function runToEnd(dagId: string, conf: Record<string, unknown> = {}): Promise<RunRow> {
  const run = await triggerDagRun(db.knex, { dagId, conf, now: new Date() });
  scheduler.wake(true);
  otherScheduler.wake(true);
  return eventually(
    `run ${run.run_id} of ${dagId} to finish`,
    () => db.knex('dag_run').where('id', run.id).whereIn('state', ['success', 'failed']).first(),
    60_000,
  );
}

/** Every file under the log folder, read. */
function allLogs(folder = config.logging.baseLogFolder): string {
  if (!existsSync(folder)) return '';
  return readdirSync(folder)
    .map((name) => path.join(folder, name))
    .map((file) => (statSync(file).isDirectory() ? allLogs(file) : readFileSync(file, 'utf8')))
    .join('\n');
}

describe('DAG-level callbacks and notifiers', () => {
  it("a failed run's onFailureCallback runs once with two schedulers, in a DAG callback process (not a scheduler's), with the last failed task's context", async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-callback-')), 'calls.jsonl');
    const run = await runToEnd('notify_dag_failure', { file });
    expect(run.state).toBe('failed');
    await eventually('the failure callback to run', () => existsSync(file), 30_000);
    await Promise.all([callbacks.idle(), otherCallbacks.idle()]);
    const calls = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call).toMatchObject({ kind: 'failure', reason: 'task_failure', taskId: 'boom' });
    expect(call.pid).not.toBe(process.pid); // the scheduler runs in this test's process
    expect(call.argv).toContain('dagCallbackChild');
    // The SmtpNotifier in the same list mailed its rendered subject.
    const mail = await eventually('the failure email', () => smtp.received.find((m) => m.to.includes('oncall@example.com')));
    expect(mail.raw).toContain('Subject: Failed: notify_dag_failure (task_failure)');
    expect((await db.knex('dag_run').where('id', run.id).first()).state).toBe('failed');
    expect(readFileSync(dagCallbackLogPath(config.logging.baseLogFolder, { dagId: run.dag_id, runId: run.run_id }), 'utf8')).toContain(
      `Running the failed callback of DAG 'notify_dag_failure' for run '${run.run_id}' (reason: task_failure) in DAG callback process ${call.pid}`,
    );
  });

  it('a callback that throws is logged and the next one still runs; the run stays a success; the webhook gets the rendered text and its token is in no log', async () => {
    const run = await runToEnd('notify_dag_success');
    expect(run.state).toBe('success');
    const request = await eventually('the webhook call', () => webhook.received.find((r) => r.body.includes('notify_dag_success')), 30_000);
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`/services/${TOKEN}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({ text: `DAG notify_dag_success run ${run.run_id}: success (last task work)` });
    await Promise.all([callbacks.idle(), otherCallbacks.idle()]);
    const log = readFileSync(dagCallbackLogPath(config.logging.baseLogFolder, { dagId: run.dag_id, runId: run.run_id }), 'utf8');
    expect(log).toContain('The success callback failed: broken callback');
    expect(log).toContain(`Sending 'POST' to url: http://127.0.0.1:${webhook.port}/services/***`);
    expect((await db.knex('dag_run').where('id', run.id).first()).state).toBe('success');
    expect(allLogs()).not.toContain(TOKEN);
    expect(JSON.stringify(logger.entries)).not.toContain(TOKEN);
  });

  it('task level, in the worker: a WebhookNotifier as onFailureCallback, and emailOnRetry then emailOnFailure to the task’s email', async () => {
    const run = await runToEnd('notify_task_level');
    expect(run.state).toBe('failed');
    const ti = await db.knex('task_instance').where({ dag_id: 'notify_task_level', run_id: run.run_id, task_id: 'flaky' }).first();
    expect([ti.state, ti.try_number]).toEqual(['failed', 2]);
    const mails = await eventually('both alerts', () => {
      const to = smtp.received.filter((m) => m.to.includes('ops@example.com'));
      return to.length === 2 ? to : undefined;
    });
    expect(mails.map((m) => /Subject: (.*)/.exec(m.raw.replace(/\r?\n[ \t]+/g, ' '))?.[1])).toEqual([
      `Airflow alert: notify_task_level.flaky ${run.run_id} [up_for_retry]`,
      `Airflow alert: notify_task_level.flaky ${run.run_id} [failed]`,
    ]);
    expect(mails[1]!.raw).toContain('flaky failed');
    const request = await eventually('the webhook call', () => webhook.received.find((r) => r.body.includes('Task flaky failed')));
    expect(JSON.parse(request.body)).toEqual({ text: 'Task flaky failed in try 2: Error: flaky failed' });
    const logFile = taskLogPath(config.logging.baseLogFolder, { dagId: 'notify_task_level', runId: run.run_id, taskId: 'flaky', mapIndex: -1, tryNumber: 2 });
    // The worker logs the alert once the server has taken it: wait for the line, not just the mail.
    const log = await eventually('the alert in the log', () => {
      const text = readFileSync(logFile, 'utf8');
      return text.includes('Sent the failed email alert to ops@example.com') ? text : undefined;
    });
    expect(log).toContain('Webhook notification sent through connection');
    expect(allLogs()).not.toContain(TOKEN);
  });

  it('example_notifications: runs green and posts its success to the chat webhook', async () => {
    const run = await runToEnd('example_notifications');
    expect(run.state).toBe('success');
    const request = await eventually('the chat message', () => webhook.received.find((r) => r.url.startsWith('/chat/')), 30_000);
    expect(request.url).toBe(`/chat/${TOKEN}`);
    expect(JSON.parse(request.body)).toEqual({ text: `:white_check_mark: example_notifications run ${run.run_id} succeeded` });
  });
});
