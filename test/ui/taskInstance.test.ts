import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { serializeDag } from '../../core/serialize.ts';
import type { TiState } from '../../core/state.ts';
import { recordParsedFile } from '../../db/dagFileRecords.ts';
import { transitionTaskInstances } from '../../db/transitions.ts';
import type { DagRunRow } from '../../db/rows.ts';
import { pushXCom } from '../../db/models/xcom.ts';
import { BashOperator } from '../../operators/bashOperator.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { TaskLog, taskLogPath } from '../../logging/fileTaskHandler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { PASSWORD, startTestApi } from '../helpers/api.ts';
import { launchBrowser, logIn, screenshot } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const { knex } = db;
const config = await testConfig(tempDagsFolder(), db.url);
const DAG_ID = 'ui_ti';

// A DAG with a BashOperator (template fields) between EmptyOperators: start >> greet >> [after, report].
{
  const dag = new DAG({ dagId: DAG_ID });
  const start = new EmptyOperator({ dag, taskId: 'start' });
  const greet = new BashOperator({
    dag,
    taskId: 'greet',
    bashCommand: 'echo "{{ ds }}" <script>alert(1)</script>',
    env: { WHO: '{{ params.who }}' },
    retries: 2,
  });
  const after = new EmptyOperator({ dag, taskId: 'after' });
  const report = new EmptyOperator({ dag, taskId: 'report' });
  start.then(greet).then([after, report]);
  const serialized = { ...serializeDag(dag), fileloc: `/virtual/${DAG_ID}.ts` };
  await recordParsedFile(knex, {
    file: serialized.fileloc,
    dags: [serialized],
    source: '// test',
    parsedAt: new Date(),
    pausedAtCreation: false,
    catchupByDefault: true,
  });
}
const server = await startTestApi(knex, config);
const browser = await launchBrowser();

const enc = encodeURIComponent;
let day = 0;
async function trigger(): Promise<DagRunRow> {
  day += 1;
  return triggerDagRun(knex, { dagId: DAG_ID, logicalDate: new Date(Date.UTC(2025, 2, day)), now: new Date() });
}

async function tiOf(runId: string, taskId: string) {
  return knex('task_instance').where({ dag_id: DAG_ID, run_id: runId, task_id: taskId }).first();
}

async function move(runId: string, taskId: string, steps: TiState[], set: Record<string, unknown> = {}): Promise<void> {
  const ti = await tiOf(runId, taskId);
  for (const to of steps) await transitionTaskInstances(knex, [ti.id], { to, now: new Date(), set: to === 'running' ? set : undefined });
}

function logOf(runId: string, taskId: string, tryNumber: number): TaskLog {
  return new TaskLog(taskLogPath(config.logging.baseLogFolder, { dagId: DAG_ID, runId, taskId, mapIndex: -1, tryNumber }));
}

const tiUrl = (runId: string, taskId: string) => `${server.url}/dags/${DAG_ID}/runs/${enc(runId)}/tasks/${taskId}`;

async function pageAs(username: string, options: { width?: number; javaScript?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: 900 }, javaScriptEnabled: options.javaScript ?? true });
  const page = await context.newPage();
  await logIn(page, server.url, username, PASSWORD);
  return page;
}

interface LogPolls {
  logPolls: number;
  lastLog: { finished: boolean; content: string } | null;
}

/** Runs in the page: counts fetches of the log endpoint and keeps the last log answer the page read. */
function countLogPolls(): void {
  const polls = window as unknown as LogPolls;
  polls.logPolls = 0;
  polls.lastLog = null;
  const fetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    if (String(input instanceof Request ? input.url : input).includes('log.json')) polls.logPolls += 1;
    return fetch(input, init);
  };
  const json = Response.prototype.json;
  // Recorded before the page's own continuation runs, in the same microtask checkpoint, so a check
  // that sees it also sees whatever that continuation decided (another poll or none).
  Response.prototype.json = async function (this: Response) {
    const data = await json.call(this);
    if (this.url.includes('log.json')) polls.lastLog = data as LogPolls['lastLog'];
    return data;
  };
}

describe('task instance page', () => {
  it('shows the instance, its template fields (as written before a try rendered them), escaped XComs and the log; follows the log live until the task ends', async () => {
    const run = await trigger();
    await move(run.run_id, 'start', ['success']);
    await move(run.run_id, 'greet', ['scheduled', 'queued', 'running'], { hostname: 'worker-7.example' });
    const log = logOf(run.run_id, 'greet', 1);
    log.info('Running command: echo <b>not bold</b>');
    log.info('first line');
    await pushXCom(
      knex,
      { dagRunId: run.id, dagId: DAG_ID, runId: run.run_id, taskId: 'greet', mapIndex: -1 },
      'return_value',
      { html: '<img src=x onerror=alert(1)>' },
      1_000_000,
    );

    const page = await pageAs('viewer');
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // The page's timers run on Playwright's clock (real time until we advance it ourselves), and its log
    // polls are counted, with the last answer the page read, to check below that the polling stopped.
    await page.clock.install();
    await page.addInitScript(countLogPolls);
    await page.goto(tiUrl(run.run_id, 'greet'));
    const kv = async (label: string) =>
      (
        await page
          .locator('table.kv tr', { has: page.locator(`th:text-is("${label}")`) })
          .first()
          .locator('td')
          .textContent()
      )?.trim();
    expect(await page.locator('#ti-state').textContent()).toBe('running');
    expect(await kv('Try number')).toBe('1');
    expect(await kv('Max tries')).toBe('2'); // Airflow's max_tries: the task's retries
    expect(await kv('Hostname')).toBe('worker-7.example');
    expect(await kv('Pool')).toContain('default_pool');
    expect(await kv('Operator')).toBe('BashOperator');
    expect(await kv('Started')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // Template fields as written, flagged as not rendered.
    expect(await page.locator('.note').textContent()).toMatch(/As written in the DAG file/);
    expect(await kv('bashCommand')).toBe('echo "{{ ds }}" <script>alert(1)</script>');
    expect(await kv('env')).toContain('"WHO": "{{ params.who }}"');
    // XComs: key and escaped value.
    expect(await kv('return_value')).toContain('"html": "<img src=x onerror=alert(1)>"');
    expect(await page.locator('main img, main script').count()).toBe(0);
    // The log, with a tab for the try.
    expect(await page.locator('nav.tabs a').allTextContents()).toEqual(['Try 1']);
    const text = await page.locator('#log-text').textContent();
    expect(text).toContain('Running command: echo <b>not bold</b>');
    expect(text).toContain('first line');
    expect(await page.locator('#log-text b').count()).toBe(0);
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));

    // Follow: lines appended while the page is open appear without a reload.
    log.info('a line written while the page is open');
    await page.waitForFunction(() => document.getElementById('log-text')!.textContent!.includes('a line written while the page is open'), undefined, {
      timeout: 10_000,
    });
    log.raw('[raw] <script>alert(2)</script>');
    await page.waitForFunction(() => document.getElementById('log-text')!.textContent!.includes('[raw] <script>alert(2)</script>'), undefined, {
      timeout: 10_000,
    });
    expect(await page.locator('#log-text script').count()).toBe(0);
    await screenshot(page, 'task-instance');

    // The task ends: its last lines still arrive, the state updates, and the polling stops.
    log.info('done, exiting');
    log.close();
    await move(run.run_id, 'greet', ['success']);
    await page.waitForFunction(() => document.getElementById('ti-state')!.textContent === 'success', undefined, { timeout: 10_000 });
    expect(await page.locator('#log-text').textContent()).toContain('done, exiting');
    expect(await page.locator('#log-status').textContent()).toBe('The task is success.');
    // Once the page has read an answer saying the task finished with nothing left to drain, ten poll
    // intervals on its clock start no other poll.
    await page.waitForFunction(
      () => {
        const last = (window as unknown as LogPolls).lastLog;
        return last !== null && last.finished && !last.content;
      },
      undefined,
      { timeout: 10_000 },
    );
    const polls = await page.evaluate(() => (window as unknown as LogPolls).logPolls);
    await page.clock.runFor(10_000);
    expect(await page.evaluate(() => (window as unknown as LogPolls).logPolls)).toBe(polls);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(7);
    // Each line once (no duplicates from overlapping polls).
    expect((await page.locator('#log-text').textContent())!.match(/first line/g)).toHaveLength(1);
    expect(dialogs).toEqual([]);

    await page.setViewportSize({ width: 375, height: 800 });
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.context().close();
  });

  it('shows one tab per try, the latest by default', async () => {
    const run = await trigger();
    await move(run.run_id, 'greet', ['scheduled', 'queued', 'running']);
    const first = logOf(run.run_id, 'greet', 1);
    first.error('try one failed');
    first.close();
    await move(run.run_id, 'greet', ['up_for_retry', 'scheduled', 'queued', 'running', 'failed']);
    const second = logOf(run.run_id, 'greet', 2);
    second.error('try two failed too');
    second.close();

    const page = await pageAs('viewer');
    await page.goto(tiUrl(run.run_id, 'greet'));
    expect(await page.locator('nav.tabs a').allTextContents()).toEqual(['Try 1', 'Try 2']);
    expect(await page.locator('nav.tabs a.active').textContent()).toBe('Try 2');
    expect(await page.locator('#log-text').textContent()).toContain('try two failed too');
    await Promise.all([page.waitForURL(/try=1/), page.click('nav.tabs a:text-is("Try 1")')]);
    const text = await page.locator('#log-text').textContent();
    expect(text).toContain('try one failed');
    expect(text).not.toContain('try two');
    // A try without a log file says so.
    await page.goto(tiUrl(run.run_id, 'start'));
    expect(await page.locator('main').textContent()).toContain('has not started a try yet');
    await page.context().close();
  });

  it('answers the log poll with a continuation token, and 400 for a forged token', async () => {
    const run = await trigger();
    await move(run.run_id, 'greet', ['scheduled', 'queued', 'running']);
    const log = logOf(run.run_id, 'greet', 1);
    log.raw('one');
    const page = await pageAs('viewer');
    const first = await (await page.request.get(`${tiUrl(run.run_id, 'greet')}/log.json?try=1`)).json();
    expect(first).toMatchObject({ content: 'one\n', state: 'running', try_number: 1, finished: false });
    log.raw('two');
    log.close();
    const second = await (await page.request.get(`${tiUrl(run.run_id, 'greet')}/log.json?try=1&token=${first.continuation_token}`)).json();
    expect(second.content).toBe('two\n');
    expect((await page.request.get(`${tiUrl(run.run_id, 'greet')}/log.json?try=1&token=not-a-token!`)).status()).toBe(400);
    expect((await page.request.get(`${tiUrl(run.run_id, 'nope')}/log.json`)).status()).toBe(404);
    expect((await page.request.get(tiUrl(run.run_id, 'nope'))).status()).toBe(404);
    await page.context().close();
  });
});

describe('task instance actions', () => {
  it('marks success and failed, and clears with downstream, after confirm() (User role)', async () => {
    const run = await trigger();
    await move(run.run_id, 'start', ['success']);
    await move(run.run_id, 'greet', ['scheduled', 'queued', 'running', 'failed']);
    await move(run.run_id, 'after', ['upstream_failed']);
    await move(run.run_id, 'report', ['upstream_failed']);
    const page = await pageAs('user');
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await page.goto(tiUrl(run.run_id, 'greet'));
    await screenshot(page, 'task-instance-actions');

    await Promise.all([page.waitForURL(/done=ti_success/), page.getByRole('button', { name: 'Mark success' }).click()]);
    expect(dialogs.at(-1)).toBe(`Mark task greet in run ${run.run_id} success?`);
    expect(await page.locator('.flash').textContent()).toMatch(/Marked 1 task instance\(s\) success/);
    expect((await tiOf(run.run_id, 'greet')).state).toBe('success');
    // markTaskInstances resumes the run: the upstream_failed tasks downstream are cleared.
    expect((await tiOf(run.run_id, 'after')).state).toBeNull();

    await Promise.all([page.waitForURL(/done=ti_failed/), page.getByRole('button', { name: 'Mark failed' }).click()]);
    expect((await tiOf(run.run_id, 'greet')).state).toBe('failed');

    await page.locator('form[action$="/clear"] input[name=downstream]').check();
    await Promise.all([page.waitForURL(/done=ti_cleared/), page.getByRole('button', { name: 'Clear' }).click()]);
    expect(await page.locator('.flash').textContent()).toMatch(/Cleared 1 task instance/);
    expect((await tiOf(run.run_id, 'greet')).state).toBeNull();
    expect((await tiOf(run.run_id, 'start')).state).toBe('success'); // not upstream
    expect((await knex('dag_run').where('id', run.id).first()).state).toBe('queued');

    // Clear with upstream: start goes back to none as well.
    await move(run.run_id, 'greet', ['success']);
    await page.goto(tiUrl(run.run_id, 'greet'));
    await page.locator('form[action$="/clear"] input[name=upstream]').check();
    await Promise.all([page.waitForURL(/done=ti_cleared/), page.getByRole('button', { name: 'Clear' }).click()]);
    expect((await tiOf(run.run_id, 'start')).state).toBeNull();
    expect((await tiOf(run.run_id, 'greet')).state).toBeNull();
    await page.context().close();
  });

  it('without JavaScript, shows a confirmation page listing what changes', async () => {
    const run = await trigger();
    await move(run.run_id, 'greet', ['scheduled', 'queued', 'running', 'failed']);
    await move(run.run_id, 'after', ['upstream_failed']);
    const page = await pageAs('user', { javaScript: false });
    await page.goto(tiUrl(run.run_id, 'greet'));
    await page.locator('form[action$="/clear"] input[name=downstream]').check();
    await Promise.all([page.waitForURL(/\/clear$/), page.getByRole('button', { name: 'Clear' }).click()]);
    expect(await page.locator('ul.affected li').allTextContents()).toEqual(['after upstream_failed', 'greet failed', 'report none']);
    expect((await tiOf(run.run_id, 'greet')).state).toBe('failed');
    await Promise.all([page.waitForURL(/done=ti_cleared/), page.getByRole('button', { name: 'Confirm' }).click()]);
    expect((await tiOf(run.run_id, 'greet')).state).toBeNull();
    expect((await tiOf(run.run_id, 'after')).state).toBeNull();

    await move(run.run_id, 'greet', ['scheduled', 'queued', 'running']);
    await page.goto(tiUrl(run.run_id, 'greet'));
    await Promise.all([page.waitForURL(/\/mark$/), page.getByRole('button', { name: 'Mark failed' }).click()]);
    expect(await page.locator('h1').textContent()).toBe('Mark failed');
    await page.getByRole('link', { name: 'Cancel' }).click();
    expect((await tiOf(run.run_id, 'greet')).state).toBe('running');
    await page.context().close();
  });

  it('refuses the actions to a Viewer with 403 and shows them no buttons', async () => {
    const run = await trigger();
    await move(run.run_id, 'greet', ['scheduled', 'queued', 'running', 'failed']);
    const page = await pageAs('viewer');
    await page.goto(tiUrl(run.run_id, 'greet'));
    expect(await page.locator('main form').count()).toBe(0);
    const csrf = await page.getAttribute('meta[name="csrf-token"]', 'content');
    for (const [action, form] of [
      ['mark', { state: 'success', confirmed: '1' }],
      ['clear', { confirmed: '1' }],
    ] as const) {
      const response = await page.request.post(`${tiUrl(run.run_id, 'greet')}/${action}`, { form: { _csrf: csrf!, ...form }, maxRedirects: 0 });
      expect(response.status(), action).toBe(403);
    }
    expect((await tiOf(run.run_id, 'greet')).state).toBe('failed');
    await page.context().close();
  });
});
