// Mapped tasks in the UI, in a real browser: clear and mark on one mapped instance's page act on that instance, on
// the mapped task's page on all its instances; the graph marks a mapped task with its instance count in the shown
// run; the mapped-instances list pages through more than 1,000 instances, reading one page from the database.
import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { serializeDag } from '../../core/serialize.ts';
import type { TiState } from '../../core/state.ts';
import { recordParsedFile } from '../../db/dagFileRecords.ts';
import { mappedTaskInstances } from '../../db/models/mappedTaskInstances.ts';
import { expandTaskInstance } from '../../db/models/taskInstance.ts';
import { transitionTaskInstances } from '../../db/transitions.ts';
import type { DagRunRow } from '../../db/rows.ts';
import { task } from '../../operators/taskflow.ts';
import { eventually } from '../helpers/eventually.ts';
import { base, enc, knex, PATHS, pageAs, runState, server, setStates, trigger } from '../helpers/dagPageFixture.ts';

const DAG_ID = 'ui_mapped_pages';
const dag = new DAG({ dagId: DAG_ID, schedule: null });
const list = task({ dag }, function list() {
  return [1, 2, 3, 4];
});
const embed = task({ dag }, function embed(x: number) {
  return x;
});
const total = task({ dag }, function total(xs: number[]) {
  return xs.length;
});
total(embed.expand(list()));
const serialized = { ...serializeDag(dag), fileloc: `/virtual/${DAG_ID}.ts` };
await recordParsedFile(knex, {
  file: serialized.fileloc,
  dags: [serialized],
  source: '// test',
  parsedAt: new Date(),
  pausedAtCreation: false,
  catchupByDefault: true,
});

/** Expands `embed` in the run (as the scheduler does) and moves its instances, by map index, to `states`. */
async function expandInto(run: DagRunRow, states: string[]): Promise<void> {
  const ti = await knex('task_instance').where({ dag_id: DAG_ID, run_id: run.run_id, task_id: 'embed', map_index: -1 }).first('id');
  const ids = await knex.transaction((trx) => expandTaskInstance(trx, ti.id, states.length, new Date()));
  const byState = new Map<string, number[]>();
  for (const [i, state] of states.entries()) byState.set(state, [...(byState.get(state) ?? []), ids[i]!]);
  for (const [state, group] of byState) for (const to of PATHS[state]!) await transitionTaskInstances(knex, group, { to: to as TiState, now: new Date() });
}

async function embedStates(run: DagRunRow): Promise<(string | null)[]> {
  const rows = await knex('task_instance').where({ dag_id: DAG_ID, run_id: run.run_id, task_id: 'embed' }).orderBy('map_index').select('state');
  return rows.map((r: { state: string | null }) => r.state);
}

const tiUrl = (run: DagRunRow, suffix = '') => `${server.url}/dags/${DAG_ID}/runs/${enc(run.run_id)}/tasks/embed${suffix}`;

describe('UI: a mapped task', () => {
  it("on one instance's page, clear and mark act on that map index only (the upstream_failed reduce is resumed)", async () => {
    const run = await trigger(DAG_ID);
    await setStates(DAG_ID, run.run_id, { list: 'success', total: 'upstream_failed' });
    await expandInto(run, ['success', 'failed', 'success', 'success']);
    await runState(run, 'failed');
    const page = await pageAs('user');
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await page.goto(tiUrl(run, '?map_index=1'));
    expect(await page.textContent('.ti-actions-scope')).toBe("These act on map index 1 only; the mapped task's page acts on all its instances.");
    expect(await page.textContent('main')).not.toContain('through the REST API');

    await Promise.all([page.waitForURL(/done=ti_success/), page.getByRole('button', { name: 'Mark success' }).click()]);
    expect(dialogs.at(-1)).toBe(`Mark instance [1] of task embed in run ${run.run_id} success?`);
    expect(page.url()).toContain('?map_index=1&done=ti_success&count=1');
    expect(await page.locator('.flash').textContent()).toMatch(/Marked 1 task instance\(s\) success/);
    expect(await embedStates(run)).toEqual(['success', 'success', 'success', 'success']);
    const reduce = await knex('task_instance').where({ dag_id: DAG_ID, run_id: run.run_id, task_id: 'total' }).first('state');
    expect(reduce.state).toBeNull(); // cleared so the run resumes, as Airflow's mark success does

    await page.goto(tiUrl(run, '?map_index=2'));
    await Promise.all([page.waitForURL(/done=ti_failed/), page.getByRole('button', { name: 'Mark failed' }).click()]);
    expect(await embedStates(run)).toEqual(['success', 'success', 'failed', 'success']);
    await Promise.all([page.waitForURL(/done=ti_cleared/), page.getByRole('button', { name: 'Clear' }).click()]);
    expect(dialogs.at(-1)).toBe(`Clear instance [2] of task embed in run ${run.run_id} so it runs again?`);
    expect(await page.locator('.flash').textContent()).toMatch(/Cleared 1 task instance/);
    expect(await embedStates(run)).toEqual(['success', 'success', null, 'success']);
    await page.context().close();
  });

  it('without JavaScript, the confirmation lists the one instance, labelled with its map index, and downstream tasks', async () => {
    const run = await trigger(DAG_ID);
    await setStates(DAG_ID, run.run_id, { list: 'success', total: 'upstream_failed' });
    await expandInto(run, ['success', 'failed', 'success']);
    const page = await pageAs('user', { javaScript: false });
    await page.goto(tiUrl(run, '?map_index=1'));
    await page.locator('form[action$="/clear"] input[name=downstream]').check();
    await Promise.all([page.waitForURL(/\/clear$/), page.getByRole('button', { name: 'Clear' }).click()]);
    expect(await page.locator('ul.affected li').allTextContents()).toEqual(['embed [1] failed', 'total upstream_failed']);
    await Promise.all([page.waitForURL(/done=ti_cleared/), page.getByRole('button', { name: 'Confirm' }).click()]);
    expect(page.url()).toContain('/tasks/embed?map_index=1&done=ti_cleared&count=2');
    expect(await embedStates(run)).toEqual(['success', null, 'success']);
    await page.context().close();
  });

  it("on the mapped task's page, clear and mark act on all its instances", async () => {
    const run = await trigger(DAG_ID);
    await setStates(DAG_ID, run.run_id, { list: 'success' });
    await expandInto(run, ['success', 'failed', 'running', 'success', 'up_for_retry']);
    await runState(run, 'running');
    const page = await pageAs('user');
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await page.goto(tiUrl(run));
    expect(await page.textContent('h1')).toMatch(/embed\s+\[5\]/);
    expect(await page.textContent('.ti-actions-scope')).toBe("These act on all 5 instances of embed; an instance's own page acts on it alone.");
    await Promise.all([page.waitForURL(/done=ti_failed/), page.getByRole('button', { name: 'Mark failed' }).click()]);
    expect(dialogs.at(-1)).toBe(`Mark all 5 instances of task embed in run ${run.run_id} failed?`);
    expect(await page.locator('.flash').textContent()).toMatch(/Marked 4 task instance\(s\) failed/); // one was already failed
    expect(await embedStates(run)).toEqual(['failed', 'failed', 'failed', 'failed', 'failed']);
    await Promise.all([page.waitForURL(/done=ti_cleared/), page.getByRole('button', { name: 'Clear' }).click()]);
    expect(await page.locator('.flash').textContent()).toMatch(/Cleared 5 task instance/);
    expect(await embedStates(run)).toEqual([null, null, null, null, null]);
    // A Viewer sees no actions.
    const viewer = await pageAs('viewer');
    await viewer.goto(tiUrl(run));
    expect(await viewer.locator('main form[method=post]').count()).toBe(0);
    await viewer.context().close();
    await page.context().close();
  });

  it('refuses a garbled map_index with 400 and changes nothing (it is never read as "all instances")', async () => {
    const run = await trigger(DAG_ID);
    await setStates(DAG_ID, run.run_id, { list: 'success' });
    await expandInto(run, ['failed', 'failed']);
    const page = await pageAs('user');
    await page.goto(tiUrl(run, '?map_index=0'));
    const csrf = await page.getAttribute('meta[name="csrf-token"]', 'content');
    for (const [action, form] of [
      ['mark', { state: 'success', confirmed: '1', map_index: '0; drop' }],
      ['clear', { confirmed: '1', map_index: '-2' }],
    ] as const) {
      const response = await page.request.post(tiUrl(run, `/${action}`), { form: { _csrf: csrf!, ...form }, maxRedirects: 0 });
      expect(response.status(), action).toBe(400);
      expect(await response.text()).toContain('map_index must be -1 or a map index');
    }
    expect(await embedStates(run)).toEqual(['failed', 'failed']);
    await page.context().close();
  });

  it('the graph marks a mapped task with its instance count in the shown run, [ ] before it expands, and updates it while the run goes on', async () => {
    const expanded = await trigger(DAG_ID);
    await setStates(DAG_ID, expanded.run_id, { list: 'success' });
    await expandInto(
      expanded,
      Array.from({ length: 8 }, () => 'success'),
    );
    await runState(expanded, 'success');
    const page = await pageAs('viewer');
    const mark = () => page.$eval('.node[data-task-id="embed"] .mapped-count', (el) => el.textContent!.trim());
    await page.goto(`${base('graph', DAG_ID)}?run_id=${enc(expanded.run_id)}`);
    expect(await mark()).toBe('[8]');
    expect(await page.$eval('.node[data-task-id="list"] text.task-id', (el) => el.querySelector('.mapped-count'))).toBeNull();

    const later = await trigger(DAG_ID);
    await runState(later, 'running');
    await page.goto(`${base('graph', DAG_ID)}?run_id=${enc(later.run_id)}`);
    expect(await mark()).toBe('[ ]');
    await setStates(DAG_ID, later.run_id, { list: 'success' });
    await expandInto(later, ['running', 'running', 'success']);
    await eventually('the graph to show the new count', async () => (await mark()) === '[3]');
    await page.context().close();
  });

  it('pages past 1,000 instances: 100 a page from one index range read, the last page reachable by its link', async () => {
    const run = await trigger(DAG_ID);
    await setStates(DAG_ID, run.run_id, { list: 'success' });
    await expandInto(
      run,
      Array.from({ length: 1050 }, (_, i) => (i === 1042 ? 'failed' : 'success')),
    );
    await runState(run, 'failed');
    const page = await pageAs('viewer');
    await page.goto(tiUrl(run));
    const indexes = () => page.$$eval('table.mapped-tis tbody tr', (trs) => trs.map((tr) => Number(tr.getAttribute('data-map-index'))));
    expect(await indexes()).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(await page.locator('.list-page-info').first().textContent()).toMatch(/Showing 1–100 of 1050 mapped instances/);
    await Promise.all([page.waitForURL(/page=11$/), page.locator('.list-pages a', { hasText: '11' }).first().click()]);
    expect(await indexes()).toEqual(Array.from({ length: 50 }, (_, i) => 1000 + i));
    expect(await page.$eval('tr[data-map-index="1042"] .state-badge', (el) => el.textContent)).toBe('failed');
    await page.goto(`${tiUrl(run)}?page=999`); // past the end: the last page
    expect(await indexes()).toEqual(Array.from({ length: 50 }, (_, i) => 1000 + i));
    await page.context().close();

    // The page's query is a range of the unique index, in its order: no sort, no scan of other tasks' rows. (With this
    // small table the planner rightly prefers a sequential scan; turned off, what is left shows the index serves it.)
    const query = mappedTaskInstances(knex, { dagId: DAG_ID, runId: run.run_id, taskId: 'embed' }).orderBy('map_index').limit(100).offset(1000).select('*');
    const { sql, bindings } = query.toSQL();
    const plan = await knex.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      await trx.raw('SET LOCAL enable_bitmapscan = off');
      return JSON.stringify((await trx.raw(`EXPLAIN (FORMAT JSON) ${sql}`, bindings)).rows[0]['QUERY PLAN']);
    });
    expect(plan).toContain('task_instance_dag_id_run_id_task_id_map_index_unique');
    expect(plan).not.toContain('"Sort"');
  });
});
