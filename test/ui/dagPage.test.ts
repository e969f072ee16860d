// The DAG page's grid, graph and layout in a real browser; its other tabs and actions are in dagPageTabs.test.ts.
import { describe, expect, it } from 'vitest';
import { transitionDagRun, transitionTaskInstances } from '../../db/transitions.ts';
import type { DagRunRow } from '../../db/rows.ts';
import { screenshot } from '../helpers/browser.ts';
import { registerDag } from '../helpers/dags.ts';
import {
  DAG_ID,
  base,
  cssColor,
  dag,
  enc,
  knex,
  pageAs,
  run1,
  run2,
  run3,
  server,
  setStates,
  squareColor,
  squareSelector,
  trigger,
} from '../helpers/dagPageFixture.ts';

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
