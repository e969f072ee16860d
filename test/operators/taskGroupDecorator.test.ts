import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { TaskGroup } from '../../core/taskGroup.ts';
import type { PlainXComArg, XComArg } from '../../core/xcomArg.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { task } from '../../operators/taskflow.ts';
import { taskGroup } from '../../operators/taskGroupDecorator.ts';
import { MappedTaskGroup } from '../../core/mappedTaskGroup.ts';
import { serializeDag } from '../../core/serialize.ts';
import { definitionError } from '../helpers/definitionError.ts';
import * as publicApi from '../../index.ts';

const thisFile = fileURLToPath(import.meta.url);

function edges(dag: DAG): string[] {
  return dag.tasks.flatMap((t) => [...t.downstreamTaskIds].map((d) => `${t.taskId}->${d}`)).sort();
}

describe('taskGroup(): the TaskFlow-style task group (Airflow @task_group)', () => {
  it('a call adds a group named after the function; tasks created inside join it and its output wires the next task', () => {
    const dag = new DAG({ dagId: 'decorated' });
    const extract = task({ dag }, function extract() {
      return [3, 1, 3];
    });
    const dedupe = task({ dag }, function dedupe(xs: number[]) {
      return [...new Set(xs)];
    });
    const sort = task({ dag }, function sort(xs: number[]) {
      return [...xs].sort();
    });
    const load = task({ dag }, function load(xs: number[]) {
      return xs.length;
    });
    const clean = taskGroup({ dag, tooltip: 'Dedupe, then sort' }, function clean(rows: XComArg<number[]>) {
      return sort(dedupe(rows));
    });
    const out = load(clean(extract()));
    expect(dag.taskIds).toEqual(['extract', 'clean.dedupe', 'clean.sort', 'load']);
    expect(edges(dag)).toEqual(['clean.dedupe->clean.sort', 'clean.sort->load', 'extract->clean.dedupe']);
    const group = dag.taskGroupDict.get('clean')!;
    expect([group.tooltip, group.tasks.map((t) => t.taskId)]).toEqual(['Dedupe, then sort', ['clean.dedupe', 'clean.sort']]);
    expect(out.operator.taskGroup).toBeNull(); // a task made after the call is outside the group
    expect(group.definedAt).toEqual({ file: thisFile, line: expect.any(Number) });
  });

  it('a second call gets a unique id as in Airflow (name__1, name__2), and groupId / override() name it', () => {
    const dag = new DAG({ dagId: 'repeated' });
    const section = taskGroup({ dag }, function section() {
      new EmptyOperator({ dag, taskId: 'step' });
    });
    const groups = [section(), section(), section.override({ groupId: 'named' })(), section()] as TaskGroup[];
    expect(groups.map((g) => g.groupId)).toEqual(['section', 'section__1', 'named', 'section__2']);
    expect(dag.taskIds).toEqual(['section.step', 'section__1.step', 'named.step', 'section__2.step']);
  });

  it('nested calls nest, groups made with new TaskGroup inside nest too, and defaultArgs apply inner over outer', () => {
    const dag = new DAG({ dagId: 'nested', defaultArgs: { retries: 1 } });
    const inner = taskGroup({ dag, defaultArgs: { pool: 'inner_pool' } }, function inner() {
      return new EmptyOperator({ dag, taskId: 'leaf' });
    });
    const outer = taskGroup({ dag, defaultArgs: { retries: 3, pool: 'outer_pool' } }, function outer() {
      const leaf = inner();
      const plain = new TaskGroup({ dag, groupId: 'plain' });
      new EmptyOperator({ dag, taskId: 'in_plain', taskGroup: plain });
      const own = new EmptyOperator({ dag, taskId: 'own', taskGroup: plain, retries: 0 });
      return [leaf, own] as const;
    });
    const [leaf, own] = outer();
    expect([...dag.taskGroupDict.keys()]).toEqual(['outer', 'outer.inner', 'outer.plain']);
    expect(dag.taskGroupDict.get('outer.inner')!.parentGroup!.groupId).toBe('outer');
    expect(dag.taskIds).toEqual(['outer.inner.leaf', 'outer.plain.in_plain', 'outer.plain.own']);
    expect([leaf.retries, leaf.pool, own.retries, own.pool]).toEqual([3, 'inner_pool', 0, 'outer_pool']);
  });

  it('a task with an explicit taskGroup keeps it; parentGroup places the decorated group; a task of another DAG is untouched', () => {
    const dag = new DAG({ dagId: 'explicit' });
    const other = new DAG({ dagId: 'other' });
    const elsewhere = new TaskGroup({ dag, groupId: 'elsewhere' });
    const parent = new TaskGroup({ dag, groupId: 'parent' });
    const g = taskGroup({ dag, parentGroup: parent }, function g() {
      new EmptyOperator({ dag, taskId: 'mine' });
      new EmptyOperator({ dag, taskId: 'theirs', taskGroup: elsewhere });
      new EmptyOperator({ dag: other, taskId: 'foreign' });
    });
    g();
    expect(dag.taskIds).toEqual(['parent.g.mine', 'elsewhere.theirs']);
    expect(other.taskIds).toEqual(['foreign']);
  });

  it('a group function that returns nothing gives the group, linked as a whole; the group is current only during the call', () => {
    const dag = new DAG({ dagId: 'as_whole' });
    const start = new EmptyOperator({ dag, taskId: 'start' });
    const pair = taskGroup({ dag }, function pair() {
      new EmptyOperator({ dag, taskId: 'a' });
      new EmptyOperator({ dag, taskId: 'b' });
    });
    start.then(pair()).then(new EmptyOperator({ dag, taskId: 'end' }));
    expect(edges(dag)).toEqual(['pair.a->end', 'pair.b->end', 'start->pair.a', 'start->pair.b']);
  });

  it('an error inside the function leaves no group current; an async function, a nameless one or a bad second argument are clear errors', () => {
    const dag = new DAG({ dagId: 'errors' });
    const broken = taskGroup({ dag }, function broken() {
      new EmptyOperator({ dag, taskId: 'first' });
      throw new Error('boom');
    });
    expect(() => broken()).toThrow('boom');
    expect(new EmptyOperator({ dag, taskId: 'after' }).taskGroup).toBeNull();
    const later = taskGroup({ dag }, async function later() {
      new EmptyOperator({ dag, taskId: 'x' });
    });
    definitionError(() => later(), "taskGroup 'later': the group function must be synchronous");
    definitionError(() => taskGroup({ dag }, () => undefined)(), 'taskGroup(): the function has no name; use a named function or pass groupId');
    // @ts-expect-error the second argument is the group function
    definitionError(() => taskGroup({ dag }, 'nope'), 'taskGroup(): the second argument must be the group function, got string');
    // @ts-expect-error options are TaskGroup's
    definitionError(() => taskGroup({ dag, group_id: 'x' }, function g() {})(), "option 'group_id'");
  });

  it('arguments and results are checked by tsc', () => {
    const dag = new DAG({ dagId: 'typed' });
    const numbers = task({ dag }, function numbers() {
      return [1, 2];
    });
    const words = task({ dag }, function words() {
      return 'a b';
    });
    const total = task({ dag }, function total(xs: number[]) {
      return xs.reduce((a, b) => a + b, 0);
    });
    const sum = taskGroup({ dag }, function sum(xs: XComArg<number[]>, _label: string) {
      return total(xs);
    });
    const out: PlainXComArg<number> = sum(numbers(), 'n');
    // @ts-expect-error a task output of a string does not feed a number[] parameter
    sum(words(), 'w');
    // @ts-expect-error the second parameter is a string
    sum(numbers(), 2);
    // @ts-expect-error a group function returning nothing gives the TaskGroup, not an XComArg
    const wrong: XComArg = taskGroup({ dag }, function nothing() {})();
    expect([out.taskId, wrong instanceof TaskGroup]).toEqual(['sum.total', true]);
  });

  it('is part of the public API', () => {
    expect(publicApi.taskGroup).toBe(taskGroup);
  });
});

describe('taskGroup().expand(): mapped task groups (definition)', () => {
  it('every task of the group, nested groups included, maps over the group input; the roots run after the task it maps over', () => {
    const dag = new DAG({ dagId: 'mapped_def' });
    const list = task({ dag }, function list() {
      return [1, 2];
    });
    const inc = task({ dag }, function inc(x: number) {
      return x + 1;
    });
    const show = task({ dag }, function show(x: number) {
      return String(x);
    });
    const inner = taskGroup({ dag }, function inner(x: XComArg<number>) {
      return show(x);
    });
    const each = taskGroup({ dag }, function each(x: number) {
      new EmptyOperator({ dag, taskId: 'mark' });
      return inner(inc(x));
    });
    const out: XComArg<string[]> = each.expand(list());
    const group = dag.taskGroupDict.get('each')!;
    expect(group).toBeInstanceOf(MappedTaskGroup);
    expect(out.operators.map((t) => t.taskId)).toEqual(['each.inner.show']);
    const s = serializeDag(dag);
    expect(s.tasks.map((t) => [t.taskId, t.upstreamTaskIds, t.expandInput ?? null, t.mappedGroupId ?? null])).toEqual([
      ['list', [], null, null],
      ['each.mark', ['list'], { xcomArg: { taskId: 'list', key: 'return_value' } }, 'each'],
      ['each.inc', ['list'], { xcomArg: { taskId: 'list', key: 'return_value' } }, 'each'],
      ['each.inner.show', ['each.inc'], { xcomArg: { taskId: 'list', key: 'return_value' } }, 'each'],
    ]);
    expect(s.tasks.find((t) => t.taskId === 'each.inc')!.fields.args).toEqual([{ mappedArgument: { groupId: 'each' } }]);
    expect(s.taskGroup!.groups[0]!.expandInput).toEqual({ xcomArg: { taskId: 'list', key: 'return_value' } });
    // An unmapped group's serialized form has no expandInput (its hash stays as before, ADR 0015).
    expect(s.taskGroup!.groups[0]!.groups[0]!.expandInput).toBeUndefined();
  });

  it('partial() binds the leading arguments; a group returning nothing gives the group', () => {
    const dag = new DAG({ dagId: 'mapped_partial' });
    const scale = task({ dag }, function scale(by: number, x: number) {
      return by * x;
    });
    const g = taskGroup({ dag }, function g(by: number, x: number) {
      scale(by, x);
    })
      .partial(10)
      .expand([1, 2, 3]);
    expect(g).toBeInstanceOf(MappedTaskGroup);
    expect(serializeDag(dag).tasks[0]!.fields.args).toEqual([10, { mappedArgument: { groupId: 'g' } }]);
  });

  it('refuses what it cannot map: a task with expand() of its own, a mapped group inside, no tasks, its argument outside it or computed with', () => {
    const dag = new DAG({ dagId: 'mapped_errors' });
    const inc = task({ dag }, function inc(x: number) {
      return x + 1;
    });
    definitionError(
      () =>
        taskGroup({ dag }, function own(x: number) {
          inc(x);
          inc.expand([1]);
        }).expand([1, 2]),
      "mapped task group 'own' in DAG 'mapped_errors': task 'own.inc__1' inside it has expand() of its own",
    );
    const innerMapped = taskGroup({ dag }, function deep(x: number) {
      return inc(x);
    });
    definitionError(
      () =>
        taskGroup({ dag }, function outer(_x: number) {
          innerMapped.expand([1]);
        }).expand([1, 2]),
      "mapped task group 'outer' in DAG 'mapped_errors': group 'outer.deep' inside it is mapped too",
    );
    definitionError(
      () => taskGroup({ dag }, function empty(_x: number) {}).expand([1]),
      "mapped task group 'empty' in DAG 'mapped_errors': the group function added no tasks",
    );
    const elsewhere = new TaskGroup({ dag, groupId: 'elsewhere' });
    definitionError(
      () =>
        taskGroup({ dag }, function leak(x: number) {
          inc.override({ taskGroup: elsewhere })(x);
        }).expand([1]),
      "task 'elsewhere.inc' in DAG 'mapped_errors': it takes the argument of mapped task group 'leak' but is not in that group",
    );
    definitionError(
      () =>
        taskGroup({ dag }, function compute(x: number) {
          inc(x + 1);
        }).expand([1]),
      "the argument of mapped task group 'compute' stands for each element at run time",
    );
    definitionError(
      () =>
        taskGroup({ dag }, function bad(x: number) {
          inc(x);
        }).expand(5 as never),
      "TaskGroup 'bad' in DAG 'mapped_errors': expand() takes a list or a task output, got number",
    );
    definitionError(
      () =>
        taskGroup({ dag }, function fn(x: number) {
          inc(x);
        }).expand([() => 1] as never),
      'expand() list elements must be JSON values',
    );
  });

  it('tsc checks the elements against the mapped parameter, and a group of two parameters needs partial()', () => {
    const dag = new DAG({ dagId: 'mapped_types' });
    const words = task({ dag }, function words() {
      return ['a'];
    });
    const inc = task({ dag }, function inc(x: number) {
      return x + 1;
    });
    const one = taskGroup({ dag }, function one(x: XComArg<number>) {
      return inc(x);
    });
    const two = taskGroup({ dag }, function two(_label: string, x: number) {
      return inc(x);
    });
    expect(() => {
      // @ts-expect-error strings are not numbers
      one.expand(['a']);
      // @ts-expect-error a task output of strings does not feed a number parameter
      one.expand(words());
      // @ts-expect-error a group function of two parameters needs partial() before expand()
      two.expand([1]);
      // @ts-expect-error partial() binds the leading argument with its type
      two.partial(1).expand([1]);
    }).toBeDefined();
    const ok: XComArg<number[]> = two.partial('l').expand([1, 2]);
    expect(ok.operators.map((t) => t.taskId)).toEqual(['two.inc']);
  });
});
