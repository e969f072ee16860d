import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.ts';
import { runDagFile } from '../helpers/mappedDag.ts';

const db = await createTestDatabase();

describe('TaskFlow expandArgs() and XComArg map / zip / concat (real parser, in-process executor, real database)', () => {
  it('expandArgs maps whole argument lists, literal or an upstream output; partial() is not needed for several parameters', async () => {
    const { run, xcoms, states, log } = await runDagFile(
      db,
      'expand_args',
      ['task'],
      [
        'const pairs = task({ dag }, function pairs(): unknown[] { return [[2, "x"], [3, "y"], "not a list"]; });',
        'const rep = task({ dag }, function rep(n: number, s: string) { return s.repeat(n); });',
        "rep.expandArgs([[1, 'a'], [2, 'b']]);",
        "rep.override({ taskId: 'rep_out' }).expandArgs(pairs() as never);",
      ].join('\n'),
    );
    expect(await xcoms('rep')).toEqual([
      [0, 'a'],
      [1, 'bb'],
    ]);
    expect(await xcoms('rep_out')).toEqual([
      [0, 'xx'],
      [1, 'yyy'],
    ]);
    expect(states('rep_out')).toEqual([
      [0, 'success'],
      [1, 'success'],
      [2, 'failed'],
    ]);
    expect(log('rep_out', 2)).toContain(`mapped task 'rep_out': expandArgs() needs an argument list at map index 2, got "not a list"`);
    expect(run.state).toBe('failed');
  });

  it('map() transforms each element in the instance that gets it (an element it fails on fails only that instance); as an argument it gives the whole list', async () => {
    const { xcoms, states, log } = await runDagFile(
      db,
      'xcom_map',
      ['task'],
      [
        'const nums = task({ dag }, function nums() { return [1, 2, 3]; });',
        'const each = task({ dag }, function each(label: string) { return label; });',
        'const all = task({ dag }, function all(labels: string[]) { return labels; });',
        "const labels = nums().map((n) => { if (n === 2) throw new Error('two is refused'); return `n${n * 10}`; });",
        'each.expand(labels);',
        'all(nums().map((n) => n + 1) as never);',
      ].join('\n'),
    );
    expect(states('each')).toEqual([
      [0, 'success'],
      [1, 'failed'],
      [2, 'success'],
    ]);
    expect(await xcoms('each')).toEqual([
      [0, 'n10'],
      [2, 'n30'],
    ]);
    expect(log('each', 1)).toContain('two is refused');
    expect(await xcoms('all')).toEqual([[-1, [2, 3, 4]]]);
  });

  it("zip() pairs elements (shortest, or longest padded with fillValue); concat() chains lists, a mapped task's results in map-index order", async () => {
    const { run, xcoms, instances } = await runDagFile(
      db,
      'xcom_zip_concat',
      ['task'],
      [
        'const n = task({ dag }, function nums() { return [1, 2, 3]; })();',
        "const w = task({ dag }, function words() { return ['a', 'b']; })();",
        'const none = task({ dag }, function none(): string[] { return []; })();',
        'const double = task({ dag }, function double(x: number) { return x * 2; });',
        'const show = task({ dag }, function show(p: unknown) { return p; });',
        'const whole = task({ dag }, function whole(p: unknown) { return p; });',
        "show.override({ taskId: 'short' }).expand(n.zip(w));",
        "show.override({ taskId: 'long' }).expand(n.zip(w, { fillValue: null }));",
        "show.override({ taskId: 'empty_zip' }).expand(n.zip(none));",
        "show.override({ taskId: 'chained' }).expand(double.expand(n).concat(n));",
        "whole.override({ taskId: 'whole_zip' })(n.zip(w, { fillValue: '-' }));",
        "whole.override({ taskId: 'whole_concat' })(w.concat(none, w));",
      ].join('\n'),
    );
    expect(run.state).toBe('success');
    expect(await xcoms('short')).toEqual([
      [0, [1, 'a']],
      [1, [2, 'b']],
    ]);
    expect(await xcoms('long')).toEqual([
      [0, [1, 'a']],
      [1, [2, 'b']],
      [2, [3, null]],
    ]);
    expect(instances('empty_zip').map((ti) => [ti.map_index, ti.state, ti.note])).toEqual([
      [-1, 'skipped', "mapped task 'empty_zip' skipped: the zip of the output of task 'nums' and the output of task 'none' is empty"],
    ]);
    expect((await xcoms('chained')).map(([, v]) => v)).toEqual([2, 4, 6, 1, 2, 3]);
    expect(await xcoms('whole_zip')).toEqual([
      [
        -1,
        [
          [1, 'a'],
          [2, 'b'],
          [3, '-'],
        ],
      ],
    ]);
    expect(await xcoms('whole_concat')).toEqual([[-1, ['a', 'b', 'a', 'b']]]);
  });
});
