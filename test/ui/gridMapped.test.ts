// A mapped task in the DAG page's grid, in a real browser: one row, marked "[ ]"; per run one square with the
// worst state of its instances and their counts per state as title; kept current by the page's polling.
import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { serializeDag } from '../../core/serialize.ts';
import type { TiState } from '../../core/state.ts';
import { recordParsedFile } from '../../db/dagFileRecords.ts';
import { expandTaskInstance } from '../../db/models/taskInstance.ts';
import { transitionTaskInstances } from '../../db/transitions.ts';
import type { DagRunRow } from '../../db/rows.ts';
import { task } from '../../operators/taskflow.ts';
import { loadGrid } from '../../webserver/ui/gridModel.ts';
import { eventually } from '../helpers/eventually.ts';
import { base, enc, knex, PATHS, pageAs, runState, server, setStates, trigger } from '../helpers/dagPageFixture.ts';

const MAPPED_DAG = 'ui_mapped';
const dag = new DAG({ dagId: MAPPED_DAG, schedule: null });
const list = task({ dag }, function list() {
  return [1, 2, 3, 4];
});
const embed = task({ dag }, function embed(x: number) {
  return x;
});
embed.expand(list());
const serialized = { ...serializeDag(dag), fileloc: `/virtual/${MAPPED_DAG}.ts` };
await recordParsedFile(knex, {
  file: serialized.fileloc,
  dags: [serialized],
  source: '// test',
  parsedAt: new Date(),
  pausedAtCreation: false,
  catchupByDefault: true,
});

/** Expands `embed` in the run (as the scheduler does) and moves its instances, by map index, to `states`. */
async function expandInto(run: DagRunRow, states: string[]): Promise<number[]> {
  const ti = await knex('task_instance').where({ dag_id: MAPPED_DAG, run_id: run.run_id, task_id: 'embed', map_index: -1 }).first('id');
  const ids = await knex.transaction((trx) => expandTaskInstance(trx, ti.id, states.length, new Date()));
  for (const [i, state] of states.entries())
    for (const to of PATHS[state]!) await transitionTaskInstances(knex, [ids[i]!], { to: to as TiState, now: new Date() });
  return ids;
}

const done = await trigger(MAPPED_DAG);
await setStates(MAPPED_DAG, done.run_id, { list: 'success' });
await expandInto(done, ['success', 'failed', 'success', 'success']);
await runState(done, 'failed');
const unexpanded = await trigger(MAPPED_DAG);
await setStates(MAPPED_DAG, unexpanded.run_id, { list: 'failed', embed: 'upstream_failed' });
await runState(unexpanded, 'failed');

const square = (runId: string) => `tr[data-task-id="embed"] a.sq[href="/dags/${MAPPED_DAG}/runs/${enc(runId)}/tasks/embed"]`;

describe('DAG page: a mapped task in the grid', () => {
  it("shows one row marked [ ], and per run a square with its instances' worst state and counts per state", async () => {
    const page = await pageAs('viewer');
    await page.goto(base('grid', MAPPED_DAG));
    expect(await page.$$eval('tr[data-task-id="embed"]', (rows) => rows.length)).toBe(1);
    expect(await page.$eval('tr[data-task-id="embed"] th .mapped-mark', (el) => el.textContent)).toBe('[ ]');
    expect(await page.$eval('tr[data-task-id="list"] th', (el) => el.querySelector('.mapped-mark'))).toBeNull();
    const expanded = await page.$eval(square(done.run_id), (el) => [el.getAttribute('data-state'), el.getAttribute('title')]);
    expect(expanded).toEqual(['failed', 'embed · 1 failed · 3 success']);
    // Not expanded (its upstream failed): its map index -1 instance, as for any task.
    const single = await page.$eval(square(unexpanded.run_id), (el) => [el.getAttribute('data-state'), el.getAttribute('title')]);
    expect(single[0]).toBe('upstream_failed');
    expect(single[1]).toMatch(/^embed · upstream_failed · /); // its duration follows, as for any task
    // The graph's node takes the same worst state.
    const states = await page.evaluate((url) => fetch(url).then((r) => r.json()), `${base('graph.json', MAPPED_DAG)}?run_id=${enc(done.run_id)}`);
    expect(states.states).toEqual({ list: 'success', embed: 'failed' });
    await page.context().close();
  });

  it("keeps a mapped square's state and counts current while the run goes on (the page's polling)", async () => {
    const run = await trigger(MAPPED_DAG);
    await setStates(MAPPED_DAG, run.run_id, { list: 'success' });
    const ids = await expandInto(run, ['running', 'running', 'success']);
    await runState(run, 'running');
    const page = await pageAs('viewer');
    await page.goto(base('grid', MAPPED_DAG));
    const shown = () => page.$eval(square(run.run_id), (el) => `${el.getAttribute('data-state')} | ${el.getAttribute('title')}`);
    expect(await shown()).toBe('running | embed · 2 running · 1 success');
    await transitionTaskInstances(knex, [ids[0]!], { to: 'failed', now: new Date() });
    await eventually('the square to show the failed instance', async () => (await shown()) === 'failed | embed · 1 failed · 1 running · 1 success');
    await transitionTaskInstances(knex, [ids[1]!], { to: 'success', now: new Date() });
    await eventually('the square to count the new success', async () => (await shown()) === 'failed | embed · 1 failed · 2 success');
    await page.context().close();
  });

  it("the square leads to the task's mapped instances (map index, state, duration), each to its own page and log; bad map_index is a clear 400", async () => {
    const page = await pageAs('viewer');
    await page.goto(base('grid', MAPPED_DAG));
    await page.click(square(done.run_id));
    await page.waitForSelector('table.mapped-tis');
    const rows = await page.$$eval('table.mapped-tis tbody tr', (trs) =>
      trs.map((tr) =>
        Array.from(tr.querySelectorAll('td'))
          .slice(0, 2)
          .map((td) => td.textContent!.trim()),
      ),
    );
    expect(rows).toEqual([
      ['0', 'success'],
      ['1', 'failed'],
      ['2', 'success'],
      ['3', 'success'],
    ]);
    await page.click('tr[data-map-index="1"] td a');
    await page.waitForSelector('h1');
    expect(page.url()).toBe(`${server.url}/dags/${MAPPED_DAG}/runs/${enc(done.run_id)}/tasks/embed?map_index=1`);
    expect(await page.$eval('h1', (el) => el.textContent!.replace(/\s+/g, ' ').trim())).toBe('Task embed [1]');
    expect(await page.$eval('#ti-state', (el) => el.textContent)).toBe('failed');
    // The try tabs and the log poll stay on this instance.
    expect(await page.$eval('#log-text', (el) => el.getAttribute('data-url'))).toBe(
      `/dags/${MAPPED_DAG}/runs/${enc(done.run_id)}/tasks/embed/log.json?map_index=1&try=1`,
    );
    const log = await page.evaluate(
      (url) => fetch(url).then((r) => r.json()),
      `/dags/${MAPPED_DAG}/runs/${enc(done.run_id)}/tasks/embed/log.json?map_index=1&try=1`,
    );
    expect(log.state).toBe('failed');
    const bad = await page.goto(`${server.url}/dags/${MAPPED_DAG}/runs/${enc(done.run_id)}/tasks/embed?map_index=x%3Cb%3E`);
    expect(bad!.status()).toBe(400);
    expect(await page.textContent('body')).toContain('map_index must be -1 or a map index');
    const missing = await page.goto(`${server.url}/dags/${MAPPED_DAG}/runs/${enc(done.run_id)}/tasks/embed?map_index=9`);
    expect(missing!.status()).toBe(404);
    await page.context().close();
  });

  it('counts the instances in SQL: the grid stays two queries and one cell per mapped task whatever the fan-out', async () => {
    const big = await trigger(MAPPED_DAG);
    await setStates(MAPPED_DAG, big.run_id, { list: 'success' });
    await expandInto(big, [...Array.from({ length: 498 }, () => 'success'), 'failed', 'running']);
    const queries: string[] = [];
    const count = (q: { sql: string }) => queries.push(q.sql);
    knex.on('query', count);
    const grid = await loadGrid(knex, serialized, 25, new Date()).finally(() => knex.off('query', count));
    expect(queries).toHaveLength(2);
    const cell = grid.rows.find((r) => r.taskId === 'embed')!.cells[grid.runs.findIndex((r) => r.runId === big.run_id)]!;
    expect([cell.state, cell.mapped?.total, cell.mapped?.text]).toEqual(['failed', 500, '1 failed · 1 running · 498 success']);
  });
});
