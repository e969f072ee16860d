// The DAG page's runs, code, details and durations tabs and its run actions, in a real browser.
import { describe, expect, it } from 'vitest';
import { transitionDagRun } from '../../db/transitions.ts';
import { screenshot } from '../helpers/browser.ts';
import { registerDag } from '../helpers/dags.ts';
import { DAG_ID, base, dag, enc, knex, pageAs, run1, run2, run3, setStates, trigger } from '../helpers/dagPageFixture.ts';

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
