// Task groups on the DAG page in a real browser: boxes in the graph, collapsible everywhere, text escaped.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot } from '../helpers/browser.ts';
import { base, enc, knex, pageAs, setStates, trigger } from '../helpers/dagPageFixture.ts';
import { registerDag } from '../helpers/dags.ts';

const GROUPS_DAG = 'ui_groups';
const TOOLTIP = 'Pull <script>window.__xss = 1</script> <b>sources</b>';
const dag = await registerDag(
  knex,
  { dagId: GROUPS_DAG, schedule: null },
  {
    start: {},
    orders: { group: 'extract', upstream: ['start'] },
    customers: { group: 'extract', upstream: ['start'] },
    dedupe: { group: 'clean', upstream: ['orders'] },
    validate: { group: 'clean', upstream: ['dedupe'] },
    join: { group: 'transform', upstream: ['validate', 'customers'] },
    load: { upstream: ['join'] },
  },
  {},
  { extract: { tooltip: TOOLTIP }, transform: { tooltip: 'Clean, then join' }, clean: { parent: 'transform' } },
);
const run = await trigger(GROUPS_DAG);
await setStates(GROUPS_DAG, run.run_id, {
  start: 'success',
  'extract.orders': 'success',
  'extract.customers': 'success',
  'transform.clean.dedupe': 'success',
  'transform.clean.validate': 'failed',
  'transform.join': 'upstream_failed',
});

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
const rect = (page: Page, selector: string): Promise<Box> =>
  page.$eval(selector, (el) => ({
    x: Number(el.getAttribute('x')),
    y: Number(el.getAttribute('y')),
    width: Number(el.getAttribute('width')),
    height: Number(el.getAttribute('height')),
  }));
const inside = (inner: Box, outer: Box) =>
  inner.x > outer.x && inner.y > outer.y && inner.x + inner.width < outer.x + outer.width && inner.y + inner.height < outer.y + outer.height;
const taskNodes = (page: Page) => page.$$eval('svg.dag-graph .node[data-task-id]', (ns) => ns.map((n) => (n as SVGElement).dataset.taskId).sort());
const groupNodes = (page: Page) => page.$$eval('svg.dag-graph .group-node', (ns) => ns.map((n) => (n as SVGElement).dataset.groupId).sort());
const edges = (page: Page) =>
  page.$$eval('svg.dag-graph path.edge', (ps) => ps.map((p) => `${(p as SVGElement).dataset.from}>${(p as SVGElement).dataset.to}`).sort());

describe('DAG page: task groups in the graph', () => {
  it('draws open groups as nested boxes around their tasks, labelled, with the tooltip as title, escaped', async () => {
    const page = await pageAs('viewer');
    await page.goto(base('graph', GROUPS_DAG)); // 7 tasks: every group open by default
    expect(await taskNodes(page)).toEqual(dag.tasks.map((t) => t.taskId).sort());
    expect(await page.$$eval('svg.dag-graph g.group', (gs) => gs.map((g) => (g as SVGElement).dataset.groupId))).toEqual([
      'extract',
      'transform',
      'transform.clean',
    ]);
    const box = (groupId: string) => rect(page, `g.group[data-group-id="${groupId}"] rect.group-box`);
    const task = (taskId: string) => rect(page, `.node[data-task-id="${taskId}"] rect.box`);
    expect(inside(await box('transform.clean'), await box('transform'))).toBe(true);
    for (const id of ['transform.clean.dedupe', 'transform.clean.validate']) expect(inside(await task(id), await box('transform.clean')), id).toBe(true);
    expect(inside(await task('transform.join'), await box('transform'))).toBe(true);
    expect(inside(await task('transform.join'), await box('transform.clean'))).toBe(false);
    for (const id of ['extract.orders', 'extract.customers']) expect(inside(await task(id), await box('extract')), id).toBe(true);
    for (const id of ['start', 'load']) {
      for (const g of ['extract', 'transform']) expect(inside(await task(id), await box(g)), `${id} in ${g}`).toBe(false);
    }
    // Edges between tasks, as without groups.
    expect(await edges(page)).toEqual(dag.tasks.flatMap((t) => t.downstreamTaskIds.map((d) => `${t.taskId}>${d}`)).sort());
    // Labels and titles: the tooltip is text, never markup.
    expect(await page.locator('g.group[data-group-id="transform.clean"] text.group-label').textContent()).toBe('▾ clean');
    expect(await page.locator('g.group[data-group-id="extract"] > title').textContent()).toBe(`extract: ${TOOLTIP}`);
    expect(await page.locator('svg.dag-graph script, svg.dag-graph b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await screenshot(page, 'dag-graph-groups');
    await page.context().close();
  });

  it('collapses a group into one node with merged edges and its tasks’ state counts, and expands it again, without JavaScript', async () => {
    const page = await pageAs('viewer', { javaScript: false });
    await page.goto(`${base('graph', GROUPS_DAG)}?run_id=${enc(run.run_id)}`);
    await Promise.all([page.waitForURL(/expand=/), page.click('g.group[data-group-id="transform"] a.group-toggle')]);
    expect(new URL(page.url()).searchParams.get('expand')).toBe('extract,transform.clean');
    expect(new URL(page.url()).searchParams.get('run_id')).toBe(run.run_id);
    expect(await groupNodes(page)).toEqual(['transform']);
    expect(await taskNodes(page)).toEqual(['extract.customers', 'extract.orders', 'load', 'start']);
    expect(await page.locator('g.group').count()).toBe(1); // extract stays open; transform.clean is hidden inside transform
    // One edge per neighbour of the closed group; none inside it.
    expect(await edges(page)).toEqual([
      'extract.customers>transform',
      'extract.orders>transform',
      'start>extract.customers',
      'start>extract.orders',
      'transform>load',
    ]);
    const node = page.locator('.group-node[data-group-id="transform"]');
    expect(await node.locator('text.counts').textContent()).toBe('1 failed · 1 success · 1 upstream_failed');
    expect(await node.locator('text.op').textContent()).toBe('group · 3 tasks');
    expect(await node.locator('title').textContent()).toContain('transform: Clean, then join');

    // Closing the outer group too leaves two boxes joined by one edge; the run picker keeps the state.
    await Promise.all([page.waitForURL(/expand=transform/), page.click('g.group[data-group-id="extract"] a.group-toggle')]);
    expect(await groupNodes(page)).toEqual(['extract', 'transform']);
    expect(await edges(page)).toEqual(['extract>transform', 'start>extract', 'transform>load']);
    expect(await page.$eval('form.toolbar input[name=expand]', (i) => (i as HTMLInputElement).value)).toBe('transform.clean');
    await screenshot(page, 'dag-graph-groups-closed');

    // Clicking the closed node opens it, nested group included.
    await Promise.all([page.waitForURL(/expand=transform(%2C|,)transform\.clean/), page.click('.group-node[data-group-id="transform"]')]);
    expect(await groupNodes(page)).toEqual(['extract']);
    expect(await taskNodes(page)).toContain('transform.clean.validate');
    expect(await page.locator('g.group[data-group-id="transform.clean"]').count()).toBe(1);
    await page.context().close();
  });

  it("recounts a closed group's states while its run is active", async () => {
    const active = await trigger(GROUPS_DAG);
    const page = await pageAs('viewer');
    await page.goto(`${base('graph', GROUPS_DAG)}?run_id=${enc(active.run_id)}&expand=extract`);
    const counts = page.locator('.group-node[data-group-id="transform"] text.counts');
    expect(await counts.textContent()).toBe('3 none');
    await setStates(GROUPS_DAG, active.run_id, { 'transform.clean.dedupe': 'scheduled' });
    await page.waitForFunction(
      () => document.querySelector('.group-node[data-group-id="transform"] text.counts')?.textContent === '2 none · 1 scheduled',
      null,
      {
        timeout: 10_000,
      },
    );
    await page.context().close();
  });

  it('opens a DAG of more than 30 tasks with its groups closed; ?expand= opens the ones named', async () => {
    const tasks: Record<string, { group?: string; upstream?: string[] }> = { begin: {} };
    for (let i = 0; i < 20; i++) tasks[`a${i}`] = { group: 'first', upstream: ['begin'] };
    for (let i = 0; i < 12; i++) tasks[`b${i}`] = { group: 'second', upstream: ['a0'] };
    await registerDag(knex, { dagId: 'ui_groups_big', schedule: null }, tasks, {}, { first: {}, second: {} });
    const page = await pageAs('viewer');
    await page.goto(base('graph', 'ui_groups_big'));
    expect(await groupNodes(page)).toEqual(['first', 'second']);
    expect(await taskNodes(page)).toEqual(['begin']);
    expect(await edges(page)).toEqual(['begin>first', 'first>second']);
    await page.goto(`${base('graph', 'ui_groups_big')}?expand=second`);
    expect(await groupNodes(page)).toEqual(['first']);
    expect((await taskNodes(page)).filter((id) => id?.startsWith('second.'))).toHaveLength(12);
    expect(await edges(page)).toContain('first>second.b5');
    await page.context().close();
  });
});

const rowIds = (page: Page) =>
  page.$$eval('table.grid tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.taskId ?? `[${(tr as HTMLElement).dataset.groupId}]`));
const indentOf = (page: Page, selector: string) => page.$eval(selector, (th) => parseFloat(getComputedStyle(th).paddingLeft));

describe('DAG page: task groups in the grid', () => {
  it('shows a group as a row with the worst state of its tasks per run, its tasks indented below, and collapses it without JavaScript', async () => {
    const page = await pageAs('viewer', { javaScript: false });
    await page.goto(`${base('grid', GROUPS_DAG)}?run_id=${enc(run.run_id)}`);
    expect(await rowIds(page)).toEqual([
      'start',
      '[extract]',
      'extract.orders',
      'extract.customers',
      '[transform]',
      '[transform.clean]',
      'transform.clean.dedupe',
      'transform.clean.validate',
      'transform.join',
      'load',
    ]);
    const th = (row: string) => `table.grid tbody tr[${row.startsWith('[') ? `data-group-id="${row.slice(1, -1)}"` : `data-task-id="${row}"`}] th`;
    expect(await indentOf(page, th('[transform.clean]'))).toBeGreaterThan(await indentOf(page, th('[transform]')));
    expect(await indentOf(page, th('transform.clean.dedupe'))).toBeGreaterThan(await indentOf(page, th('[transform.clean]')));
    expect(await indentOf(page, th('transform.join'))).toBe(await indentOf(page, th('[transform.clean]')));

    // The group's square in the selected run: failed beats upstream_failed and success (Airflow's state priority).
    const column = (await page.$$eval('table.grid tr.bars th[data-run-id]', (ths) => ths.map((t) => (t as HTMLElement).dataset.runId))).indexOf(run.run_id);
    const groupState = (groupId: string) =>
      page.$eval(`tr[data-group-id="${groupId}"] td:nth-of-type(${column + 1}) span.sq`, (el) => [
        (el as HTMLElement).dataset.state,
        getComputedStyle(el).backgroundColor,
      ]);
    const red = await page.evaluate(() => {
      const probe = document.createElement('div');
      probe.style.background = 'red';
      document.body.append(probe);
      return getComputedStyle(probe).backgroundColor;
    });
    expect(await groupState('transform')).toEqual(['failed', red]);
    expect((await groupState('transform.clean'))[0]).toBe('failed');
    expect((await groupState('extract'))[0]).toBe('success');
    // Tooltip as the row's title, as text.
    expect(await page.getAttribute(th('[extract]'), 'title')).toBe(`extract: ${TOOLTIP} (2 tasks)`);
    expect(await page.locator('table.grid script, table.grid b').count()).toBe(0);

    await Promise.all([page.waitForURL(/expand=/), page.click('tr[data-group-id="transform"] a.group-toggle')]);
    expect(await rowIds(page)).toEqual(['start', '[extract]', 'extract.orders', 'extract.customers', '[transform]', 'load']);
    expect(await page.locator('tr[data-group-id="transform"] a.group-toggle').textContent()).toBe('▸ transform');
    expect(await page.getAttribute('tr[data-group-id="transform"] a.group-toggle', 'aria-expanded')).toBe('false');
    expect((await groupState('transform'))[0]).toBe('failed'); // still aggregated while closed
    expect(new URL(page.url()).searchParams.get('run_id')).toBe(run.run_id);
    await Promise.all([page.waitForURL(/expand=.*transform(,|%2C)/), page.click('tr[data-group-id="transform"] a.group-toggle')]);
    expect(await rowIds(page)).toContain('transform.clean.validate');
    await page.context().close();
  });

  it("recolours a group's square while its run is active, keeping the open groups", async () => {
    const active = await trigger(GROUPS_DAG);
    const page = await pageAs('viewer');
    await page.goto(`${base('grid', GROUPS_DAG)}?expand=transform`);
    expect(await rowIds(page)).toEqual(['start', '[extract]', '[transform]', '[transform.clean]', 'transform.join', 'load']);
    const square = `tr[data-group-id="transform.clean"] td:last-child span.sq`;
    expect(await page.getAttribute(square, 'data-state')).toBe('none');
    await setStates(GROUPS_DAG, active.run_id, { 'transform.clean.dedupe': 'running' });
    await page.waitForFunction((sel) => (document.querySelector(sel) as HTMLElement | null)?.dataset.state === 'running', square, { timeout: 10_000 });
    expect(await page.getAttribute(`tr[data-group-id="transform"] td:last-child span.sq`, 'data-state')).toBe('running');
    expect(await rowIds(page)).toEqual(['start', '[extract]', '[transform]', '[transform.clean]', 'transform.join', 'load']);
    await screenshot(page, 'dag-grid-groups');
    await page.context().close();
  });
});
