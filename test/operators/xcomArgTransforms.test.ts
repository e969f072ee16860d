import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { DagDefinitionError } from '../../core/errors.ts';
import { serializeDag } from '../../core/serialize.ts';
import { task } from '../../operators/taskflow.ts';

function transformsDag() {
  const dag = new DAG({ dagId: 'transforms' });
  const nums = task({ dag }, function nums() {
    return [1, 2];
  })();
  const words = task({ dag }, function words() {
    return ['a'];
  })();
  const pair = task({ dag }, function pair(p: [number | null, string | null]) {
    return p;
  });
  const one = task({ dag }, function one(x: number) {
    return x;
  });
  const add = task({ dag }, function add(a: number, b: string) {
    return `${a}${b}`;
  });
  const all = task({ dag }, function all(xs: number[]) {
    return xs;
  });
  one.expand(nums.map((n) => n * 2));
  pair.expand(nums.zip(words, { fillValue: null }));
  one.override({ taskId: 'chained' }).expand(nums.concat(nums.map((n) => n + 1)));
  add.expandArgs([
    [1, 'a'],
    [2, 'b'],
  ]);
  all(nums.map((n) => n + 1));
  return dag;
}

describe('XComArg map / zip / concat and TaskFlow expandArgs(): what the DAG file writes', () => {
  it('serializes what the scheduler needs for a length (never the map function) and links every source as an upstream', () => {
    const byId = new Map(serializeDag(transformsDag()).tasks.map((t) => [t.taskId, t]));
    const out = (taskId: string) => ({ xcomArg: { taskId, key: 'return_value' } });
    expect(byId.get('one')?.expandInput).toEqual({ map: out('nums') });
    expect(byId.get('pair')?.expandInput).toEqual({ zip: [out('nums'), out('words')], fillValue: null });
    expect(byId.get('pair')?.upstreamTaskIds).toEqual(['nums', 'words']);
    expect(byId.get('chained')?.expandInput).toEqual({ concat: [out('nums'), { map: out('nums') }] });
    expect(byId.get('add')?.expandInput).toEqual({
      args: {
        literal: [
          [1, 'a'],
          [2, 'b'],
        ],
      },
    });
    // As a plain argument the derived list is serialized in place, and links its source.
    expect(byId.get('all')?.fields.args).toEqual([{ map: out('nums') }]);
    expect(byId.get('all')?.upstreamTaskIds).toEqual(['nums']);
  });

  it('refuses what cannot be mapped, naming the task', () => {
    const dag = new DAG({ dagId: 'bad_transforms' });
    const nums = task({ dag }, function nums() {
      return [1];
    })();
    const add = task({ dag }, function add(a: number, b: number) {
      return a + b;
    });
    expect(() => nums.map('x' as never)).toThrow(/the XComArg of task 'nums' map\(\) takes a function, got string/);
    expect(() => nums.zip([1, 2] as never)).toThrow(/zip\(\) takes task outputs \(XComArgs\), got an array/);
    const other = new DAG({ dagId: 'other' });
    const foreign = task({ dag: other }, function foreign() {
      return [1];
    })();
    expect(() => nums.concat(foreign)).toThrow(/concat\(\) takes outputs of tasks in the same DAG; 'foreign' is in DAG 'other'/);
    expect(() => add.expandArgs([[1, 2], 3] as never)).toThrow(DagDefinitionError);
    expect(() => add.expandArgs([[1, 2], 3] as never)).toThrow(/task 'add'.*expandArgs\(\) takes a list of argument lists; element 1 is 3/);
    expect(() => add.expandArgs('x' as never)).toThrow(/expandArgs\(\) takes a list or a task output, got string/);
    expect(dag.taskIds).toEqual(['nums']);
  });

  it('types flow through map, zip and concat; expandArgs checks whole argument lists (tsc runs over this file)', () => {
    const dag = new DAG({ dagId: 'typed_transforms' });
    const nums = task({ dag }, function nums() {
      return [1, 2];
    })();
    const words = task({ dag }, function words() {
      return ['a'];
    })();
    const one = task({ dag }, function one(x: number) {
      return x;
    });
    const pair = task({ dag }, function pair(p: [number, string]) {
      return p;
    });
    const maybe = task({ dag }, function maybe(p: [number | null, string | null]) {
      return p;
    });
    const add = task({ dag }, function add(a: number, b: string) {
      return a + b;
    });
    one.expand(nums.map((n) => n * 2));
    pair.expand(nums.zip(words));
    maybe.expand(nums.zip(words, { fillValue: null }));
    one.expand(nums.concat(nums));
    add.expandArgs([[1, 'a']]);
    const neverCalled = () => {
      // @ts-expect-error map() gives strings; one() takes numbers
      one.expand(nums.map((n) => String(n)));
      // @ts-expect-error the tuple is [string, number], not [number, string]
      pair.expand(words.zip(nums));
      // @ts-expect-error with a fillValue an element may be null
      pair.expand(nums.zip(words, { fillValue: null }));
      // @ts-expect-error concat() of numbers and strings does not feed a number parameter
      one.expand(nums.concat(words));
      // @ts-expect-error each argument list is [number, string]
      add.expandArgs([['a', 1]]);
      // @ts-expect-error expandArgs() takes lists of whole argument lists
      add.expandArgs([1, 'a']);
    };
    void neverCalled;
    expect(dag.taskIds.filter((id) => id.startsWith('one'))).toEqual(['one', 'one__1']);
  });
});
