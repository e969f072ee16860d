import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Fernet, generateFernetKey } from '../../core/crypto/fernet.ts';
import { memoryLogger } from '../../core/logger.ts';
import { createExecutor } from '../../executors/createExecutor.ts';
import { Scheduler } from '../../scheduler/scheduler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { PASSWORD as USER_PASSWORD, startTestApi } from '../helpers/api.ts';
import { launchBrowser, logIn } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';

const CONN_PASSWORD = 'warehouse-pw-93741';
const API_TOKEN = 'api-token-55018-secret';
const REGION = 'eu-west-region-not-secret';
const SECRETS = new RegExp(`${CONN_PASSWORD}|${API_TOKEN}`);

const db = await createTestDatabase();
const { knex } = db;
const dags = tempDagsFolder();
// A BashOperator echoing a connection password and a sensitive variable (stdout, stderr, env), and a
// TaskFlow task that logs and returns them; the non-sensitive variable must stay readable.
writeDag(
  dags,
  'secrets_masking.ts',
  `import { BashOperator, DAG, getCurrentContext, task } from 'airflow-ts';
const dag = new DAG({ dagId: 'secrets_masking', schedule: null });
new BashOperator({
  dag,
  taskId: 'echo_secrets',
  bashCommand: 'echo "region={{ var.value.region }}"; echo "env=$DB_PASSWORD" >&2; echo "password={{ conn.warehouse.password }} token={{ var.value.api_token }}"',
  env: { DB_PASSWORD: '{{ conn.warehouse.password }}' },
  appendEnv: true,
});
task({ dag }, function return_secrets() {
  const context = getCurrentContext();
  const token = context.var.value.api_token as string;
  const password = context.conn.get('warehouse')!.password;
  context.log.info('read ' + token + ' and ' + password);
  return { token, password, nested: ['x', token], region: context.var.value.region };
})();
export default dag;
`,
);
// Task code printing a secret with console.log, then its worker dying: the worker's last output goes into the try's log.
writeDag(
  dags,
  'secrets_console.ts',
  `import { DAG, getCurrentContext, task } from 'airflow-ts';
const dag = new DAG({ dagId: 'secrets_console', schedule: null });
task({ dag }, function print_and_die() {
  console.log('printed ' + getCurrentContext().var.value.api_token);
  process.kill(process.pid, 'SIGKILL');
})();
export default dag;
`,
);
// A variable stored under a key nobody holds any more: only the task that reads it fails.
writeDag(
  dags,
  'secrets_wrong_key.ts',
  `import { DAG, getCurrentContext, task } from 'airflow-ts';
const dag = new DAG({ dagId: 'secrets_wrong_key', schedule: null });
task({ dag }, function reads_orphan() {
  return getCurrentContext().var.value.orphan_secret;
})();
task({ dag }, function reads_nothing() {
  return 'fine';
})();
export default dag;
`,
);
// A task that never reads the connection or variable yet prints their values (as an upstream's XCom could bring them).
writeDag(
  dags,
  'secrets_unread.ts',
  `import { BashOperator, DAG } from 'airflow-ts';
const dag = new DAG({ dagId: 'secrets_unread', schedule: null });
new BashOperator({ dag, taskId: 'prints_unread', bashCommand: 'echo "came in: ${CONN_PASSWORD} / ${API_TOKEN}"' });
export default dag;
`,
);
const config = await testConfig(dags, db.url, {
  AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
  AIRFLOW__CORE__PARALLELISM: '2',
  AIRFLOW__CORE__FERNET_KEY: generateFernetKey(),
});
await parseDags(config, knex);
const api = await startTestApi(knex, config);
// Created through the API, so stored encrypted.
await api.call('POST', '/connections', { body: { connection_id: 'warehouse', conn_type: 'postgres', host: 'db.example', password: CONN_PASSWORD } });
await api.call('POST', '/variables', { body: { key: 'api_token', value: API_TOKEN } });
await api.call('POST', '/variables', { body: { key: 'region', value: REGION } });

// Real worker processes (LocalExecutor) run the tasks; they decrypt and mask on their own.
const scheduler = new Scheduler({ knex, config, executor: createExecutor(config, db.url, memoryLogger()), logger: memoryLogger() });
await scheduler.start();
afterAll(() => scheduler.stop(5_000));
const browser = await launchBrowser();
afterAll(() => browser.close());

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
  );
}

describe('secrets masker', () => {
  it("what task code prints (console.log) is masked too: a dead worker's last output in the try's log shows ***", async () => {
    await knex('dag').where('dag_id', 'secrets_console').update({ is_paused: false });
    const run = await triggerDagRun(knex, { dagId: 'secrets_console', conf: {}, now: new Date() });
    scheduler.wake();
    await eventually(
      'the task to fail with its worker',
      async () => (await knex('task_instance').where({ dag_id: 'secrets_console', run_id: run.run_id }).first('state'))?.state === 'failed',
    );
    const log = await eventually("the reason in the try's log", () => {
      const text = filesUnder(path.join(config.logging.baseLogFolder, 'dag_id=secrets_console'))
        .map((file) => readFileSync(file, 'utf8'))
        .join('\n');
      return text.includes('printed') ? text : null;
    });
    expect(log).toContain('printed ***');
    expect(log).not.toMatch(SECRETS);
  });

  it('a task process knows every connection password and sensitive variable from the start, read by the task or not', async () => {
    await knex('dag').where('dag_id', 'secrets_unread').update({ is_paused: false });
    const run = await triggerDagRun(knex, { dagId: 'secrets_unread', conf: {}, now: new Date() });
    scheduler.wake();
    await eventually(
      'the task to succeed',
      async () => (await knex('task_instance').where({ dag_id: 'secrets_unread', run_id: run.run_id }).first('state'))?.state === 'success',
    );
    const log = filesUnder(path.join(config.logging.baseLogFolder, 'dag_id=secrets_unread'))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    expect(log).toContain('came in: *** / ***');
    expect(log).not.toMatch(SECRETS);
    const rendered = await knex('rendered_task_instance_fields').where({ dag_id: 'secrets_unread', run_id: run.run_id }).first('rendered_fields');
    expect(JSON.stringify(rendered)).not.toMatch(SECRETS);
  });

  it('a secret that does not decrypt with core.fernet_key fails only the task reading it, with an error naming the key; the worker goes on', async () => {
    await knex('variable').insert({ key: 'orphan_secret', val: new Fernet(generateFernetKey()).encrypt('lost'), is_encrypted: true });
    await knex('dag').where('dag_id', 'secrets_wrong_key').update({ is_paused: false });
    const run = await triggerDagRun(knex, { dagId: 'secrets_wrong_key', conf: {}, now: new Date() });
    scheduler.wake();
    const states = await eventually('both tasks to finish', async () => {
      const tis: { task_id: string; state: string }[] = await knex('task_instance').where({ dag_id: 'secrets_wrong_key', run_id: run.run_id });
      return tis.every((ti) => ti.state === 'success' || ti.state === 'failed') ? Object.fromEntries(tis.map((ti) => [ti.task_id, ti.state])) : null;
    });
    expect(states).toEqual({ reads_orphan: 'failed', reads_nothing: 'success' });
    const log = filesUnder(path.join(config.logging.baseLogFolder, 'dag_id=secrets_wrong_key', `run_id=${run.run_id}`, 'task_id=reads_orphan'))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    expect(log).toContain("Cannot decrypt variable 'orphan_secret'");
    expect(log).toContain('core.fernet_key (AIRFLOW__CORE__FERNET_KEY)');
    // reads_nothing succeeded on the same executor; the next test runs on it too.
    await knex('variable').where('key', 'orphan_secret').delete();
  });

  it('a secret echoed by a BashOperator or returned by a TaskFlow task never reaches the log files, rendered fields, API or UI', async () => {
    await knex('dag').where('dag_id', 'secrets_masking').update({ is_paused: false });
    const run = await triggerDagRun(knex, { dagId: 'secrets_masking', conf: {}, now: new Date() });
    scheduler.wake();
    const finished = await eventually('the run to finish', async () => {
      const row = await knex('dag_run').where('id', run.id).first();
      return row.state === 'success' || row.state === 'failed' ? row : null;
    });
    expect(finished.state).toBe('success');

    // The tasks did get the real values: XCom (what downstream tasks read) holds them as returned.
    const stored = await knex('xcom').where({ dag_id: 'secrets_masking', key: 'return_value' }).orderBy('task_id').pluck('value');
    expect(stored).toEqual([
      `password=${CONN_PASSWORD} token=${API_TOKEN}`,
      { token: API_TOKEN, password: CONN_PASSWORD, nested: ['x', API_TOKEN], region: REGION },
    ]);

    // Log files: the values are ***; the rest of the output, the non-sensitive variable included, is there.
    const logs = filesUnder(path.join(config.logging.baseLogFolder, 'dag_id=secrets_masking')).map((file) => readFileSync(file, 'utf8'));
    expect(logs).toHaveLength(2);
    const allLogs = logs.join('\n');
    expect(allLogs).not.toMatch(SECRETS);
    expect(allLogs).toContain('password=*** token=***');
    expect(allLogs).toContain('env=***');
    expect(allLogs).toContain('read *** and ***');
    expect(allLogs).toContain(`region=${REGION}`);

    // Rendered fields (bash command and env) are stored masked.
    const rendered = await knex('rendered_task_instance_fields')
      .where({ dag_id: 'secrets_masking', run_id: run.run_id, task_id: 'echo_secrets' })
      .first('rendered_fields');
    expect(JSON.stringify(rendered)).not.toMatch(SECRETS);
    expect(rendered.rendered_fields.env).toEqual({ DB_PASSWORD: '***' });
    expect(rendered.rendered_fields.bashCommand).toContain('password=*** token=***');

    // API: XCom values, logs and the variable itself.
    const base = `/dags/secrets_masking/dagRuns/${encodeURIComponent(run.run_id)}/taskInstances`;
    const responses = [
      await api.call('GET', `${base}/echo_secrets/xcomEntries/return_value`),
      await api.call('GET', `${base}/return_secrets/xcomEntries/return_value?stringify=false`),
      await api.call('GET', `${base}/echo_secrets/logs/1?full_content=true`, { as: 'Viewer' }),
      await api.call('GET', `${base}/return_secrets/logs/1?full_content=true`, { as: 'Viewer' }),
      await api.call('GET', '/variables/api_token'),
      await api.call('GET', '/variables'),
    ];
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.text).not.toMatch(SECRETS);
    }
    expect(responses[0]!.json.value).toBe('password=*** token=***');
    expect(responses[1]!.json.value).toEqual({ token: '***', password: '***', nested: ['x', '***'], region: REGION });
    expect(responses[4]!.json.value).toBe('***');

    // UI: the task instance pages (rendered fields, XComs, log) as a Viewer sees them.
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await logIn(page, api.url, 'viewer', USER_PASSWORD);
      for (const taskId of ['echo_secrets', 'return_secrets']) {
        const response = await page.goto(`${api.url}/dags/secrets_masking/runs/${encodeURIComponent(run.run_id)}/tasks/${taskId}`);
        expect(response?.status()).toBe(200);
        const html = await page.content();
        expect(html).not.toMatch(SECRETS);
        expect(html).toContain('***');
      }
    } finally {
      await context.close();
    }
  });
});
