import { describe, expect, it } from 'vitest';
import { rootTaskGroup } from '../../core/serialize.ts';
import { groupDagRunner } from '../helpers/groupDags.ts';

const runGroupDag = await groupDagRunner();

type Ti = { task_id: string; map_index: number; state: string };

/** [map_index, state] of each instance of `taskId`, in map-index order. */
function instancesOf(tis: Ti[], taskId: string): [number, string][] {
  return tis
    .filter((ti) => ti.task_id === taskId)
    .sort((a, b) => a.map_index - b.map_index)
    .map((ti) => [ti.map_index, ti.state]);
}

describe('mapped task groups end to end (real parser, scheduler expansion, in-process executor, real database)', () => {
  it('expand over a literal list: every task of the group gets one instance per element; inside, a task takes the same index of another; outside, the list in order', async () => {
    const { run, tis, stored, xcoms } = await runGroupDag('mapped_group_literal', [
      'const double = task({ dag }, function double(x: number) { return 2 * x; });',
      'const label = task({ dag }, function label(d: number, x: number) { return `${x}->${d}`; });',
      'const total = task({ dag }, function total(labels: string[]) { return labels.join(","); });',
      "const marker = task({ dag }, function marker() { return 'ran'; });",
      'const each = taskGroup({ dag }, function each(x: number) { marker(); return label(double(x), x); });',
      'total(each.expand([1, 2, 3]));',
    ]);
    expect(run.state).toBe('success');
    for (const taskId of ['each.double', 'each.label', 'each.marker']) {
      expect(instancesOf(tis, taskId)).toEqual([
        [0, 'success'],
        [1, 'success'],
        [2, 'success'],
      ]);
    }
    expect(await xcoms('each.double')).toEqual([
      [0, 2],
      [1, 4],
      [2, 6],
    ]);
    expect(await xcoms('each.label')).toEqual([
      [0, '1->2'],
      [1, '2->4'],
      [2, '3->6'],
    ]);
    expect(await xcoms('total')).toEqual([[-1, '1->2,2->4,3->6']]);
    // The stored DAG says which group maps and by what; each of its tasks maps over that input.
    expect(rootTaskGroup(stored).groups[0]).toMatchObject({ groupId: 'each', expandInput: { literal: [1, 2, 3] } });
    const label = stored.tasks.find((t) => t.taskId === 'each.label')!;
    expect([label.expandInput, label.mappedGroupId, label.fields.args]).toEqual([
      { literal: [1, 2, 3] },
      'each',
      [{ xcomArg: { taskId: 'each.double', key: 'return_value' } }, { mappedArgument: { groupId: 'each' } }],
    ]);
  });

  it("expand over an upstream task's output with partial(): the group's roots run after it, and each instance gets its element", async () => {
    const { run, tis, stored, xcoms } = await runGroupDag('mapped_group_upstream', [
      "const names = task({ dag }, function names() { return ['ada', 'grace']; });",
      'const greet = task({ dag }, function greet(greeting: string, name: string) { return `${greeting} ${name}`; });',
      'const shout = task({ dag }, function shout(s: string) { return s.toUpperCase(); });',
      'const hello = taskGroup({ dag }, function hello(greeting: string, name: XComArg<string>) { return shout(greet(greeting, name)); });',
      'const all = task({ dag }, function all(xs: string[]) { return xs; });',
      "all(hello.partial('hi').expand(names()));",
    ]);
    expect(run.state).toBe('success');
    expect(stored.tasks.find((t) => t.taskId === 'hello.greet')!.upstreamTaskIds).toEqual(['names']);
    expect(instancesOf(tis, 'hello.shout')).toEqual([
      [0, 'success'],
      [1, 'success'],
    ]);
    expect(await xcoms('hello.shout')).toEqual([
      [0, 'HI ADA'],
      [1, 'HI GRACE'],
    ]);
    expect(await xcoms('all')).toEqual([[-1, ['HI ADA', 'HI GRACE']]]);
  });

  it('inside the group an instance depends only on the same index: one failed element fails only its own chain, the others run on', async () => {
    const { run, tis, xcoms } = await runGroupDag('mapped_group_per_index', [
      "const check = task({ dag }, function check(x: number) { if (x === 2) throw new Error('bad element'); return x; });",
      'const store = task({ dag }, function store(x: number) { return x * 10; });',
      "const cleanup = task({ dag, triggerRule: 'all_done' }, function cleanup(x: number) { return `cleaned ${x}`; });",
      'const each = taskGroup({ dag }, function each(x: number) { const stored = store(check(x)); stored.then(cleanup(x)); return stored; });',
      "const report = task({ dag, triggerRule: 'all_done' }, function report(xs: number[]) { return xs; });",
      'report(each.expand([1, 2, 3]));',
    ]);
    // The run's outcome is its leaves' (as in Airflow): cleanup and report are all_done and succeeded.
    expect(run.state).toBe('success');
    expect(instancesOf(tis, 'each.check')).toEqual([
      [0, 'success'],
      [1, 'failed'],
      [2, 'success'],
    ]);
    expect(instancesOf(tis, 'each.store')).toEqual([
      [0, 'success'],
      [1, 'upstream_failed'],
      [2, 'success'],
    ]);
    expect(instancesOf(tis, 'each.cleanup')).toEqual([
      [0, 'success'],
      [1, 'success'],
      [2, 'success'],
    ]);
    expect(await xcoms('each.store')).toEqual([
      [0, 10],
      [2, 30],
    ]);
    expect(await xcoms('report')).toEqual([[-1, [10, 30]]]);
  });

  it('an empty input skips every task of the group and what needs them; a failed producer makes them upstream_failed', async () => {
    const empty = await runGroupDag('mapped_group_empty', [
      'const none = task({ dag }, function none(): number[] { return []; });',
      'const inc = task({ dag }, function inc(x: number) { return x + 1; });',
      'const twice = task({ dag }, function twice(x: number) { return 2 * x; });',
      'const each = taskGroup({ dag }, function each(x: XComArg<number>) { return twice(inc(x)); });',
      'const sum = task({ dag }, function sum(xs: number[]) { return xs.length; });',
      "const always = task({ dag, triggerRule: 'all_done' }, function always(xs: number[]) { return xs; });",
      'const out = each.expand(none());',
      'sum(out);',
      'always(out);',
    ]);
    expect(empty.states).toEqual({ none: 'success', 'each.inc': 'skipped', 'each.twice': 'skipped', sum: 'skipped', always: 'success' });
    expect(await empty.xcoms('always')).toEqual([[-1, []]]);
    expect(empty.run.state).toBe('success');

    const failed = await runGroupDag('mapped_group_failed_input', [
      "const broken = task({ dag }, function broken(): number[] { throw new Error('no list today'); });",
      'const inc = task({ dag }, function inc(x: number) { return x + 1; });',
      'const twice = task({ dag }, function twice(x: number) { return 2 * x; });',
      'taskGroup({ dag }, function each(x: XComArg<number>) { return twice(inc(x)); }).expand(broken());',
    ]);
    expect(failed.states).toEqual({ broken: 'failed', 'each.inc': 'upstream_failed', 'each.twice': 'upstream_failed' });
    expect(failed.run.state).toBe('failed');
  });

  it('classic operators in a mapped group run once per element too, templates seeing their map index', async () => {
    const { run, tis, xcoms } = await runGroupDag('mapped_group_classic', [
      'const show = task({ dag }, function show(x: string) { return x; });',
      'taskGroup({ dag }, function each(x: string) {',
      '  const shown = show(x);',
      "  shown.then(new BashOperator({ dag, taskId: 'echo', bashCommand: 'echo index {{ ti.map_index }}' })).then(new EmptyOperator({ dag, taskId: 'done' }));",
      "}).expand(['a', 'b']);",
    ]);
    expect(run.state).toBe('success');
    for (const taskId of ['each.show', 'each.echo', 'each.done'])
      expect(instancesOf(tis, taskId)).toEqual([
        [0, 'success'],
        [1, 'success'],
      ]);
    expect(await xcoms('each.echo')).toEqual([
      [0, 'index 0'],
      [1, 'index 1'],
    ]);
  });

  it('retries are per instance: a failed try of one element is retried, and its own downstream instance waits for it', async () => {
    const { run, tis, xcoms } = await runGroupDag('mapped_group_retry', [
      'const flaky = task({ dag, retries: 1, retryDelay: { seconds: 0 } }, function flaky(x: number) {',
      "  if (x === 2 && getCurrentContext().ti.tryNumber === 1) throw new Error('first try of element 2 fails');",
      '  return x;',
      '});',
      'const after = task({ dag }, function after(x: number) { return x * 100; });',
      'taskGroup({ dag }, function each(x: number) { return after(flaky(x)); }).expand([1, 2, 3]);',
    ]);
    expect(run.state).toBe('success');
    const tries = (tis as { task_id: string; map_index: number; try_number: number }[])
      .filter((t) => t.task_id === 'each.flaky')
      .sort((a, b) => a.map_index - b.map_index)
      .map((t) => t.try_number);
    expect(tries).toEqual([1, 2, 1]);
    expect(instancesOf(tis, 'each.after')).toEqual([
      [0, 'success'],
      [1, 'success'],
      [2, 'success'],
    ]);
    expect(await xcoms('each.after')).toEqual([
      [0, 100],
      [1, 200],
      [2, 300],
    ]);
  });
});
