import { describe, expect, it } from 'vitest';
import type { BaseOperator } from '../../core/baseOperator.ts';
import { chain, crossDownstream } from '../../core/chain.ts';
import { DAG } from '../../core/dag.ts';
import { DagDefinitionError } from '../../core/errors.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';

/** A DAG with one EmptyOperator per id. */
function setup(ids: string[], dagId = 'links') {
  const dag = new DAG({ dagId });
  const tasks = ids.map((taskId) => new EmptyOperator({ dag, taskId }));
  return { dag, tasks };
}

/** Every edge of the DAG as 'up->down', sorted. */
function edges(dag: DAG): string[] {
  return dag.tasks.flatMap((t) => [...t.downstreamTaskIds].map((d) => `${t.taskId}->${d}`)).sort();
}

function ids(tasks: Iterable<BaseOperator>): string[] {
  return [...tasks].map((t) => t.taskId);
}

describe('then / setUpstream / setDownstream', () => {
  it('a.then(b) links a -> b and returns b, so chains read left to right', () => {
    const {
      dag,
      tasks: [a, b, c],
    } = setup(['a', 'b', 'c']);
    const returned = a!.then(b!);
    expect(returned).toBe(b);
    returned.then(c!);
    expect(edges(dag)).toEqual(['a->b', 'b->c']);
    expect([...b!.upstreamTaskIds]).toEqual(['a']);
    expect([...b!.downstreamTaskIds]).toEqual(['c']);
  });

  it('a.then([b, c]) fans out and returns the array', () => {
    const {
      dag,
      tasks: [a, b, c],
    } = setup(['a', 'b', 'c']);
    const list = [b!, c!];
    expect(a!.then(list)).toBe(list);
    expect(edges(dag)).toEqual(['a->b', 'a->c']);
  });

  it('setUpstream and setDownstream take a task or an array', () => {
    const {
      dag,
      tasks: [a, b, c, d],
    } = setup(['a', 'b', 'c', 'd']);
    d!.setUpstream([b!, c!]);
    a!.setDownstream(b!);
    c!.setUpstream(a!);
    expect(edges(dag)).toEqual(['a->b', 'a->c', 'b->d', 'c->d']);
  });

  it('adding the same edge twice is a no-op', () => {
    const {
      dag,
      tasks: [a, b],
    } = setup(['a', 'b']);
    a!.then(b!);
    a!.then(b!);
    b!.setUpstream(a!);
    expect(edges(dag)).toEqual(['a->b']);
  });

  it('rejects a self-edge', () => {
    const {
      tasks: [a],
    } = setup(['a'], 'selfish');
    expect(() => a!.then(a!)).toThrow(DagDefinitionError);
    expect(() => a!.then(a!)).toThrow("task 'a' in DAG 'selfish': a task cannot depend on itself");
  });

  it('rejects an edge to a task of another DAG', () => {
    const {
      tasks: [a],
    } = setup(['a'], 'x');
    const {
      tasks: [b],
    } = setup(['b'], 'y');
    expect(() => a!.then(b!)).toThrow("cannot link 'a' in DAG 'x' to 'b' in DAG 'y'");
    expect(() => b!.setDownstream(a!)).toThrow("cannot link 'b' in DAG 'y' to 'a' in DAG 'x'");
    expect(a!.downstreamTaskIds.size).toBe(0);
  });

  it('rejects things that are not tasks', () => {
    const {
      tasks: [a],
    } = setup(['a']);
    expect(() => a!.then('b' as never)).toThrow('setDownstream() takes tasks or arrays of tasks, got string');
    expect(() => a!.setUpstream([undefined as never])).toThrow('setUpstream() takes tasks or arrays of tasks, got undefined');
  });

  it('a.then(fn) throws at once, explaining that operators are not promises', () => {
    const {
      tasks: [extract],
    } = setup(['extract']);
    expect(() => extract!.then((() => {}) as never)).toThrow(
      "task 'extract' is an operator, not a promise: .then() takes tasks (use a.then(b)); do not await operators",
    );
  });

  it('`await op` rejects with that message instead of hanging', async () => {
    const {
      tasks: [extract],
    } = setup(['extract']);
    const awaited = (async () => {
      // TypeScript already refuses `await extract` (TS1320); the cast stands in for plain JS or an `any`.
      await (extract as unknown);
      return 'resolved';
    })();
    const outcome = await Promise.race([
      awaited.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      new Promise((resolve) => setTimeout(() => resolve({ hung: true }), 1_000)),
    ]);
    expect(outcome).toHaveProperty('error');
    const { error } = outcome as { error: unknown };
    expect(error).toBeInstanceOf(DagDefinitionError);
    expect((error as Error).message).toContain('do not await operators');
  });
});

describe('chain', () => {
  it('links single tasks in sequence', () => {
    const {
      dag,
      tasks: [a, b, c],
    } = setup(['a', 'b', 'c']);
    chain(a!, b!, c!);
    expect(edges(dag)).toEqual(['a->b', 'b->c']);
  });

  it('fans out from a task to a list and back in to a task', () => {
    const {
      dag,
      tasks: [a, b, c, d],
    } = setup(['a', 'b', 'c', 'd']);
    chain(a!, [b!, c!], d!);
    expect(edges(dag)).toEqual(['a->b', 'a->c', 'b->d', 'c->d']);
    expect(ids(dag.roots)).toEqual(['a']);
    expect(ids(dag.leaves)).toEqual(['d']);
  });

  it('links consecutive lists of equal length pairwise', () => {
    const {
      dag,
      tasks: [a, b, c, d, e, f, g],
    } = setup(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    chain(a!, [b!, c!], [d!, e!], [f!, g!]);
    expect(edges(dag)).toEqual(['a->b', 'a->c', 'b->d', 'c->e', 'd->f', 'e->g']);
  });

  it('rejects consecutive lists of different lengths', () => {
    const {
      dag,
      tasks: [a, b, c, d, e],
    } = setup(['a', 'b', 'c', 'd', 'e']);
    expect(() => chain(a!, [b!, c!], [d!, e!, a!])).toThrow('argument 2 has 2 tasks but argument 3 has 3');
    expect(() => chain([b!, c!], [d!])).toThrow(DagDefinitionError);
    expect(edges(dag)).toEqual(['a->b', 'a->c']); // links before the bad pair were made, as in Airflow
  });

  it('rejects arguments that are not tasks, before linking anything', () => {
    const {
      dag,
      tasks: [a, b],
    } = setup(['a', 'b']);
    expect(() => chain(a!, b!, null as never)).toThrow('chain(): argument 3 is not a task or an array of tasks');
    expect(edges(dag)).toEqual([]);
  });

  it('accepts zero or one argument', () => {
    const {
      dag,
      tasks: [a],
    } = setup(['a']);
    chain();
    chain(a!);
    expect(edges(dag)).toEqual([]);
  });
});

describe('crossDownstream', () => {
  it('links every task in from to every task in to', () => {
    const {
      dag,
      tasks: [a, b, c, d],
    } = setup(['a', 'b', 'c', 'd']);
    crossDownstream([a!, b!], [c!, d!]);
    expect(edges(dag)).toEqual(['a->c', 'a->d', 'b->c', 'b->d']);
  });

  it('accepts a single downstream task', () => {
    const {
      dag,
      tasks: [a, b, c],
    } = setup(['a', 'b', 'c']);
    crossDownstream([a!, b!], c!);
    expect(edges(dag)).toEqual(['a->c', 'b->c']);
  });
});
