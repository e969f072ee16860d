import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import type { SerializedDag } from '../../core/serialize.ts';
import { pullXComs } from '../../db/models/xcom.ts';
import { InProcessExecutor } from '../../executors/inProcessExecutor.ts';
import { runBackfillJob } from '../../scheduler/backfillJob.ts';
import { scheduleDagRuns } from '../../scheduler/scheduleDagRuns.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { clearTaskInstances } from '../../services/clearTaskInstances.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { parseDags, runDagInProcess, testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();

/** Parses `source` (a DAG file body after the import line) and runs its DAG to the end in this process. */
async function runMappedDag(dagId: string, body: string, env: Record<string, string> = {}) {
  const dags = tempDagsFolder();
  writeDag(
    dags,
    `${dagId}.ts`,
    ["import { DAG, getCurrentContext, task } from 'airflow-ts';", `const dag = new DAG({ dagId: '${dagId}' });`, body, 'export default dag;', ''].join('\n'),
  );
  const config = await testConfig(dags, db.url, env);
  await parseDags(config, db.knex);
  const result = await runDagInProcess(config, db.knex, dagId);
  const instances = (taskId: string) =>
    result.tis
      .filter((ti: { task_id: string }) => ti.task_id === taskId)
      .map((ti: { map_index: number; state: string; try_number: number; note: string | null }) => ti)
      .sort((a: { map_index: number }, b: { map_index: number }) => a.map_index - b.map_index);
  const xcoms = async (taskId: string) =>
    (await db.knex('xcom').where({ dag_run_id: result.run.id, task_id: taskId }).orderBy('map_index').select('map_index', 'value')).map(
      (x: { map_index: number; value: unknown }) => [x.map_index, x.value],
    );
  /** Clears one instance of a task and what is downstream of it, then runs the run to the end again. */
  const clearAndRerun = async (taskId: string, onlyStates?: string[]) => {
    const dag = (await db.knex('serialized_dag').where('dag_id', dagId).first()).data as SerializedDag;
    await clearTaskInstances(db.knex, { dag, runIds: [result.run.run_id], taskIds: [taskId], downstream: true, onlyStates, now: new Date() });
    const logger = memoryLogger();
    const executor = new InProcessExecutor({ knex: db.knex, config, logger });
    const [run] = await runBackfillJob({ knex: db.knex, config, executor, logger, dagId, runIds: [result.run.run_id], ignorePause: true, pollMs: 20 });
    return run!;
  };
  return { ...result, instances, xcoms, clearAndRerun };
}

describe('dynamic task mapping end to end (real parser, in-process executor, real database)', () => {
  it('expand over a literal list: one instance per element, map indexes 0..N-1, each called with its element; the reduce gets the results in order', async () => {
    const { run, instances, xcoms } = await runMappedDag(
      'map_literal',
      [
        'const double = task({ dag }, function double(x: number) { return x * 2; });',
        'const total = task({ dag }, function total(xs: number[]) { return xs; });',
        'total(double.expand([5, 6, 7, 8]));',
      ].join('\n'),
    );
    expect(run.state).toBe('success');
    expect(instances('double').map((ti: { map_index: number; state: string }) => [ti.map_index, ti.state])).toEqual([
      [0, 'success'],
      [1, 'success'],
      [2, 'success'],
      [3, 'success'],
    ]);
    expect(await xcoms('double')).toEqual([
      [0, 10],
      [1, 12],
      [2, 14],
      [3, 16],
    ]);
    expect(await xcoms('total')).toEqual([[-1, [10, 12, 14, 16]]]);
  });

  it("expand over an upstream task's output, with partial() binding the leading arguments", async () => {
    const { run, instances, xcoms } = await runMappedDag(
      'map_upstream',
      [
        "const list = task({ dag }, function list() { return ['a', 'b', 'c']; });",
        "const prefix = task({ dag }, function prefix() { return 'p'; });",
        'const label = task({ dag }, function label(p: string, sep: string, name: string) { return `${p}${sep}${name}`; });',
        "const join = task({ dag }, function join(xs: string[]) { return xs.join(','); });",
        "join(label.partial(prefix(), '-').expand(list()));",
      ].join('\n'),
    );
    expect(run.state).toBe('success');
    expect(instances('label').map((ti: { map_index: number }) => ti.map_index)).toEqual([0, 1, 2]);
    expect(await xcoms('label')).toEqual([
      [0, 'p-a'],
      [1, 'p-b'],
      [2, 'p-c'],
    ]);
    expect(await pullXComs(db.knex, run.id, ['join'])).toEqual(['p-a,p-b,p-c']);
  });

  it('a zero-length input skips the mapped task (one -1 instance), and its downstream follows its trigger rule', async () => {
    const { run, instances, states, xcoms } = await runMappedDag(
      'map_empty',
      [
        'const list = task({ dag }, function list(): number[] { return []; });',
        'const each = task({ dag }, function each(x: number) { return x; });',
        'const reduce = task({ dag }, function reduce(xs: number[]) { return xs.length; });',
        "const anyway = task({ dag, triggerRule: 'all_done' }, function anyway(xs: number[]) { return { got: xs ?? 'nothing' }; });",
        'const out = each.expand(list());',
        'reduce(out);',
        'anyway(out);',
      ].join('\n'),
    );
    expect(instances('each').map((ti: { map_index: number; state: string; note: string | null }) => [ti.map_index, ti.state, ti.note])).toEqual([
      [-1, 'skipped', "mapped task 'each' skipped: the output of task 'list' is empty"],
    ]);
    expect(states).toMatchObject({ list: 'success', reduce: 'skipped', anyway: 'success' });
    expect(await xcoms('anyway')).toEqual([[-1, { got: [] }]]); // the reduce of a skipped mapped task is an empty list
    expect(run.state).toBe('success');
  });

  it('an input over core.maxMapLength fails the mapped task with the reason in its note; the downstream is upstream_failed', async () => {
    const { run, instances, states } = await runMappedDag(
      'map_too_long',
      [
        'const each = task({ dag }, function each(x: number) { return x; });',
        'const reduce = task({ dag }, function reduce(xs: number[]) { return xs; });',
        'reduce(each.expand([1, 2, 3, 4]));',
      ].join('\n'),
      { AIRFLOW__CORE__MAX_MAP_LENGTH: '3' },
    );
    expect(instances('each').map((ti: { map_index: number; state: string; note: string | null }) => [ti.map_index, ti.state, ti.note])).toEqual([
      [-1, 'failed', "cannot expand mapped task 'each': its literal list has 4 elements, over core.maxMapLength (3)"],
    ]);
    expect(states).toMatchObject({ reduce: 'upstream_failed' });
    expect(run.state).toBe('failed');
  });

  it('an upstream output that is not a list fails the mapped task with the reason', async () => {
    const { instances, run } = await runMappedDag(
      'map_not_a_list',
      [
        'const one = task({ dag }, function one() { return 42; });',
        'const each = task({ dag }, function each(x: number) { return x; });',
        'each.expand(one() as never);',
      ].join('\n'),
    );
    expect(instances('each').map((ti: { state: string; note: string | null }) => [ti.state, ti.note])).toEqual([
      ['failed', "cannot expand mapped task 'each': the output of task 'one' must be a list, got number"],
    ]);
    expect(run.state).toBe('failed');
  });

  it('one instance failing with retries retries only itself; the trigger rule of the reduce counts every instance', async () => {
    const { run, instances, xcoms } = await runMappedDag(
      'map_retry',
      [
        'const flaky = task({ dag, retries: 1, retryDelay: 0 }, function flaky(x: number) {',
        "  if (x === 2 && getCurrentContext().ti.tryNumber === 1) throw new Error('first try of element 2 fails');",
        '  return x;',
        '});',
        'const reduce = task({ dag }, function reduce(xs: number[]) { return xs; });',
        'reduce(flaky.expand([1, 2, 3]));',
      ].join('\n'),
    );
    expect(run.state).toBe('success');
    expect(instances('flaky').map((ti: { map_index: number; state: string; try_number: number }) => [ti.map_index, ti.state, ti.try_number])).toEqual([
      [0, 'success', 1],
      [1, 'success', 2],
      [2, 'success', 1],
    ]);
    expect(await xcoms('reduce')).toEqual([[-1, [1, 2, 3]]]);
  });

  it('a mapped instance that fails for good fails the downstream reduce (all_success counts each instance), the others still succeed', async () => {
    const { run, instances, states } = await runMappedDag(
      'map_one_fails',
      [
        "const each = task({ dag }, function each(x: number) { if (x === 2) throw new Error('bad element'); return x; });",
        'const reduce = task({ dag }, function reduce(xs: number[]) { return xs; });',
        'reduce(each.expand([1, 2, 3]));',
      ].join('\n'),
    );
    expect(instances('each').map((ti: { map_index: number; state: string }) => [ti.map_index, ti.state])).toEqual([
      [0, 'success'],
      [1, 'failed'],
      [2, 'success'],
    ]);
    expect(states).toMatchObject({ reduce: 'upstream_failed' });
    expect(run.state).toBe('failed');
  });

  it('clearing the upstream and the mapped task re-runs every instance, only after the upstream finished again', async () => {
    const { run, xcoms, clearAndRerun } = await runMappedDag(
      'map_clear',
      [
        'const list = task({ dag }, function list() { return [1, 2, 3]; });',
        'const each = task({ dag }, function each(x: number) { return { x, at: Date.now() }; });',
        'const reduce = task({ dag }, function reduce(xs: { x: number }[]) { return xs.map((e) => e.x); });',
        'reduce(each.expand(list()));',
      ].join('\n'),
    );
    expect(run.state).toBe('success');
    const first = await xcoms('each');

    const again = await clearAndRerun('list');
    expect(again.state).toBe('success');
    const listTi = (await db.knex('task_instance').where({ dag_id: 'map_clear', run_id: run.run_id, task_id: 'list' }).first()) as { end_date: Date };
    const each = (await db.knex('task_instance').where({ dag_id: 'map_clear', run_id: run.run_id, task_id: 'each' }).orderBy('map_index')) as {
      map_index: number;
      state: string;
      try_number: number;
      start_date: Date;
    }[];
    expect(each.map((ti) => [ti.map_index, ti.state, ti.try_number])).toEqual([
      [0, 'success', 2],
      [1, 'success', 2],
      [2, 'success', 2],
    ]);
    for (const ti of each) expect(ti.start_date.getTime()).toBeGreaterThanOrEqual(listTi.end_date.getTime());
    expect(await xcoms('reduce')).toEqual([[-1, [1, 2, 3]]]);

    expect(await xcoms('each')).not.toEqual(first); // new XComs: every instance ran again
  });

  it('clearing the failed instance of a mapped task re-runs only it; the others keep their results and the reduce gets them all', async () => {
    const { run, xcoms, clearAndRerun } = await runMappedDag(
      'map_clear_one',
      [
        'const each = task({ dag }, function each(x: number) {',
        "  if (x === 2 && getCurrentContext().ti.tryNumber === 1) throw new Error('first try of element 2 fails');",
        '  return { x, at: Date.now() };',
        '});',
        'const reduce = task({ dag }, function reduce(xs: { x: number }[]) { return xs.map((e) => e.x); });',
        'reduce(each.expand([1, 2, 3]));',
      ].join('\n'),
    );
    expect(run.state).toBe('failed');
    const before = await xcoms('each');
    expect(before.map(([i]) => i)).toEqual([0, 2]);

    const again = await clearAndRerun('each', ['failed', 'upstream_failed']);
    expect(again.state).toBe('success');
    const each = (await db.knex('task_instance').where({ dag_id: 'map_clear_one', run_id: run.run_id, task_id: 'each' }).orderBy('map_index')) as {
      map_index: number;
      state: string;
      try_number: number;
    }[];
    expect(each.map((ti) => [ti.map_index, ti.state, ti.try_number])).toEqual([
      [0, 'success', 1],
      [1, 'success', 2],
      [2, 'success', 1],
    ]);
    const after = await xcoms('each');
    expect([after[0], after[2]]).toEqual(before);
    expect(await xcoms('reduce')).toEqual([[-1, [1, 2, 3]]]);
  });

  it('dependsOnPast on a mapped task: an instance that failed in the previous run keeps the next run from expanding it', async () => {
    const { run, instances } = await runMappedDag(
      'map_past',
      [
        "const each = task({ dag, dependsOnPast: true }, function each(x: number) { if (x === 2) throw new Error('bad element'); return x; });",
        'each.expand([1, 2, 3]);',
      ].join('\n'),
    );
    expect(run.state).toBe('failed');
    expect(instances('each').map((ti: { state: string }) => ti.state)).toEqual(['success', 'failed', 'success']);
    const next = await triggerDagRun(db.knex, { dagId: 'map_past', conf: {}, now: new Date(Date.now() + 1000) });
    await scheduleDagRuns(db.knex, { now: new Date(), maxActiveRunsPerDag: 16, logger: memoryLogger(), dagIds: ['map_past'] });
    const waiting = await db.knex('task_instance').where({ dag_id: 'map_past', run_id: next.run_id }).select('task_id', 'map_index', 'state');
    expect(waiting).toEqual([{ task_id: 'each', map_index: -1, state: null }]);
  });

  it('two schedulers passing over the same run at once expand a mapped task exactly once', async () => {
    const dags = tempDagsFolder();
    writeDag(
      dags,
      'map_twice.ts',
      [
        "import { DAG, task } from 'airflow-ts';",
        "const dag = new DAG({ dagId: 'map_twice' });",
        'task({ dag }, function each(x: number) { return x; }).expand([1, 2, 3, 4, 5, 6, 7, 8]);',
        'export default dag;',
        '',
      ].join('\n'),
    );
    await parseDags(await testConfig(dags, db.url), db.knex);
    const run = await triggerDagRun(db.knex, { dagId: 'map_twice', conf: {}, now: new Date() });
    const pass = () => scheduleDagRuns(db.knex, { now: new Date(), maxActiveRunsPerDag: 16, logger: memoryLogger(), dagIds: ['map_twice'] });
    await Promise.all([pass(), pass(), pass()]); // each may start the run and expand the task
    await pass();
    const rows = await db
      .knex('task_instance')
      .where({ dag_id: 'map_twice', run_id: run.run_id })
      .orderBy('map_index')
      .select('map_index', 'state', 'try_number');
    expect(rows).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ map_index: i, state: 'scheduled', try_number: 1 })));
  });
});
