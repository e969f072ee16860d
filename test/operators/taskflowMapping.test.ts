import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { DagDefinitionError } from '../../core/errors.ts';
import { dagHash, serializeDag } from '../../core/serialize.ts';
import { task } from '../../operators/taskflow.ts';

function mappedDag() {
  const dag = new DAG({ dagId: 'mapped' });
  const list = task({ dag }, function list() {
    return [1, 2, 3];
  });
  const double = task({ dag }, function double(x: number) {
    return x * 2;
  });
  const scale = task({ dag }, function scale(by: number, label: string, x: number) {
    return `${label}${by * x}`;
  });
  const total = task({ dag }, function total(xs: number[]) {
    return xs.reduce((a, b) => a + b, 0);
  });
  const doubled = double.expand(list());
  total(doubled);
  scale.partial(10, 'x').expand([4, 5]);
  return dag;
}

describe('TaskFlow expand() and partial().expand()', () => {
  it('serializes a mapped task with what it expands over (literal or upstream output) and links the upstream', () => {
    const s = serializeDag(mappedDag());
    const byId = new Map(s.tasks.map((t) => [t.taskId, t]));
    expect(byId.get('double')?.expandInput).toEqual({ xcomArg: { taskId: 'list', key: 'return_value' } });
    expect(byId.get('double')?.upstreamTaskIds).toEqual(['list']);
    expect(byId.get('double')?.fields.args).toEqual([]);
    expect(byId.get('scale')?.expandInput).toEqual({ literal: [4, 5] });
    expect(byId.get('scale')?.fields.args).toEqual([10, 'x']);
    expect(byId.get('total')?.upstreamTaskIds).toEqual(['double']);
    // Unmapped tasks carry no expandInput key, so their serialized form (and the DAG's hash) is as before mapping.
    expect(Object.keys(byId.get('list')!)).not.toContain('expandInput');
    expect(dagHash(s)).toBe(dagHash(serializeDag(mappedDag())));
  });

  it('rejects an input that is not a list or a task output, and literal elements that are not JSON, naming the task', () => {
    const dag = new DAG({ dagId: 'bad_expand' });
    const each = task({ dag }, function each(x: unknown) {
      return x;
    });
    expect(() => each.expand('abc' as never)).toThrow(DagDefinitionError);
    expect(() => each.expand('abc' as never)).toThrow(/task 'each'.*expand\(\) takes a list or a task output, got string/);
    expect(() => each.expand([() => 1])).toThrow(/expand\(\) list elements must be JSON values/);
    expect(dag.taskIds).toEqual([]);
  });

  it('checks element types at compile time (tsc runs over this file)', () => {
    const dag = new DAG({ dagId: 'typed_expand' });
    const numbers = task({ dag }, function numbers() {
      return [1, 2];
    });
    const words = task({ dag }, function words() {
      return ['a'];
    });
    const double = task({ dag }, function double(x: number) {
      return x * 2;
    });
    const scale = task({ dag }, function scale(by: number, x: number) {
      return by * x;
    });
    const concat = task({ dag }, function concat(xs: number[]) {
      return xs.join();
    });
    double.expand([1, 2]);
    double.expand(numbers());
    concat(scale.partial(3).expand(numbers()));
    // @ts-expect-error strings are not numbers
    double.expand(['a', 'b']);
    // @ts-expect-error a task output of strings does not feed a number parameter
    double.expand(words());
    // @ts-expect-error a function of two parameters needs partial() before expand()
    scale.expand([1]);
    // @ts-expect-error partial() binds every leading argument with its type
    scale.partial('3').expand([1]);
    expect(dag.taskIds.length).toBeGreaterThan(0);
  });
});
