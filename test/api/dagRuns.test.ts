import { describe, expect, it } from 'vitest';
import { Param } from '../../core/param.ts';
import type { TiState } from '../../core/state.ts';
import { transitionTaskInstance } from '../../db/transitions.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
const CHAIN = { extract: {}, transform: { upstream: ['extract'] }, load: { upstream: ['transform'] } };
await registerDag(db.knex, { dagId: 'etl', schedule: '@daily', startDate: new Date('2025-01-01T00:00:00Z') }, CHAIN, { paused: true });
await registerDag(db.knex, { dagId: 'greeter', params: { greeting: new Param('hi', { type: 'string', minLength: 2 }) } }, { say: {} }, { paused: true });
const api = await startTestApi(db.knex, config);

const day = (d: number) => new Date(Date.UTC(2025, 0, d));
const trigger = (dagId: string, runId: string, logicalDate: Date) => triggerDagRun(db.knex, { dagId, runId, logicalDate, now: new Date() });
const enc = encodeURIComponent;

/** Moves task instances along the way the scheduler and runner would. */
const PATHS: Record<string, TiState[]> = {
  scheduled: ['scheduled'],
  queued: ['scheduled', 'queued'],
  running: ['scheduled', 'queued', 'running'],
  success: ['scheduled', 'queued', 'running', 'success'],
  failed: ['scheduled', 'queued', 'running', 'failed'],
  upstream_failed: ['upstream_failed'],
  skipped: ['skipped'],
};
async function putStates(dagId: string, runId: string, states: Record<string, string>) {
  for (const [taskId, state] of Object.entries(states)) {
    const ti = await db.knex('task_instance').where({ dag_id: dagId, run_id: runId, task_id: taskId }).first('id');
    for (const step of PATHS[state]!) await transitionTaskInstance(db.knex, ti.id, { to: step, now: new Date() });
  }
}
async function statesOf(dagId: string, runId: string) {
  const rows: { task_id: string; state: string | null }[] = await db.knex('task_instance').where({ dag_id: dagId, run_id: runId }).select('task_id', 'state');
  return Object.fromEntries(rows.map((r) => [r.task_id, r.state]));
}

await trigger('etl', 'run_1', day(1));
await trigger('etl', 'run_2', day(2));
await trigger('etl', 'run_3', day(3));
await trigger('greeter', 'g_1', day(1));
await putStates('etl', 'run_1', { extract: 'success', transform: 'success', load: 'success' });

describe('REST API: POST /dags/{dag_id}/dagRuns', () => {
  it("triggers a run and returns Airflow's DAGRun fields", async () => {
    const response = await api.call('POST', '/dags/greeter/dagRuns', {
      as: 'User',
      body: { dag_run_id: 'api_run', logical_date: '2025-03-01T12:00:00+02:00', conf: { greeting: 'hello' }, note: 'from the API' },
    });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      dag_run_id: 'api_run',
      dag_id: 'greeter',
      logical_date: '2025-03-01T10:00:00.000+00:00',
      execution_date: '2025-03-01T10:00:00.000+00:00',
      start_date: null,
      end_date: null,
      data_interval_start: expect.any(String),
      data_interval_end: expect.any(String),
      last_scheduling_decision: null,
      run_type: 'manual',
      state: 'queued',
      external_trigger: true,
      conf: { greeting: 'hello' },
      note: 'from the API',
    });
    expect(await statesOf('greeter', 'api_run')).toEqual({ say: null });
  });

  it('defaults the run id to manual__<logical date>, and accepts execution_date', async () => {
    const response = await api.call('POST', '/dags/greeter/dagRuns', { body: { execution_date: '2025-04-01T00:00:00Z' } });
    expect(response.json).toMatchObject({ dag_run_id: 'manual__2025-04-01T00:00:00+00:00', logical_date: '2025-04-01T00:00:00.000+00:00', conf: {} });
    const now = await api.call('POST', '/dags/greeter/dagRuns', { body: {} });
    expect(now.json.dag_run_id).toMatch(/^manual__\d{4}-/);
  });

  it('409 for a duplicate run id or logical date; 400 for bad conf and bad bodies; 404 for an unknown DAG', async () => {
    const duplicateId = await api.call('POST', '/dags/greeter/dagRuns', { body: { dag_run_id: 'g_1', logical_date: '2026-01-01T00:00:00Z' } });
    expect(duplicateId.json).toMatchObject({ status: 409, title: 'Conflict', type: expect.stringMatching(/AlreadyExists$/) });
    expect((await api.call('POST', '/dags/greeter/dagRuns', { body: { dag_run_id: 'other', logical_date: '2025-01-01T00:00:00Z' } })).status).toBe(409);
    const badConf = await api.call('POST', '/dags/greeter/dagRuns', { body: { conf: { greeting: 'x' } } });
    expect(badConf.json).toMatchObject({ status: 400, detail: expect.stringMatching(/greeting/) });
    expect((await api.call('POST', '/dags/greeter/dagRuns', { body: { conf: [1] } })).status).toBe(400);
    expect((await api.call('POST', '/dags/greeter/dagRuns', { body: { logical_date: 'yesterday' } })).status).toBe(400);
    expect((await api.call('POST', '/dags/greeter/dagRuns', { body: { logical_date: '2025-02-30T00:00:00Z' } })).status).toBe(400);
    expect(
      (await api.call('POST', '/dags/greeter/dagRuns', { body: { logical_date: '2025-05-01T00:00:00Z', execution_date: '2025-05-02T00:00:00Z' } })).status,
    ).toBe(400);
    expect((await api.call('POST', '/dags/greeter/dagRuns', { body: { dag_run_id: 'has/slash' } })).status).toBe(400);
    expect((await api.call('POST', '/dags/greeter/dagRuns', { body: { dag_run_id: '~' } })).status).toBe(400);
    expect((await api.call('POST', '/dags/greeter/dagRuns', { body: { state: 'success' } })).status).toBe(400);
    expect((await api.call('POST', '/dags/greeter/dagRuns', { body: { data_interval_start: '2025-01-01T00:00:00Z' } })).json.detail).toMatch(/data_interval/);
    // What Postgres cannot store is refused up front, never a 500.
    expect((await api.call('POST', '/dags/greeter/dagRuns', { body: { note: 'a\u0000b' } })).status).toBe(400);
    expect((await api.call('POST', '/dags/greeter/dagRuns', { body: { conf: { greeting: 'hi', x: ['\u0000'] } } })).json.detail).toMatch(/NUL/);
    expect((await api.call('POST', '/dags/greeter/dagRuns', { rawBody: '{"conf":{"\\ud800":1}}' })).json.detail).toMatch(/surrogate/);
    expect((await api.call('POST', '/dags/greeter/dagRuns', { rawBody: `{"conf":{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}}` })).json.detail).toMatch(
      /nested/,
    );
    expect((await api.call('GET', '/dags/greeter/dagRuns/%00')).status).toBe(400);
    expect((await api.call('POST', '/dags/nope/dagRuns', { body: {} })).status).toBe(404);
    expect((await api.call('POST', '/dags/greeter/dagRuns', { as: 'Viewer', body: {} })).status).toBe(403);
    expect((await api.call('POST', '/dags/greeter/dagRuns', { as: null, body: {} })).status).toBe(401);
  });
});

describe('REST API: listing dag runs', () => {
  it("lists a DAG's runs with total_entries, paging and ordering", async () => {
    const all = await api.call('GET', '/dags/etl/dagRuns', { as: 'Viewer' });
    expect(all.status).toBe(200);
    expect(all.json.total_entries).toBe(3);
    expect(all.json.dag_runs.map((r: { dag_run_id: string }) => r.dag_run_id)).toEqual(['run_1', 'run_2', 'run_3']);
    const page = await api.call('GET', '/dags/etl/dagRuns?limit=1&offset=1&order_by=-execution_date');
    expect(page.json).toMatchObject({ total_entries: 3, dag_runs: [{ dag_run_id: 'run_2' }] });
    expect((await api.call('GET', '/dags/etl/dagRuns?order_by=-dag_run_id&limit=1')).json.dag_runs[0].dag_run_id).toBe('run_3');
  });

  it('filters by state (repeatable) and by date ranges', async () => {
    await api.call('PATCH', '/dags/etl/dagRuns/run_1', { body: { state: 'success' } });
    expect((await api.call('GET', '/dags/etl/dagRuns?state=success')).json.dag_runs.map((r: { dag_run_id: string }) => r.dag_run_id)).toEqual(['run_1']);
    expect((await api.call('GET', '/dags/etl/dagRuns?state=success&state=queued')).json.total_entries).toBe(3);
    expect((await api.call('GET', `/dags/etl/dagRuns?execution_date_gte=${enc('2025-01-02T00:00:00+00:00')}`)).json.total_entries).toBe(2);
    // An unencoded '+' arrives as a space; it is read as the offset sign.
    expect((await api.call('GET', '/dags/etl/dagRuns?execution_date_lte=2025-01-02T00:00:00+00:00')).json.total_entries).toBe(2);
    expect(
      (await api.call('GET', '/dags/etl/dagRuns?logical_date_gte=2025-01-02&logical_date_lte=2025-01-02')).json.dag_runs.map(
        (r: { dag_run_id: string }) => r.dag_run_id,
      ),
    ).toEqual(['run_2']);
    expect((await api.call('GET', '/dags/etl/dagRuns?end_date_gte=2000-01-01T00:00:00Z')).json.total_entries).toBe(1);
    expect((await api.call('GET', '/dags/etl/dagRuns?start_date_lte=2000-01-01T00:00:00Z')).json.total_entries).toBe(0);
    expect((await api.call('GET', `/dags/etl/dagRuns?updated_at_gte=${enc(new Date(Date.now() + 3_600_000).toISOString())}`)).json.total_entries).toBe(0);
  });

  it("~ lists every DAG's runs; 404 for an unknown DAG; 400 for bad filters", async () => {
    const all = await api.call('GET', '/dags/~/dagRuns?limit=1000');
    expect(new Set(all.json.dag_runs.map((r: { dag_id: string }) => r.dag_id))).toEqual(new Set(['etl', 'greeter']));
    expect(all.json.total_entries).toBe(all.json.dag_runs.length);
    expect((await api.call('GET', '/dags/nope/dagRuns')).status).toBe(404);
    expect((await api.call('GET', '/dags/etl/dagRuns?state=bogus')).status).toBe(400);
    expect((await api.call('GET', '/dags/etl/dagRuns?order_by=conf;drop')).status).toBe(400);
    expect((await api.call('GET', '/dags/etl/dagRuns?order_by=constructor')).status).toBe(400); // not a field, though every object has it
    expect((await api.call('GET', '/dags/etl/dagRuns?start_date_gte=soon')).status).toBe(400);
    expect((await api.call('GET', '/dags/etl/dagRuns?limit=0')).status).toBe(400);
    expect((await api.call('GET', '/dags/etl/dagRuns', { as: null })).status).toBe(401);
  });

  it('POST /dags/~/dagRuns/list filters by a JSON body', async () => {
    const response = await api.call('POST', '/dags/~/dagRuns/list', {
      as: 'Viewer',
      body: { dag_ids: ['etl'], states: ['queued'], page_limit: 1, order_by: '-execution_date' },
    });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ total_entries: 2, dag_runs: [{ dag_id: 'etl', dag_run_id: 'run_3' }] });
    const dated = await api.call('POST', '/dags/~/dagRuns/list', {
      body: { dag_ids: ['etl', 'greeter'], execution_date_gte: '2025-01-01T00:00:00Z', execution_date_lte: '2025-01-01T23:59:59Z' },
    });
    expect(dated.json.dag_runs.map((r: { dag_run_id: string }) => r.dag_run_id).sort()).toEqual(['g_1', 'run_1']);
    expect((await api.call('POST', '/dags/~/dagRuns/list', { body: { dag_ids: 'etl' } })).status).toBe(400);
    expect((await api.call('POST', '/dags/~/dagRuns/list', { body: { states: ['done'] } })).status).toBe(400);
    expect((await api.call('POST', '/dags/~/dagRuns/list', { body: { page_limit: 0 } })).status).toBe(400);
  });
});

describe('REST API: one dag run', () => {
  it('GET returns the run; 404 for unknown runs and DAGs', async () => {
    const response = await api.call('GET', '/dags/etl/dagRuns/run_2', { as: 'Viewer' });
    expect(response.json).toMatchObject({
      dag_run_id: 'run_2',
      dag_id: 'etl',
      logical_date: '2025-01-02T00:00:00.000+00:00',
      state: 'queued',
      run_type: 'manual',
    });
    expect((await api.call('GET', '/dags/etl/dagRuns/nope')).status).toBe(404);
    expect((await api.call('GET', '/dags/nope/dagRuns/run_2')).status).toBe(404);
  });

  it('PATCH state=success marks the unfinished task instances success, then the run', async () => {
    await trigger('etl', 'mark_ok', day(10));
    await putStates('etl', 'mark_ok', { extract: 'success', transform: 'running' });
    expect((await api.call('PATCH', '/dags/etl/dagRuns/mark_ok', { as: 'Viewer', body: { state: 'success' } })).status).toBe(403);
    const response = await api.call('PATCH', '/dags/etl/dagRuns/mark_ok', { as: 'User', body: { state: 'success' } });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ dag_run_id: 'mark_ok', state: 'success', end_date: expect.any(String) });
    expect(await statesOf('etl', 'mark_ok')).toEqual({ extract: 'success', transform: 'success', load: 'success' });
    // Marking again changes nothing.
    expect((await api.call('PATCH', '/dags/etl/dagRuns/mark_ok', { body: { state: 'success' } })).json.state).toBe('success');
  });

  it('PATCH state=failed fails running task instances and skips the other unfinished ones', async () => {
    await trigger('etl', 'mark_bad', day(11));
    await putStates('etl', 'mark_bad', { extract: 'success', transform: 'running' });
    const response = await api.call('PATCH', '/dags/etl/dagRuns/mark_bad', { body: { state: 'failed' } });
    expect(response.json).toMatchObject({ state: 'failed' });
    expect(await statesOf('etl', 'mark_bad')).toEqual({ extract: 'success', transform: 'failed', load: 'skipped' });
  });

  it("PATCH state=queued clears the run's task instances and re-queues it", async () => {
    const response = await api.call('PATCH', '/dags/etl/dagRuns/mark_bad', { body: { state: 'queued' } });
    expect(response.json).toMatchObject({ state: 'queued', start_date: null, end_date: null });
    expect(await statesOf('etl', 'mark_bad')).toEqual({ extract: null, transform: null, load: null });
    expect(await db.knex('dag_run').where({ dag_id: 'etl', run_id: 'mark_bad' }).first('clear_number')).toEqual({ clear_number: 1 });
  });

  it('PATCH: 400 for other states and fields, 404 for unknown runs', async () => {
    expect((await api.call('PATCH', '/dags/etl/dagRuns/run_2', { body: { state: 'running' } })).json).toMatchObject({
      status: 400,
      detail: expect.stringMatching(/success, failed or queued/),
    });
    expect((await api.call('PATCH', '/dags/etl/dagRuns/run_2', { body: { state: 'success', note: 'x' } })).status).toBe(400);
    expect((await api.call('PATCH', '/dags/etl/dagRuns/run_2', { body: {} })).status).toBe(400);
    expect((await api.call('PATCH', '/dags/etl/dagRuns/nope', { body: { state: 'failed' } })).status).toBe(404);
    expect((await api.call('PATCH', '/dags/nope/dagRuns/run_2', { body: { state: 'failed' } })).status).toBe(404);
  });

  it('POST .../clear lists the task instances on a dry run (the default) and clears them otherwise', async () => {
    await trigger('etl', 'to_clear', day(12));
    await putStates('etl', 'to_clear', { extract: 'success', transform: 'failed', load: 'upstream_failed' });
    await api.call('PATCH', '/dags/etl/dagRuns/to_clear', { body: { state: 'failed' } });
    expect((await api.call('POST', '/dags/etl/dagRuns/to_clear/clear', { as: 'Viewer', body: {} })).status).toBe(403);
    const dry = await api.call('POST', '/dags/etl/dagRuns/to_clear/clear', { body: {} });
    expect(dry.status).toBe(200);
    expect(dry.json.total_entries).toBe(3);
    expect(dry.json.task_instances.map((t: { task_id: string; state: string }) => [t.task_id, t.state])).toEqual([
      ['extract', 'success'],
      ['load', 'upstream_failed'],
      ['transform', 'failed'],
    ]);
    expect(dry.json.task_instances[0]).toMatchObject({ dag_id: 'etl', dag_run_id: 'to_clear', execution_date: '2025-01-12T00:00:00.000+00:00' });
    expect((await db.knex('dag_run').where({ run_id: 'to_clear' }).first('state')).state).toBe('failed');
    const real = await api.call('POST', '/dags/etl/dagRuns/to_clear/clear', { body: { dry_run: false } });
    expect(real.json).toMatchObject({ dag_run_id: 'to_clear', state: 'queued' });
    expect(await statesOf('etl', 'to_clear')).toEqual({ extract: null, transform: null, load: null });
    expect((await api.call('POST', '/dags/etl/dagRuns/nope/clear', { body: {} })).status).toBe(404);
    expect((await api.call('POST', '/dags/etl/dagRuns/to_clear/clear', { body: { dry_run: 'no' } })).status).toBe(400);
  });

  it('DELETE removes a run with its task instances; 409 while one runs; 404 after', async () => {
    await trigger('etl', 'doomed', day(13));
    await putStates('etl', 'doomed', { extract: 'running' });
    // Deleting the whole DAG is refused too (DagHasRunningTasksError's own status, 409), and deletes nothing.
    const wholeDag = await api.call('DELETE', '/dags/etl');
    expect(wholeDag.status).toBe(409);
    expect(wholeDag.json.detail).toMatch(/DAG 'etl' has running task instances/);
    expect((await api.call('DELETE', '/dags/etl/dagRuns/doomed', { as: 'Viewer' })).status).toBe(403);
    const refused = await api.call('DELETE', '/dags/etl/dagRuns/doomed');
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ title: 'Conflict', detail: "Run 'doomed' has running task instances; mark it failed first or wait for them" });
    await api.call('PATCH', '/dags/etl/dagRuns/doomed', { body: { state: 'failed' } });
    const deleted = await api.call('DELETE', '/dags/etl/dagRuns/doomed');
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect(await db.knex('task_instance').where({ dag_id: 'etl', run_id: 'doomed' }).count({ n: '*' })).toEqual([{ n: 0 }]);
    expect((await api.call('GET', '/dags/etl/dagRuns/doomed')).status).toBe(404);
    const gone = await api.call('DELETE', '/dags/etl/dagRuns/doomed');
    expect(gone.status).toBe(404);
    expect(gone.json).toMatchObject({ title: 'Not Found', detail: "DAG 'etl' has no run 'doomed'" });
  });
});
