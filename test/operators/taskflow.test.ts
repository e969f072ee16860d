import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { DagDefinitionError } from '../../core/errors.ts';
import { serializeDag } from '../../core/serialize.ts';
import { getCurrentContext } from '../../core/taskContext.ts';
import { task } from '../../operators/taskflow.ts';
import { isXComArg, type PlainXComArg } from '../../core/xcomArg.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { FunctionOperator } from '../../operators/functionOperator.ts';
import type { TaskFlowOperator } from '../../operators/taskFlowOperator.ts';
import { contextFor, MemoryXCom, runTask } from './fakeRunner.ts';

let n = 0;
const newDag = () => new DAG({ dagId: `tf_${++n}` });
const upstream = (arg: PlainXComArg) => [...arg.operator.upstreamTaskIds].sort();

describe('task()', () => {
  it('creates a task per call, named after the function, with Airflow’s __N suffixes for repeats', () => {
    const dag = newDag();
    const extract = task({ dag }, function extract() {
      return 1;
    });
    const ids = [extract(), extract(), extract()].map((arg) => arg.taskId);
    expect(ids).toEqual(['extract', 'extract__1', 'extract__2']);
    expect(dag.getTask('extract').operatorName).toBe('TaskFlowOperator');
  });

  it('takes taskId and other task options, and override() replaces some of them', () => {
    const dag = newDag();
    const load = task({ dag, taskId: 'load', retries: 2 }, (x: number) => x);
    const a = load(1);
    const b = load.override({ taskId: 'load_eu', queue: 'eu' })(2);
    expect([a.taskId, b.taskId]).toEqual(['load', 'load_eu']);
    expect(b.operator).toMatchObject({ retries: 2, queue: 'eu' });
    expect(load(3).taskId).toBe('load__1');
  });

  it('needs a task id for anonymous functions', () => {
    expect(() =>
      task(
        { dag: newDag() },
        (
          () => () =>
            1
        )(),
      )(),
    ).toThrow(DagDefinitionError);
    expect(() =>
      task(
        { dag: newDag() },
        (
          () => () =>
            1
        )(),
      )(),
    ).toThrow('the function has no name; use a named function or pass taskId');
  });

  it('returns an XComArg for the return value', () => {
    const out = task({ dag: newDag() }, function produce() {
      return 'x';
    })();
    expect(isXComArg(out)).toBe(true);
    expect(out).toMatchObject({ taskId: 'produce', key: 'return_value' });
    expect(out.operator.taskId).toBe('produce');
  });

  it('makes tasks whose XComArgs are arguments upstreams, also when nested in arrays and objects', () => {
    const dag = newDag();
    const a = task({ dag }, function a() {
      return 1;
    })();
    const b = task({ dag }, function b() {
      return 2;
    })();
    const c = task({ dag }, function c() {
      return 3;
    })();
    const combine = task({ dag }, function combine(x: number, opts: { list: number[]; nested: { y: number } }) {
      return x + opts.list.length + opts.nested.y;
    });
    const out = combine(a, { list: [b, 5], nested: { y: c } });
    expect(upstream(out)).toEqual(['a', 'b', 'c']);
    expect(a.operator.downstreamTaskIds).toEqual(new Set(['combine']));
  });

  it('serializes the function name and arguments, XComArgs as references', () => {
    const dag = newDag();
    const a = task({ dag }, function a() {
      return 1;
    })();
    const out = task({ dag }, function use(x: unknown, y: unknown) {
      return [x, y];
    })(a, { k: [a, 'plain'] });
    expect(out.operator.serializeFields()).toEqual({
      fnName: 'use',
      args: [{ xcomArg: { taskId: 'a', key: 'return_value' } }, { k: [{ xcomArg: { taskId: 'a', key: 'return_value' } }, 'plain'] }],
    });
    expect(serializeDag(dag).tasks.map((t) => [t.taskId, t.upstreamTaskIds])).toEqual([
      ['a', []],
      ['use', ['a']],
    ]);
  });

  it('rejects arguments that are not JSON, without adding the task', () => {
    const dag = newDag();
    const use = task({ dag }, function use(d: unknown) {
      return d;
    });
    expect(() => use(new Date())).toThrow("task 'use' in DAG 'tf_");
    expect(() => use(new Date())).toThrow('arguments must be JSON or XComArgs (task outputs): args[0] is a Date');
    expect(dag.tasks).toEqual([]);
  });

  it('rejects an XComArg from another DAG', () => {
    const other = task({ dag: newDag() }, function elsewhere() {
      return 1;
    })();
    const dag = newDag();
    expect(() =>
      task({ dag }, function use(x: number) {
        return x;
      })(other),
    ).toThrow("argument comes from task 'elsewhere' of DAG");
    expect(dag.tasks).toEqual([]);
  });
});

describe('XComArg', () => {
  it('.then() links its task like the operator’s then()', () => {
    const dag = newDag();
    const notify = new EmptyOperator({ dag, taskId: 'notify' });
    const out = task({ dag }, function work() {
      return 1;
    })();
    expect(out.then(notify)).toBe(notify);
    expect(notify.upstreamTaskIds).toEqual(new Set(['work']));
  });

  it('operators link to an XComArg’s task', () => {
    const dag = newDag();
    const start = new EmptyOperator({ dag, taskId: 'start' });
    const out = task({ dag }, function work() {
      return 1;
    })();
    const out2 = task({ dag }, function more() {
      return 2;
    })();
    start.then([out, out2]);
    expect(start.downstreamTaskIds).toEqual(new Set(['work', 'more']));
  });

  it('an operator’s .output feeds TaskFlow tasks', () => {
    const dag = newDag();
    const classic = new FunctionOperator({ dag, taskId: 'classic', fn: () => 5 });
    const out = task({ dag }, function plusOne(x: number) {
      return x + 1;
    })(classic.output);
    expect(upstream(out)).toEqual(['classic']);
  });

  it('cannot be awaited', async () => {
    const out = task({ dag: newDag() }, function work() {
      return 1;
    })();
    await expect((async () => await (out as unknown as Promise<unknown>))()).rejects.toThrow("the XComArg of task 'work' is not a promise");
  });
});

describe('TaskFlowOperator.execute', () => {
  it('calls the function with XComArgs replaced by their values, pulled through ti', async () => {
    const dag = newDag();
    const a = task({ dag }, function a() {
      return 1;
    })();
    const b = task({ dag }, function b() {
      return 2;
    })();
    const received: unknown[] = [];
    const out = task({ dag }, function use(x: number, opts: { list: unknown[] }) {
      received.push(x, opts);
      return x + 1;
    })(a, { list: [b, 'keep', '{{ ds }}'] });
    const xcomStore = new MemoryXCom();
    xcomStore.set(dag.dagId, 'a', 'return_value', 10);
    xcomStore.set(dag.dagId, 'b', 'return_value', { deep: true });
    const run = contextFor(out.operator, { xcomStore });
    expect(await runTask(run)).toBe(11);
    expect(received).toEqual([10, { list: [{ deep: true }, 'keep', '2024-01-02'] }]);
    expect(xcomStore.get(dag.dagId, 'use')).toBe(11);
    expect((out.operator as TaskFlowOperator).args[0]).toBe(a); // the operator keeps its XComArgs
  });

  it('passes values along a pipeline', async () => {
    const dag = newDag();
    const extract = task({ dag }, function extract() {
      return [1, 2, 3];
    });
    const total = task({ dag }, async function total(xs: number[]) {
      return xs.reduce((s, x) => s + x, 0);
    });
    const out = total(extract());
    const xcomStore = new MemoryXCom();
    await runTask(contextFor(dag.getTask('extract'), { xcomStore }));
    expect(await runTask(contextFor(out.operator, { xcomStore }))).toBe(6);
  });

  it('makes the context available through getCurrentContext()', async () => {
    const dag = newDag();
    const out = task({ dag }, async function whoAmI() {
      await Promise.resolve();
      const ctx = getCurrentContext();
      return `${ctx.ti.taskId}@${ctx.ds}`;
    })();
    expect(await runTask(contextFor(out.operator))).toBe('whoAmI@2024-01-02');
  });
});
