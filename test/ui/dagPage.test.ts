import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { TiState } from '../../core/state.ts';
import { transitionDagRun, transitionTaskInstances } from '../../db/transitions.ts';
import type { DagRunRow } from '../../db/rows.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { PASSWORD, startTestApi } from '../helpers/api.ts';
import { launchBrowser, logIn, screenshot } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const { knex } = db;
const config = await testConfig(tempDagsFolder(), db.url);
const DAG_ID = 'ui_etl';
const dag = await registerDag(
  knex,
  {
    dagId: DAG_ID,
    schedule: '@daily',
    startDate: new Date('2025-01-01T00:00:00Z'),
    tags: ['etl', 'ui'],
    description: 'Extracts, transforms and loads',
    doc: 'Docs with <b>markup</b> shown as text',
    params: { greeting: 'hello' },
    maxActiveRuns: 3,
  },
  {
    extract: {},
    transform: { upstream: ['extract'] },
    report: { upstream: ['extract'] },
    load: { upstream: ['transform'] },
    notify: { upstream: ['load', 'report'] },
  },
);
const server = await startTestApi(knex, config);
const browser = await launchBrowser();

const enc = encodeURIComponent;
const base = (tab: string, dagId = DAG_ID) => `${server.url}/dags/${enc(dagId)}/${tab}`;

/** The state steps from none to `to` that db/transitions.ts allows (a task must be queued before it runs). */
const PATHS: Record<string, TiState[]> = {
  none: [],
  scheduled: ['scheduled'],
  queued: ['scheduled', 'queued'],
  running: ['scheduled', 'queued', 'running'],
  success: ['scheduled', 'queued', 'running', 'success'],
  failed: ['scheduled', 'queued', 'running', 'failed'],
  up_for_retry: ['scheduled', 'queued', 'running', 'up_for_retry'],
  upstream_failed: ['upstream_failed'],
  skipped: ['skipped'],
};

async function setStates(dagId: string, runId: string, states: Record<string, string>, now = new Date()): Promise<void> {
  for (const [taskId, state] of Object.entries(states)) {
    const ti = await knex('task_instance').where({ dag_id: dagId, run_id: runId, task_id: taskId }).first('id');
    for (const to of PATHS[state]!) await transitionTaskInstances(knex, [ti.id], { to, now });
  }
}

let day = 0;
async function trigger(dagId = DAG_ID, conf: Record<string, unknown> = {}): Promise<DagRunRow> {
  day += 1;
  return triggerDagRun(knex, { dagId, logicalDate: new Date(Date.UTC(2025, 1, day)), conf, now: new Date() });
}

async function runState(run: DagRunRow, to: 'running' | 'success' | 'failed', started?: Date, ended?: Date): Promise<void> {
  await transitionDagRun(knex, run.id, { to: 'running', now: started ?? new Date() });
  if (to !== 'running') await transitionDagRun(knex, run.id, { to, now: ended ?? new Date() });
}

async function pageAs(username: string, options: { width?: number; javaScript?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: 900 }, javaScriptEnabled: options.javaScript ?? true });
  const page = await context.newPage();
  await logIn(page, server.url, username, PASSWORD);
  return page;
}

/** What the browser computes for a CSS colour name (e.g. green -> rgb(0, 128, 0)). */
function cssColor(page: Page, name: string): Promise<string> {
  return page.evaluate((color) => {
    const probe = document.createElement('div');
    probe.style.background = color;
    document.body.append(probe);
    const computed = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return computed;
  }, name);
}

const squareSelector = (runId: string, taskId: string) => `a.sq[href="/dags/${enc(DAG_ID)}/runs/${enc(runId)}/tasks/${enc(taskId)}"]`;

function squareColor(page: Page, runId: string, taskId: string): Promise<string> {
  return page.$eval(squareSelector(runId, taskId), (el) => getComputedStyle(el).backgroundColor);
}

// Three finished runs with known states, used by most tests.
const run1 = await trigger();
await setStates(DAG_ID, run1.run_id, { extract: 'success', transform: 'success', report: 'success', load: 'success', notify: 'success' });
await runState(run1, 'success', new Date(Date.now() - 90_000), new Date(Date.now() - 30_000));
const run2 = await trigger();
await setStates(DAG_ID, run2.run_id, { extract: 'success', transform: 'failed', report: 'skipped', load: 'upstream_failed', notify: 'upstream_failed' });
await runState(run2, 'failed', new Date(Date.now() - 50_000), new Date(Date.now() - 20_000));
const run3 = await trigger(DAG_ID, { note: '<b>bold</b>', n: 1 });
await setStates(DAG_ID, run3.run_id, { extract: 'success', transform: 'running', report: 'up_for_retry', load: 'none', notify: 'none' });
await runState(run3, 'running', new Date(Date.now() - 10_000));

describe('DAG page: grid', () => {
  it("shows runs as columns (newest right), tasks in topological order, and squares in Airflow's state colours", async () => {
    const page = await pageAs('viewer');
    await page.goto(base('grid'));
    const runIds = await page.$$eval('table.grid tr.bars th[data-run-id]', (ths) => ths.map((th) => (th as HTMLElement).dataset.runId));
    expect(runIds).toEqual([run1.run_id, run2.run_id, run3.run_id]);
    const taskIds = await page.$$eval('table.grid tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.taskId));
    expect(taskIds).toEqual(dag.tasks.map((t) => t.taskId));
    expect(taskIds.indexOf('extract')).toBeLessThan(taskIds.indexOf('transform'));
    expect(taskIds.indexOf('load')).toBeLessThan(taskIds.indexOf('notify'));

    const expectations: [DagRunRow, string, string][] = [
      [run1, 'load', 'green'],
      [run2, 'transform', 'red'],
      [run2, 'report', 'hotpink'],
      [run2, 'load', 'orange'],
      [run3, 'transform', 'lime'],
      [run3, 'report', 'gold'],
      [run3, 'notify', 'lightblue'],
    ];
    for (const [run, taskId, color] of expectations) {
      expect(await squareColor(page, run.run_id, taskId), `${run.run_id} ${taskId}`).toBe(await cssColor(page, color));
    }
    // Run header bars by run state.
    const barColor = (runId: string) => page.$eval(`th[data-run-id="${runId}"] a.bar`, (el) => getComputedStyle(el).backgroundColor);
    expect(await barColor(run1.run_id)).toBe(await cssColor(page, 'green'));
    expect(await barColor(run2.run_id)).toBe(await cssColor(page, 'red'));
    expect(await barColor(run3.run_id)).toBe(await cssColor(page, 'lime'));

    // A square links to its task instance page.
    await Promise.all([page.waitForURL(/\/tasks\/transform$/), page.click(squareSelector(run2.run_id, 'transform'))]);
    expect(await page.locator('#ti-state').textContent()).toBe('failed');
    await page.context().close();
  });

  it('limits the columns with ?num_runs= and highlights the run of ?run_id=', async () => {
    const page = await pageAs('viewer');
    await page.goto(`${base('grid')}?num_runs=2&run_id=${enc(run2.run_id)}`);
    const runIds = await page.$$eval('table.grid tr.bars th[data-run-id]', (ths) => ths.map((th) => (th as HTMLElement).dataset.runId));
    expect(runIds).toEqual([run2.run_id, run3.run_id]);
    expect(await page.$$eval('table.grid tr.bars th.sel', (ths) => ths.map((th) => (th as HTMLElement).dataset.runId))).toEqual([run2.run_id]);
    expect(await page.locator('table.grid tbody td.sel a.sq').count()).toBe(dag.tasks.length);
    expect(await page.locator('a.trigger-link').count()).toBe(0); // Viewer: no trigger link
    // The side panel describes the selected run.
    const panel = await page.locator('aside.panel').textContent();
    expect(panel).toContain(run2.run_id);
    expect(panel).toContain('failed');
    // Viewers get no action buttons.
    expect(await page.locator('aside.panel form').count()).toBe(0);
    await page.context().close();
  });

  it('recolours the squares of an active run without reloading while its task instances succeed', async () => {
    const run = await trigger();
    const page = await pageAs('viewer');
    await page.goto(base('grid'));
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const lightblue = await cssColor(page, 'lightblue');
    const green = await cssColor(page, 'green');
    for (const t of dag.tasks) expect(await squareColor(page, run.run_id, t.taskId)).toBe(lightblue);

    await transitionDagRun(knex, run.id, { to: 'running', now: new Date() });
    await setStates(DAG_ID, run.run_id, { extract: 'running' });
    await page.waitForFunction(
      ({ sel, color }) => document.querySelector(sel) && getComputedStyle(document.querySelector(sel)!).backgroundColor === color,
      { sel: squareSelector(run.run_id, 'extract'), color: await cssColor(page, 'lime') },
      { timeout: 10_000 },
    );
    const ids = (await knex('task_instance').where({ dag_id: DAG_ID, run_id: run.run_id }).pluck('id')) as number[];
    const now = new Date();
    for (const to of ['scheduled', 'queued', 'running', 'success'] as const) await transitionTaskInstances(knex, ids, { to, now });

    await page.waitForFunction(
      ({ runId, color }) => {
        const squares = Array.from(document.querySelectorAll('a.sq')).filter((a) =>
          (a as HTMLAnchorElement).pathname.includes(`/runs/${encodeURIComponent(runId)}/`),
        );
        return squares.length > 0 && squares.every((a) => getComputedStyle(a).backgroundColor === color);
      },
      { runId: run.run_id, color: green },
      { timeout: 10_000 },
    );
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    for (const t of dag.tasks) expect(await squareColor(page, run.run_id, t.taskId)).toBe(green);

    // The run finishing stops the polling and the bar turns green too.
    await transitionDagRun(knex, run.id, { to: 'success', now: new Date() });
    await page.waitForFunction(
      ({ runId, color }) => {
        const bar = document.querySelector(`th[data-run-id="${runId}"] a.bar`);
        return bar !== null && getComputedStyle(bar).backgroundColor === color;
      },
      { runId: run.run_id, color: green },
      { timeout: 10_000 },
    );
    await page.context().close();
    await knex('dag_run').where('id', run.id).delete();
  });

  it('renders a grid of 25 runs x 100 tasks (its speed is measured by npm run bench, ui_pages)', async () => {
    const tasks: Record<string, { upstream?: string[] }> = {};
    for (let i = 0; i < 100; i++)
      tasks[`task_${String(i).padStart(3, '0')}`] = i === 0 ? {} : { upstream: [`task_${String(Math.floor((i - 1) / 3)).padStart(3, '0')}`] };
    await registerDag(knex, { dagId: 'ui_big' }, tasks);
    const states = ['success', 'failed', 'skipped', 'upstream_failed'] as const;
    for (let r = 0; r < 30; r++) {
      const run = await trigger('ui_big');
      const ids = (await knex('task_instance').where({ dag_id: 'ui_big', run_id: run.run_id }).orderBy('task_id').pluck('id')) as number[];
      await transitionTaskInstances(
        knex,
        ids.filter((_, i) => i % 5 !== 0),
        { to: states[r % states.length]!, now: new Date() },
      );
    }
    const page = await pageAs('viewer');
    const response = await page.request.get(base('grid', 'ui_big'));
    expect(response.status()).toBe(200);
    expect((await response.text()).match(/class="sq"/g)?.length).toBe(2500);
    expect(response.headers()['server-timing']).toMatch(/^app;dur=\d+(\.\d+)?$/);

    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(base('grid', 'ui_big'));
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    // The grid scrolls inside its own container instead.
    expect(await page.$eval('#grid', (el) => el.scrollWidth > el.clientWidth)).toBe(true);
    await page.context().close();
  });
});

describe('DAG page: graph', () => {
  it('draws one box per task and an arrow per edge, coloured by the states of the selected run (latest by default)', async () => {
    const page = await pageAs('viewer');
    await page.goto(`${base('graph')}?run_id=${enc(run2.run_id)}`);
    const boxes = await page.$$eval('svg.dag-graph .node[data-task-id]', (nodes) => nodes.map((n) => (n as SVGElement).dataset.taskId).sort());
    expect(boxes).toEqual(dag.tasks.map((t) => t.taskId).sort());
    const edges = await page.$$eval('svg.dag-graph path.edge', (paths) =>
      paths.map((p) => `${(p as SVGElement).dataset.from}>${(p as SVGElement).dataset.to}`).sort(),
    );
    const expected = dag.tasks.flatMap((t) => t.downstreamTaskIds.map((d) => `${t.taskId}>${d}`)).sort();
    expect(edges).toEqual(expected);
    expect(await page.$$eval('svg.dag-graph path.edge', (paths) => paths.every((p) => p.getAttribute('marker-end') === 'url(#arrow)'))).toBe(true);

    const stroke = (taskId: string) => page.$eval(`.node[data-task-id="${taskId}"] rect.box`, (el) => getComputedStyle(el).stroke);
    expect(await stroke('extract')).toBe(await cssColor(page, 'green'));
    expect(await stroke('transform')).toBe(await cssColor(page, 'red'));
    expect(await stroke('report')).toBe(await cssColor(page, 'hotpink'));
    expect(await stroke('load')).toBe(await cssColor(page, 'orange'));
    // Boxes link to the task instance.
    expect(await page.getAttribute('.node[data-task-id="transform"]', 'href')).toBe(`/dags/${DAG_ID}/runs/${enc(run2.run_id)}/tasks/transform`);

    // Without ?run_id= the latest run is shown, and recoloured while it is active.
    await page.goto(base('graph'));
    expect(await page.$eval('select[name=run_id]', (s) => (s as HTMLSelectElement).value)).toBe(run3.run_id);
    expect(await stroke('transform')).toBe(await cssColor(page, 'lime'));
    expect(await stroke('load')).toBe(await cssColor(page, 'lightblue'));
    await setStates(DAG_ID, run3.run_id, { load: 'scheduled' });
    await page.waitForFunction(
      (color) => getComputedStyle(document.querySelector('.node[data-task-id="load"] rect.box')!).stroke === color,
      await cssColor(page, 'tan'),
      { timeout: 10_000 },
    );
    expect(await page.locator('.node[data-task-id="load"] text.state').textContent()).toBe('scheduled');
    await screenshot(page, 'dag-graph');
    await page.context().close();
  });
});

describe('DAG page: runs, code, details, durations', () => {
  it('lists runs with state, type, dates, duration and escaped conf', async () => {
    const page = await pageAs('viewer');
    await page.goto(base('runs'));
    const row = page.locator(`tr[data-run-id="${run3.run_id}"]`);
    const text = await row.textContent();
    expect(text).toContain('running');
    expect(text).toContain('manual');
    expect(text).toContain('2025-02-03 00:00:00');
    expect(text).toContain('"note":"<b>bold</b>"');
    expect(await row.locator('td.conf b').count()).toBe(0);
    expect(await page.locator('tr[data-run-id] form').count()).toBe(0); // Viewer: no actions
    await page.context().close();
  });

  it('shows the DAG file from dag_code highlighted, with <script> in the source as text', async () => {
    const source = `import { DAG } from 'airflow-ts';\n// <script>alert(1)</script>\nconst s = "</script><script>alert(2)</script><img src=x onerror=alert(3)>";\nexport default new DAG({ dagId: '${DAG_ID}' });\n`;
    await knex('dag_code').where('fileloc', dag.fileloc).update({ source_code: source });
    const page = await pageAs('viewer');
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(base('code'));
    expect(await page.locator('pre.code').textContent()).toBe(source);
    expect(await page.locator('pre.code script, pre.code img').count()).toBe(0);
    expect(await page.locator('pre.code .hljs-keyword').count()).toBeGreaterThan(0);
    expect(await page.locator('pre.gutter').textContent()).toBe('1\n2\n3\n4');
    // By the load event every script in the markup has run and every image has loaded or failed (onerror);
    // an alert() would have blocked the page, and been recorded, before it.
    await page.waitForLoadState('load');
    expect(dialogs).toEqual([]);
    await page.context().close();
  });

  it('shows the details: schedule, timetable, params, next run, file, owners, tags, doc, limits, catchup, dates', async () => {
    const page = await pageAs('viewer');
    await page.goto(base('details'));
    const text = (await page.locator('main').textContent())!;
    for (const expected of [
      '@daily',
      'CronDataIntervalTimetable',
      'greeting',
      '"hello"',
      dag.fileloc,
      'airflow',
      'etl',
      'Extracts, transforms and loads',
      'Docs with <b>markup</b> shown as text',
      '2025-01-01 00:00:00',
    ]) {
      expect(text).toContain(expected);
    }
    expect(await page.locator('tr', { hasText: 'Max active runs' }).textContent()).toContain('3');
    expect(await page.locator('tr', { hasText: 'Max active tasks' }).textContent()).toContain('16 (configuration default)');
    expect(await page.locator('tr', { hasText: 'Catchup' }).textContent()).toContain('yes');
    expect(await page.locator('pre.doc b').count()).toBe(0);
    expect(await page.locator('.danger-zone').count()).toBe(0); // Viewer cannot delete
    await page.context().close();
  });

  it('charts run durations (one bar per run) and task durations (a point per task instance with a duration)', async () => {
    const page = await pageAs('viewer');
    await page.goto(base('durations'));
    const runs = await knex('dag_run').where('dag_id', DAG_ID).count({ n: '*' });
    expect(await page.locator('svg.run-durations rect.bar').count()).toBe(Number(runs[0]!.n));
    const withDuration = await knex('task_instance').where('dag_id', DAG_ID).whereNotNull('duration').count({ n: '*' });
    expect(await page.locator('svg.task-durations circle.point').count()).toBe(Number(withDuration[0]!.n));
    expect(await page.locator('svg.task-durations .legend text').allTextContents()).toEqual(dag.tasks.map((t) => t.taskId));
    expect(await page.locator('svg.run-durations .axis.y text').count()).toBeGreaterThan(2);
    // The longest run has the tallest bar.
    const heights = await page.$$eval('svg.run-durations rect.bar', (bars) =>
      Object.fromEntries(bars.map((b) => [(b as SVGElement).dataset.runId, Number(b.getAttribute('height'))])),
    );
    expect(heights[run1.run_id]).toBeGreaterThan(heights[run2.run_id]!);
    await page.goto(`${base('durations')}?num_runs=2`);
    expect(await page.locator('svg.run-durations rect.bar').count()).toBe(2);
    await page.goto(base('durations'));
    await screenshot(page, 'dag-durations');
    await page.context().close();
  });
});

describe('DAG page: actions', () => {
  it('marks a run failed and success, and clears it, after a confirm() dialog (User role)', async () => {
    const run = await trigger();
    await setStates(DAG_ID, run.run_id, { extract: 'success', transform: 'running' });
    await transitionDagRun(knex, run.id, { to: 'running', now: new Date() });
    const page = await pageAs('user');
    const dialogs: string[] = [];
    let accept = false;
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void (accept ? d.accept() : d.dismiss());
    });
    await page.goto(base('runs'));
    expect(await page.getAttribute('a.trigger-link', 'href')).toBe(`/dags/${DAG_ID}/trigger`);
    const row = page.locator(`tr[data-run-id="${run.run_id}"]`);

    const posts: string[] = [];
    page.on('request', (r) => void (r.method() === 'POST' && posts.push(r.url())));

    // Dismissed: nothing happens. The click returns only once the submit handler has run, and confirm()
    // blocks it until the dialog handler has answered.
    await row.getByRole('button', { name: 'Mark failed' }).click();
    expect(dialogs).toEqual([`Mark run ${run.run_id} failed?`]);
    expect((await knex('dag_run').where('id', run.id).first()).state).toBe('running');

    accept = true;
    await Promise.all([page.waitForURL(/done=run_failed/), row.getByRole('button', { name: 'Mark failed' }).click()]);
    // The accepted submit came after the dismissed one: had the dismissed one been sent, it would be here too.
    expect(posts).toHaveLength(1);
    expect(await page.locator('.flash').textContent()).toMatch(/Marked the run failed/);
    expect((await knex('dag_run').where('id', run.id).first()).state).toBe('failed');
    const states = Object.fromEntries(
      (await knex('task_instance').where({ dag_id: DAG_ID, run_id: run.run_id }).select('task_id', 'state')).map((t: { task_id: string; state: string }) => [
        t.task_id,
        t.state,
      ]),
    );
    expect(states).toMatchObject({ extract: 'success', transform: 'failed', load: 'skipped' });

    await Promise.all([page.waitForURL(/done=run_cleared/), page.locator(`tr[data-run-id="${run.run_id}"]`).getByRole('button', { name: 'Clear' }).click()]);
    expect((await knex('dag_run').where('id', run.id).first()).state).toBe('queued');
    expect(await knex('task_instance').where({ dag_id: DAG_ID, run_id: run.run_id }).whereNotNull('state').pluck('task_id')).toEqual([]);

    await Promise.all([
      page.waitForURL(/done=run_success/),
      page.locator(`tr[data-run-id="${run.run_id}"]`).getByRole('button', { name: 'Mark success' }).click(),
    ]);
    expect((await knex('dag_run').where('id', run.id).first()).state).toBe('success');

    // From the grid's run panel, the action returns to the grid.
    await page.goto(`${base('grid')}?run_id=${enc(run.run_id)}`);
    await Promise.all([page.waitForURL(/\/grid\?.*done=run_failed/), page.locator('aside.panel').getByRole('button', { name: 'Mark failed' }).click()]);
    expect((await knex('dag_run').where('id', run.id).first()).state).toBe('failed');
    await page.context().close();
  });

  it('asks on a confirmation page when JavaScript is off', async () => {
    const run = await trigger();
    await setStates(DAG_ID, run.run_id, { extract: 'failed' });
    const page = await pageAs('user', { javaScript: false });
    await page.goto(base('runs'));
    await Promise.all([page.waitForURL(/\/clear$/), page.locator(`tr[data-run-id="${run.run_id}"]`).getByRole('button', { name: 'Clear' }).click()]);
    expect(await page.locator('h1').textContent()).toBe('Clear run');
    expect(await page.locator('ul.affected li').count()).toBe(dag.tasks.length);
    expect((await knex('task_instance').where({ dag_id: DAG_ID, run_id: run.run_id, task_id: 'extract' }).first()).state).toBe('failed');
    await Promise.all([page.waitForURL(/done=run_cleared/), page.getByRole('button', { name: 'Confirm' }).click()]);
    expect((await knex('task_instance').where({ dag_id: DAG_ID, run_id: run.run_id, task_id: 'extract' }).first()).state).toBeNull();
    await page.context().close();
  });

  it('refuses the actions to a Viewer (403) and to a form without the CSRF token', async () => {
    const run = await trigger();
    const page = await pageAs('viewer');
    await page.goto(base('runs'));
    const csrf = await page.getAttribute('meta[name="csrf-token"]', 'content');
    for (const [path, form] of [
      [`runs/${enc(run.run_id)}/mark`, { state: 'failed', confirmed: '1' }],
      [`runs/${enc(run.run_id)}/clear`, { confirmed: '1' }],
      ['delete', { confirm_dag_id: DAG_ID }],
    ] as const) {
      const response = await page.request.post(base(path), { form: { _csrf: csrf!, ...form }, maxRedirects: 0 });
      expect(response.status(), path).toBe(403);
    }
    expect((await knex('dag_run').where('id', run.id).first()).state).toBe('queued');
    expect(await knex('dag').where('dag_id', DAG_ID).first('dag_id')).toBeDefined();

    const user = await pageAs('user');
    const noToken = await user.request.post(base(`runs/${enc(run.run_id)}/mark`), { form: { state: 'failed', confirmed: '1' }, maxRedirects: 0 });
    expect(noToken.status()).toBe(403);
    expect((await knex('dag_run').where('id', run.id).first()).state).toBe('queued');
    await page.context().close();
    await user.context().close();
  });

  it("deletes a DAG's metadata only after the DAG id is typed and confirmed", async () => {
    await registerDag(knex, { dagId: 'ui_delete_me' }, { only: {} });
    const run = await trigger('ui_delete_me');
    const page = await pageAs('user');
    page.on('dialog', (d) => void d.accept());
    await page.goto(base('details', 'ui_delete_me'));
    // A wrong id leads to the confirmation page and deletes nothing.
    await page.fill('input[name=confirm_dag_id]', 'something_else');
    await Promise.all([page.waitForURL(/\/delete$/), page.getByRole('button', { name: 'Delete DAG' }).click()]);
    expect(await page.getByRole('alert').textContent()).toMatch(/does not match/);
    expect(await knex('dag_run').where('id', run.id).first('id')).toBeDefined();

    await page.fill('input[name=confirm_dag_id]', 'ui_delete_me');
    await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.getByRole('button', { name: 'Confirm' }).click()]);
    expect(await knex('dag').where('dag_id', 'ui_delete_me').first('dag_id')).toBeUndefined();
    expect(await knex('dag_run').where('id', run.id).first('id')).toBeUndefined();
    const gone = await page.request.get(base('grid', 'ui_delete_me'));
    expect(gone.status()).toBe(404);
    await page.context().close();
  });
});

describe('DAG page: layout', () => {
  it('fits 1280 px and a 375 px phone without scrolling the whole page sideways', async () => {
    const page = await pageAs('admin');
    await page.goto(`${base('grid')}?run_id=${enc(run3.run_id)}`);
    await screenshot(page, 'dag-grid');
    await page.setViewportSize({ width: 375, height: 800 });
    for (const tab of ['grid', 'graph', 'runs', 'code', 'details', 'durations']) {
      await page.goto(base(tab));
      expect(await page.evaluate(() => document.documentElement.scrollWidth), tab).toBeLessThanOrEqual(375);
      if (tab === 'grid') await screenshot(page, 'dag-grid-phone');
    }
    await page.goto(`${server.url}/dags/${DAG_ID}/runs/${enc(run2.run_id)}/tasks/transform`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.context().close();
  });

  it('answers 404 for an unknown DAG and redirects /dags/{id} to the grid', async () => {
    const page = await pageAs('viewer');
    expect((await page.request.get(base('grid', 'no_such_dag'))).status()).toBe(404);
    await page.goto(`${server.url}/dags/${DAG_ID}`);
    expect(new URL(page.url()).pathname).toBe(`/dags/${DAG_ID}/grid`);
    const json = await (await page.request.get(`${base('grid.json')}?num_runs=3`)).json();
    expect(json.runs.map((r: { run_id: string }) => r.run_id)).toHaveLength(3);
    expect(json.tasks).toEqual(dag.tasks.map((t) => t.taskId));
    await page.context().close();
  });
});
