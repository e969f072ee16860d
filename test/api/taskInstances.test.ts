import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TiState } from '../../core/state.ts';
import { transitionTaskInstance } from '../../db/transitions.ts';
import { TaskLog, taskLogPath } from '../../logging/fileTaskHandler.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
// a -> b -> c, and a -> side
const TASKS = { a: {}, b: { upstream: ['a'] }, c: { upstream: ['b'] }, side: { upstream: ['a'], pool: 'side_pool', queue: 'special' } };
await registerDag(db.knex, { dagId: 'pipeline', schedule: '@daily', startDate: new Date('2025-01-01T00:00:00Z') }, TASKS, { paused: true });
await registerDag(db.knex, { dagId: 'other' }, { only: {} }, { paused: true });
const api = await startTestApi(db.knex, config);

const day = (d: number) => new Date(Date.UTC(2025, 0, d));
const trigger = (dagId: string, runId: string, logicalDate: Date) => triggerDagRun(db.knex, { dagId, runId, logicalDate, now: new Date() });
const PATHS: Record<string, TiState[]> = {
  queued: ['scheduled', 'queued'],
  running: ['scheduled', 'queued', 'running'],
  success: ['scheduled', 'queued', 'running', 'success'],
  failed: ['scheduled', 'queued', 'running', 'failed'],
  upstream_failed: ['upstream_failed'],
  removed: ['removed'],
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
const runState = async (runId: string) => (await db.knex('dag_run').where({ run_id: runId }).first('state')).state;
const ids = (tis: { task_id: string }[]) => tis.map((t) => t.task_id);
const refs = (tis: { dag_run_id: string; task_id: string }[]) => tis.map((t) => `${t.dag_run_id}.${t.task_id}`).sort();

await trigger('pipeline', 'r1', day(1));
await trigger('pipeline', 'r2', day(2));
await trigger('other', 'o1', day(1));
await putStates('pipeline', 'r1', { a: 'success', b: 'failed', c: 'upstream_failed', side: 'running' });

describe('REST API: listing task instances', () => {
  it("lists a run's task instances with Airflow's fields", async () => {
    const response = await api.call('GET', '/dags/pipeline/dagRuns/r1/taskInstances', { as: 'Viewer' });
    expect(response.status).toBe(200);
    expect(response.json.total_entries).toBe(4);
    expect(ids(response.json.task_instances)).toEqual(['a', 'b', 'c', 'side']);
    const b = response.json.task_instances[1];
    expect(Object.keys(b).sort()).toEqual(
      [
        'task_id',
        'task_display_name',
        'dag_id',
        'dag_run_id',
        'execution_date',
        'start_date',
        'end_date',
        'duration',
        'state',
        'try_number',
        'map_index',
        'max_tries',
        'hostname',
        'unixname',
        'pool',
        'pool_slots',
        'queue',
        'priority_weight',
        'operator',
        'queued_when',
        'pid',
        'executor',
        'executor_config',
        'sla_miss',
        'rendered_map_index',
        'rendered_fields',
        'trigger',
        'triggerer_job',
        'note',
      ].sort(),
    );
    expect(b).toMatchObject({
      task_id: 'b',
      task_display_name: 'b',
      dag_id: 'pipeline',
      dag_run_id: 'r1',
      execution_date: '2025-01-01T00:00:00.000+00:00',
      start_date: expect.stringMatching(/\+00:00$/),
      end_date: expect.stringMatching(/\+00:00$/),
      duration: expect.any(Number),
      state: 'failed',
      try_number: 1,
      map_index: -1,
      max_tries: 0,
      pool: 'default_pool',
      pool_slots: 1,
      queue: 'default',
      operator: 'EmptyOperator',
      queued_when: expect.stringMatching(/\+00:00$/),
      executor_config: '{}',
      rendered_fields: {},
      trigger: null,
      triggerer_job: null,
      sla_miss: null,
      note: null,
    });
    expect(response.json.task_instances[2]).toMatchObject({ task_id: 'c', state: 'upstream_failed' });
  });

  it('filters by state (none included), pool, queue, duration and dates, and pages with total_entries', async () => {
    const list = async (query: string) => (await api.call('GET', `/dags/pipeline/dagRuns/~/taskInstances?${query}`)).json;
    expect(ids((await list('state=failed&state=upstream_failed')).task_instances)).toEqual(['b', 'c']);
    expect((await list('state=none')).total_entries).toBe(4); // every task of r2
    expect((await list('state=none,running')).total_entries).toBe(5);
    expect(ids((await list('pool=side_pool')).task_instances)).toEqual(['side', 'side']);
    expect((await list('queue=special&state=running')).total_entries).toBe(1);
    await db.knex('task_instance').where({ run_id: 'r1', task_id: 'a' }).update({ duration: 12.5 });
    expect(ids((await list('duration_gte=10&duration_lte=20')).task_instances)).toEqual(['a']);
    expect((await list('execution_date_gte=2025-01-02T00:00:00Z')).total_entries).toBe(4);
    expect((await list('start_date_gte=2000-01-01T00:00:00Z')).total_entries).toBe(4); // r1's tasks that started (or were settled)
    expect((await list('end_date_lte=2000-01-01T00:00:00Z')).total_entries).toBe(0);
    const page = await list('limit=2&offset=3');
    expect(page.total_entries).toBe(8);
    expect(page.task_instances.map((t: { dag_run_id: string; task_id: string }) => `${t.dag_run_id}.${t.task_id}`)).toEqual(['r1.side', 'r2.a']);
  });

  it('~ as dag_id and dag_run_id lists across DAGs and runs; 404 for unknown ones; 400 for bad filters', async () => {
    expect((await api.call('GET', '/dags/~/dagRuns/~/taskInstances')).json.total_entries).toBe(9);
    expect(ids((await api.call('GET', '/dags/~/dagRuns/o1/taskInstances')).json.task_instances)).toEqual(['only']);
    expect((await api.call('GET', '/dags/nope/dagRuns/~/taskInstances')).status).toBe(404);
    expect((await api.call('GET', '/dags/pipeline/dagRuns/nope/taskInstances')).status).toBe(404);
    expect((await api.call('GET', '/dags/pipeline/dagRuns/o1/taskInstances')).status).toBe(404);
    expect((await api.call('GET', '/dags/pipeline/dagRuns/r1/taskInstances?state=sleeping')).status).toBe(400);
    expect((await api.call('GET', '/dags/pipeline/dagRuns/r1/taskInstances?duration_gte=long')).status).toBe(400);
    expect((await api.call('GET', '/dags/pipeline/dagRuns/r1/taskInstances?pool=%00')).status).toBe(400);
    expect((await api.call('GET', '/dags/pipeline/dagRuns/r1/taskInstances?duration_gte=Infinity')).status).toBe(400);
    expect((await api.call('GET', '/dags/pipeline/dagRuns/r1/taskInstances', { as: null })).status).toBe(401);
  });

  it('POST /dags/~/dagRuns/~/taskInstances/list filters by a JSON body', async () => {
    const response = await api.call('POST', '/dags/~/dagRuns/~/taskInstances/list', {
      as: 'Viewer',
      body: { dag_ids: ['pipeline', 'other'], task_ids: ['a', 'only'], state: [null, 'success'] },
    });
    expect(response.status).toBe(200);
    expect(refs(response.json.task_instances)).toEqual(['o1.only', 'r1.a', 'r2.a']);
    expect(response.json.total_entries).toBe(3);
    const runs = await api.call('POST', '/dags/~/dagRuns/~/taskInstances/list', { body: { dag_run_ids: ['r2'], page_limit: 1, page_offset: 1 } });
    expect(runs.json).toMatchObject({ total_entries: 4, task_instances: [{ task_id: 'b', dag_run_id: 'r2' }] });
    expect((await api.call('POST', '/dags/~/dagRuns/~/taskInstances/list', { body: { state: ['bogus'] } })).status).toBe(400);
    expect((await api.call('POST', '/dags/~/dagRuns/~/taskInstances/list', { body: { dag_ids: 'pipeline' } })).status).toBe(400);
  });
});

describe('REST API: one task instance', () => {
  it('GET returns it; 404 for unknown task, run or DAG', async () => {
    const response = await api.call('GET', '/dags/pipeline/dagRuns/r1/taskInstances/side', { as: 'Viewer' });
    expect(response.json).toMatchObject({ task_id: 'side', state: 'running', pool: 'side_pool', queue: 'special', hostname: '', dag_run_id: 'r1' });
    expect((await api.call('GET', '/dags/pipeline/dagRuns/r1/taskInstances/nope')).status).toBe(404);
    expect((await api.call('GET', '/dags/pipeline/dagRuns/nope/taskInstances/a')).status).toBe(404);
    expect((await api.call('GET', '/dags/nope/dagRuns/r1/taskInstances/a')).status).toBe(404);
  });

  it('PATCH is a dry run by default; marking a failed task success resumes its failed downstream tasks', async () => {
    await trigger('pipeline', 'p1', day(5));
    await putStates('pipeline', 'p1', { a: 'success', b: 'failed', c: 'upstream_failed', side: 'success' });
    await api.call('PATCH', '/dags/pipeline/dagRuns/p1', { body: { state: 'failed' } });
    expect((await api.call('PATCH', '/dags/pipeline/dagRuns/p1/taskInstances/b', { as: 'Viewer', body: { new_state: 'success' } })).status).toBe(403);
    const dry = await api.call('PATCH', '/dags/pipeline/dagRuns/p1/taskInstances/b', { as: 'User', body: { new_state: 'success' } });
    expect(dry.json).toEqual({ task_id: 'b', dag_id: 'pipeline', execution_date: '2025-01-05T00:00:00.000+00:00', dag_run_id: 'p1' });
    expect((await statesOf('pipeline', 'p1')).b).toBe('failed');
    const real = await api.call('PATCH', '/dags/pipeline/dagRuns/p1/taskInstances/b', { body: { new_state: 'success', dry_run: false } });
    expect(real.status).toBe(200);
    expect(await statesOf('pipeline', 'p1')).toEqual({ a: 'success', b: 'success', c: null, side: 'success' });
    expect(await runState('p1')).toBe('queued'); // the scheduler picks the run up again for c
  });

  it('PATCH marks a running task failed; 409 for a removed task; 400 for other states; 404 for unknown ones', async () => {
    await trigger('pipeline', 'p2', day(6));
    await putStates('pipeline', 'p2', { a: 'running', side: 'removed' });
    const response = await api.call('PATCH', '/dags/pipeline/dagRuns/p2/taskInstances/a', { body: { new_state: 'failed', dry_run: false } });
    expect(response.json).toMatchObject({ task_id: 'a', dag_run_id: 'p2' });
    expect((await statesOf('pipeline', 'p2')).a).toBe('failed');
    expect((await api.call('PATCH', '/dags/pipeline/dagRuns/p2/taskInstances/side', { body: { new_state: 'success', dry_run: false } })).json).toMatchObject({
      status: 409,
    });
    expect((await api.call('PATCH', '/dags/pipeline/dagRuns/p2/taskInstances/a', { body: { new_state: 'running' } })).status).toBe(400);
    expect((await api.call('PATCH', '/dags/pipeline/dagRuns/p2/taskInstances/a', { body: { dry_run: false } })).status).toBe(400);
    expect((await api.call('PATCH', '/dags/pipeline/dagRuns/p2/taskInstances/zzz', { body: { new_state: 'success' } })).status).toBe(404);
  });
});

describe('REST API: POST /dags/{dag_id}/clearTaskInstances', () => {
  it('is a dry run by default and clears only failed task instances by default', async () => {
    await trigger('pipeline', 'c1', day(10));
    await putStates('pipeline', 'c1', { a: 'success', b: 'failed', c: 'upstream_failed', side: 'success' });
    await api.call('PATCH', '/dags/pipeline/dagRuns/c1', { body: { state: 'failed' } });
    expect((await api.call('POST', '/dags/pipeline/clearTaskInstances', { as: 'Viewer', body: { dag_run_id: 'c1' } })).status).toBe(403);
    const dry = await api.call('POST', '/dags/pipeline/clearTaskInstances', { as: 'User', body: { dag_run_id: 'c1' } });
    expect(dry.status).toBe(200);
    expect(refs(dry.json.task_instances)).toEqual(['c1.b', 'c1.c']);
    expect(dry.json.task_instances[0]).toMatchObject({ dag_id: 'pipeline', execution_date: '2025-01-10T00:00:00.000+00:00' });
    expect((await statesOf('pipeline', 'c1')).b).toBe('failed');
    const real = await api.call('POST', '/dags/pipeline/clearTaskInstances', { body: { dag_run_id: 'c1', dry_run: false } });
    expect(refs(real.json.task_instances)).toEqual(['c1.b', 'c1.c']);
    expect(await statesOf('pipeline', 'c1')).toEqual({ a: 'success', b: null, c: null, side: 'success' });
    expect(await runState('c1')).toBe('queued');
  });

  it('chooses tasks with task_ids and include_downstream/upstream, runs with dates and include_past/future', async () => {
    const clear = async (body: Record<string, unknown>) =>
      refs((await api.call('POST', '/dags/pipeline/clearTaskInstances', { body: { only_failed: false, ...body } })).json.task_instances);
    expect(await clear({ dag_run_id: 'r2', task_ids: ['b'] })).toEqual(['r2.b']);
    expect(await clear({ dag_run_id: 'r2', task_ids: ['b'], include_downstream: true })).toEqual(['r2.b', 'r2.c']);
    expect(await clear({ dag_run_id: 'r2', task_ids: ['b'], include_upstream: true })).toEqual(['r2.a', 'r2.b']);
    expect(await clear({ dag_run_id: 'r2', task_ids: ['a'], include_past: true })).toEqual(['r1.a', 'r2.a']);
    expect(await clear({ dag_run_id: 'r2', task_ids: ['a'], include_future: true })).toEqual(['c1.a', 'p1.a', 'p2.a', 'r2.a']);
    expect(await clear({ task_ids: ['a'], start_date: '2025-01-02T00:00:00Z', end_date: '2025-01-05T00:00:00Z' })).toEqual(['p1.a', 'r2.a']);
    expect(await clear({ task_ids: ['side'], only_running: true })).toEqual(['r1.side']);
    expect(refs((await api.call('POST', '/dags/pipeline/clearTaskInstances', { body: { only_running: true } })).json.task_instances)).toEqual([]); // only_failed is true by default
  });

  it('clearing a running task instance sends it to restarting', async () => {
    const response = await api.call('POST', '/dags/pipeline/clearTaskInstances', {
      body: { dag_run_id: 'r1', task_ids: ['side'], only_failed: false, dry_run: false },
    });
    expect(refs(response.json.task_instances)).toEqual(['r1.side']);
    expect((await statesOf('pipeline', 'r1')).side).toBe('restarting');
  });

  it('404 for unknown DAGs, runs and tasks; 400 for bad bodies', async () => {
    expect((await api.call('POST', '/dags/nope/clearTaskInstances', { body: {} })).status).toBe(404);
    expect((await api.call('POST', '/dags/pipeline/clearTaskInstances', { body: { dag_run_id: 'nope' } })).status).toBe(404);
    expect((await api.call('POST', '/dags/pipeline/clearTaskInstances', { body: { task_ids: ['a', 'ghost'] } })).json.detail).toMatch(/ghost/);
    expect((await api.call('POST', '/dags/pipeline/clearTaskInstances', { body: { task_ids: [] } })).status).toBe(400);
    expect((await api.call('POST', '/dags/pipeline/clearTaskInstances', { body: { dag_run_id: 'r1\u0000' } })).status).toBe(400);
    expect(
      (await api.call('POST', '/dags/pipeline/clearTaskInstances', { body: { start_date: '2025-02-01T00:00:00Z', end_date: '2025-01-01T00:00:00Z' } })).status,
    ).toBe(400);
    expect((await api.call('POST', '/dags/pipeline/clearTaskInstances', { body: { reset_dag_runs: false } })).json.detail).toMatch(/reset_dag_runs/);
    expect((await api.call('POST', '/dags/pipeline/clearTaskInstances', { body: { dry_run: false, surprise: 1 } })).status).toBe(400);
  });
});

describe('REST API: POST /dags/{dag_id}/updateTaskInstancesState', () => {
  it('lists on a dry run (the default), then marks the task and its relatives', async () => {
    await trigger('pipeline', 'u1', day(20));
    await trigger('pipeline', 'u2', day(21));
    await putStates('pipeline', 'u1', { a: 'success', b: 'running' });
    expect(
      (await api.call('POST', '/dags/pipeline/updateTaskInstancesState', { as: 'Viewer', body: { task_id: 'b', dag_run_id: 'u1', new_state: 'success' } }))
        .status,
    ).toBe(403);
    const dry = await api.call('POST', '/dags/pipeline/updateTaskInstancesState', {
      as: 'User',
      body: { task_id: 'b', dag_run_id: 'u1', new_state: 'success', include_downstream: true },
    });
    expect(refs(dry.json.task_instances)).toEqual(['u1.b', 'u1.c']);
    expect((await statesOf('pipeline', 'u1')).b).toBe('running');
    const real = await api.call('POST', '/dags/pipeline/updateTaskInstancesState', {
      body: { task_id: 'b', dag_run_id: 'u1', new_state: 'success', include_downstream: true, dry_run: false },
    });
    expect(refs(real.json.task_instances)).toEqual(['u1.b', 'u1.c']);
    expect(real.json.task_instances[0]).toEqual({ task_id: 'b', dag_id: 'pipeline', execution_date: '2025-01-20T00:00:00.000+00:00', dag_run_id: 'u1' });
    expect(await statesOf('pipeline', 'u1')).toEqual({ a: 'success', b: 'success', c: 'success', side: null });
  });

  it('finds the run by execution_date and reaches later runs with include_future', async () => {
    const response = await api.call('POST', '/dags/pipeline/updateTaskInstancesState', {
      body: { task_id: 'a', execution_date: '2025-01-20T00:00:00Z', include_future: true, include_upstream: true, new_state: 'failed', dry_run: false },
    });
    expect(refs(response.json.task_instances)).toEqual(['u1.a', 'u2.a']);
    expect((await statesOf('pipeline', 'u2')).a).toBe('failed');
  });

  it('400 without exactly one of dag_run_id and execution_date or with a bad state; 404 for unknown ids', async () => {
    const post = (body: Record<string, unknown>) =>
      api.call('POST', '/dags/pipeline/updateTaskInstancesState', { body: { task_id: 'a', new_state: 'success', ...body } });
    expect((await post({})).status).toBe(400);
    expect((await post({ dag_run_id: 'u1', execution_date: '2025-01-20T00:00:00Z' })).status).toBe(400);
    expect((await post({ dag_run_id: 'u1', new_state: 'queued' })).status).toBe(400);
    expect((await post({ dag_run_id: 'nope' })).status).toBe(404);
    expect((await post({ execution_date: '1999-01-01T00:00:00Z' })).status).toBe(404);
    expect((await post({ dag_run_id: 'u1', task_id: 'ghost' })).status).toBe(404);
    expect((await api.call('POST', '/dags/nope/updateTaskInstancesState', { body: { task_id: 'a', dag_run_id: 'u1', new_state: 'success' } })).status).toBe(
      404,
    );
  });
});

describe('REST API: task logs', () => {
  const logPath = (runId: string, taskId: string, tryNumber: number) =>
    taskLogPath(config.logging.baseLogFolder, { dagId: 'pipeline', runId, taskId, mapIndex: -1, tryNumber });
  const logUrl = (taskId: string, tryNumber: number | string, query = '') => `/dags/pipeline/dagRuns/r1/taskInstances/${taskId}/logs/${tryNumber}${query}`;

  it('returns the log as JSON with a continuation token that fetches only what was appended', async () => {
    const log = new TaskLog(logPath('r1', 'b', 1));
    log.info('first line');
    const first = await api.call('GET', logUrl('b', 1), { as: 'Viewer' });
    expect(first.status).toBe(200);
    expect(first.json.content).toMatch(/^\[.*\] \{taskinstance\} INFO - first line\n$/);
    expect(first.json.continuation_token).toEqual(expect.any(String));
    const unchanged = await api.call('GET', logUrl('b', 1, `?token=${first.json.continuation_token}`));
    expect(unchanged.json).toEqual({ content: '', continuation_token: first.json.continuation_token });
    log.info('second line');
    log.close();
    const next = await api.call('GET', logUrl('b', 1, `?token=${first.json.continuation_token}`));
    expect(next.json.content).toMatch(/^\[.*\] \{taskinstance\} INFO - second line\n$/);
    const full = await api.call('GET', logUrl('b', 1, '?full_content=true'));
    expect(full.json.content).toBe(first.json.content + next.json.content);
    expect(full.json.continuation_token).toBe(next.json.continuation_token);
  });

  it('returns text/plain when asked, with the token in a header', async () => {
    const response = await api.call('GET', logUrl('b', 1), { headers: { accept: 'text/plain' } });
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(response.text).toMatch(/first line\n.*second line\n$/s);
    const token = response.headers.get('x-continuation-token')!;
    expect((await api.call('GET', logUrl('b', 1, `?token=${token}`), { headers: { accept: 'text/plain' } })).text).toBe('');
  });

  it('never splits a UTF-8 character a runner is still writing', async () => {
    const file = logPath('r1', 'side', 1);
    mkdirSync(path.dirname(file), { recursive: true });
    const euro = Buffer.from('€'); // 3 bytes
    appendFileSync(file, Buffer.concat([Buffer.from('price: '), euro.subarray(0, 2)]));
    const partial = await api.call('GET', logUrl('side', 1));
    expect(partial.json.content).toBe('price: ');
    appendFileSync(file, Buffer.concat([euro.subarray(2), Buffer.from('5\n')]));
    expect((await api.call('GET', logUrl('side', 1, `?token=${partial.json.continuation_token}`))).json.content).toBe('€5\n');
  });

  it('a try without a log file yet reads as empty; 404 for unknown task instances; 400 for bad tokens and tries', async () => {
    const empty = await api.call('GET', logUrl('c', 1));
    expect(empty.status).toBe(200);
    expect(empty.json.content).toBe('');
    expect((await api.call('GET', logUrl('ghost', 1))).status).toBe(404);
    expect((await api.call('GET', logUrl('b', 1, '?map_index=3'))).status).toBe(404);
    expect((await api.call('GET', '/dags/pipeline/dagRuns/nope/taskInstances/b/logs/1')).status).toBe(404);
    expect((await api.call('GET', logUrl('b', 0))).status).toBe(400);
    expect((await api.call('GET', logUrl('b', 'x'))).status).toBe(400);
    expect((await api.call('GET', logUrl('b', 1, '?token=not-a-token!'))).status).toBe(400);
    expect((await api.call('GET', logUrl('b', 1, `?token=${Buffer.from('../../etc/passwd').toString('base64url')}`))).status).toBe(400);
    expect((await api.call('GET', logUrl('b', 1, `?token=${Buffer.from('-5').toString('base64url')}`))).status).toBe(400);
    expect((await api.call('GET', logUrl('b', 1), { as: null })).status).toBe(401);
  });

  it('a token past the end of the file returns nothing, not an error', async () => {
    const response = await api.call('GET', logUrl('b', 1, `?token=${Buffer.from('999999999').toString('base64url')}`));
    expect(response.status).toBe(200);
    expect(response.json.content).toBe('');
  });
});
