import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chain, crossDownstream } from '../../core/chain.ts';
import { DAG } from '../../core/dag.ts';
import { TaskGroup } from '../../core/taskGroup.ts';
import { BashOperator } from '../../operators/bashOperator.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { task } from '../../operators/taskflow.ts';
import { definitionError } from '../helpers/definitionError.ts';
import * as publicApi from '../../index.ts';

const thisFile = fileURLToPath(import.meta.url);

/** Every edge of the DAG as 'up->down', sorted. */
function edges(dag: DAG): string[] {
  return dag.tasks.flatMap((t) => [...t.downstreamTaskIds].map((d) => `${t.taskId}->${d}`)).sort();
}

describe('TaskGroup ids', () => {
  it('prefixes the ids of its tasks with the group id, and nested groups with every prefixing ancestor', () => {
    const dag = new DAG({ dagId: 'ids' });
    const outer = new TaskGroup({ dag, groupId: 'outer' });
    const inner = new TaskGroup({ dag, parentGroup: outer, groupId: 'inner' });
    const a = new EmptyOperator({ dag, taskId: 'a', taskGroup: outer });
    const b = new EmptyOperator({ dag, taskId: 'b', taskGroup: inner });
    const top = new EmptyOperator({ dag, taskId: 'top' });
    expect([a.taskId, b.taskId, top.taskId]).toEqual(['outer.a', 'outer.inner.b', 'top']);
    expect([inner.groupId, inner.label, inner.parentGroup]).toEqual(['outer.inner', 'inner', outer]);
    expect([a.taskGroup, b.taskGroup, top.taskGroup]).toEqual([outer, inner, null]);
    expect(dag.getTask('outer.inner.b')).toBe(b);
    expect([...dag.taskGroupDict.keys()]).toEqual(['outer', 'outer.inner']);
    expect([...outer.children.keys()]).toEqual(['outer.inner', 'outer.a']);
    expect(outer.tasks.map((t) => t.taskId)).toEqual(['outer.inner.b', 'outer.a']);
  });

  it('a group with prefixGroupId false adds nothing to its children ids (as in Airflow), but keeps its parent prefix itself', () => {
    const dag = new DAG({ dagId: 'no_prefix' });
    const outer = new TaskGroup({ dag, groupId: 'outer' });
    const flat = new TaskGroup({ dag, parentGroup: outer, groupId: 'flat', prefixGroupId: false });
    const deep = new TaskGroup({ dag, parentGroup: flat, groupId: 'deep' });
    expect(new EmptyOperator({ dag, taskId: 'x', taskGroup: flat }).taskId).toBe('x');
    expect(new EmptyOperator({ dag, taskId: 'y', taskGroup: deep }).taskId).toBe('deep.y');
    expect([flat.groupId, deep.groupId]).toEqual(['outer.flat', 'deep']);
    // Without a prefix, dots are allowed in the group id: it never becomes part of a task id.
    expect(new TaskGroup({ dag, groupId: 'v1.2', prefixGroupId: false }).groupId).toBe('v1.2');
  });

  it('TaskFlow tasks join a group with taskGroup, and repeated calls get suffixes on the prefixed id', () => {
    const dag = new DAG({ dagId: 'taskflow_group' });
    const g = new TaskGroup({ dag, groupId: 'extract' });
    const pull = task({ dag, taskGroup: g }, function pull() {
      return 1;
    });
    const ids = [pull(), pull(), task({ dag }, function pull() {})()].map((x) => x.taskId);
    expect(ids).toEqual(['extract.pull', 'extract.pull__1', 'pull']);
    expect(g.tasks.map((t) => t.taskId)).toEqual(['extract.pull', 'extract.pull__1']);
  });

  it('is part of the public API', () => {
    expect(publicApi.TaskGroup).toBe(TaskGroup);
  });
});

describe('TaskGroup id checks', () => {
  it('rejects a duplicate group id, naming where the first one was defined', () => {
    const dag = new DAG({ dagId: 'dup' });
    const first = new TaskGroup({ dag, groupId: 'extract' });
    const err = definitionError(
      () => new TaskGroup({ dag, groupId: 'extract' }),
      `Group id 'extract' in DAG 'dup' is already used by another TaskGroup (defined at line ${first.definedAt.line} of ${thisFile})`,
    );
    expect(err.dagId).toBe('dup');
    expect(first.definedAt).toEqual({ file: thisFile, line: expect.any(Number) });
    // Nested under a prefixing parent, the same label is a different id.
    expect(new TaskGroup({ dag, parentGroup: first, groupId: 'extract' }).groupId).toBe('extract.extract');
  });

  it('group ids and task ids share one namespace, whichever comes first', () => {
    const dag = new DAG({ dagId: 'shared' });
    const load = new EmptyOperator({ dag, taskId: 'load' });
    definitionError(
      () => new TaskGroup({ dag, groupId: 'load' }),
      `Group id 'load' in DAG 'shared' is already used by a task (defined at line ${load.definedAt.line} of ${thisFile})`,
    );
    const g = new TaskGroup({ dag, groupId: 'extract' });
    definitionError(
      () => new EmptyOperator({ dag, taskId: 'extract' }),
      `Task id 'extract' in DAG 'shared' is already the id of the TaskGroup defined at line ${g.definedAt.line} of ${thisFile}`,
    );
    const flat = new TaskGroup({ dag, groupId: 'flat', prefixGroupId: false });
    definitionError(() => new EmptyOperator({ dag, taskId: 'load', taskGroup: flat }), "Task id 'load' is already used in DAG 'shared'");
    expect(dag.taskIds).toEqual(['load']);
  });

  it('rejects groups and tasks of another DAG', () => {
    const dag = new DAG({ dagId: 'mine' });
    const other = new DAG({ dagId: 'theirs' });
    const foreign = new TaskGroup({ dag: other, groupId: 'g' });
    definitionError(
      () => new TaskGroup({ dag, parentGroup: foreign, groupId: 'child' }),
      "TaskGroup 'child' in DAG 'mine': parentGroup 'g' belongs to DAG 'theirs'",
    );
    definitionError(() => new EmptyOperator({ dag, taskId: 't', taskGroup: foreign }), "task 't' in DAG 'mine': taskGroup 'g' belongs to DAG 'theirs'");
    expect(dag.taskIds).toEqual([]);
    expect([...dag.taskGroupDict.keys()]).toEqual([]);
  });

  it('checks the id like a task id, with no "." while it prefixes', () => {
    const dag = new DAG({ dagId: 'bad_ids' });
    definitionError(
      () => new TaskGroup({ dag, groupId: 'a.b' }),
      "TaskGroup 'a.b' in DAG 'bad_ids': group id cannot contain '.' while prefixGroupId is true",
      "'a_b'",
    );
    definitionError(() => new TaskGroup({ dag, groupId: 'has space' }), "Group id 'has space' in DAG 'bad_ids' is invalid", "'has_space'");
    definitionError(() => new TaskGroup({ dag, groupId: '' }), "Group id in DAG 'bad_ids' is required");
    const long = new TaskGroup({ dag, groupId: 'g'.repeat(200) });
    definitionError(() => new TaskGroup({ dag, parentGroup: long, groupId: 'h'.repeat(60) }), 'is 261 characters long; the limit is 250');
    definitionError(() => new EmptyOperator({ dag, taskId: 't'.repeat(60), taskGroup: long }), 'is 261 characters long; the limit is 250');
  });

  it('rejects bad options with what to write instead', () => {
    const dag = new DAG({ dagId: 'bad_options' });
    definitionError(
      () => new TaskGroup({ dag, groupId: 'g', prefix_group_id: false } as never),
      "TaskGroup 'g' option 'prefix_group_id' is unknown; did you mean 'prefixGroupId'?",
    );
    definitionError(() => new TaskGroup({ dag, groupId: 'g', defaultArgs: { retry: 1 } } as never), "TaskGroup 'g' defaultArgs key 'retry' is unknown");
    definitionError(() => new TaskGroup({ groupId: 'g' } as never), 'TaskGroup "g": option \'dag\' is required');
    definitionError(() => new TaskGroup({ dag, groupId: 'g', parentGroup: dag } as never), 'parentGroup must be a TaskGroup, got object');
    definitionError(() => new TaskGroup({ dag, groupId: 'g', tooltip: 3 } as never), 'tooltip must be a string');
    definitionError(
      () => new EmptyOperator({ dag, taskId: 't', taskGroup: 'g' } as never),
      "task 't' in DAG 'bad_options': taskGroup must be a TaskGroup, got string",
    );
    definitionError(() => new EmptyOperator({ dag, taskId: 't', task_group: 'g' } as never), "option 'task_group' is unknown; did you mean 'taskGroup'?");
  });
});

describe('TaskGroup defaultArgs', () => {
  it('task options win over the inner group, which wins over the outer group, which wins over the DAG', () => {
    const dag = new DAG({
      dagId: 'defaults',
      params: { region: 'eu' },
      defaultArgs: { owner: 'dag', retries: 1, pool: 'dag_pool', queue: 'dag_queue', params: { level: 'dag' } },
    });
    const outer = new TaskGroup({ dag, groupId: 'outer', defaultArgs: { retries: 2, pool: 'outer_pool', params: { level: 'outer' } } });
    const inner = new TaskGroup({ dag, parentGroup: outer, groupId: 'inner', defaultArgs: { retries: 3 } });
    const own = new EmptyOperator({ dag, taskId: 'own', taskGroup: inner, retries: 4 });
    const nested = new EmptyOperator({ dag, taskId: 'nested', taskGroup: inner });
    const inOuter = new EmptyOperator({ dag, taskId: 'in_outer', taskGroup: outer, params: { extra: true } });
    const top = new EmptyOperator({ dag, taskId: 'top' });
    const fields = (t: EmptyOperator) => [t.owner, t.retries, t.pool, t.queue, t.params];
    expect(fields(own)).toEqual(['dag', 4, 'outer_pool', 'dag_queue', { region: 'eu', level: 'outer' }]);
    expect(fields(nested)).toEqual(['dag', 3, 'outer_pool', 'dag_queue', { region: 'eu', level: 'outer' }]);
    expect(fields(inOuter)).toEqual(['dag', 2, 'outer_pool', 'dag_queue', { region: 'eu', level: 'outer', extra: true }]);
    expect(fields(top)).toEqual(['dag', 1, 'dag_pool', 'dag_queue', { region: 'eu', level: 'dag' }]);
    expect(inner.defaultArgs).toEqual({ owner: 'dag', retries: 3, pool: 'outer_pool', queue: 'dag_queue', params: { level: 'outer' } });
  });

  it('a group default is checked where the task is made, like a DAG default', () => {
    const dag = new DAG({ dagId: 'bad_default' });
    const g = new TaskGroup({ dag, groupId: 'g', defaultArgs: { retries: -1 } });
    definitionError(() => new EmptyOperator({ dag, taskId: 't', taskGroup: g }), "task 'g.t' in DAG 'bad_default': retries must be an integer >= 0, got -1");
  });
});

describe('linking groups', () => {
  /** extract = [a -> b, c] ; its roots are a and c, its leaves b and c. */
  function setup() {
    const dag = new DAG({ dagId: 'links' });
    const g = new TaskGroup({ dag, groupId: 'g' });
    const [a, b, c] = ['a', 'b', 'c'].map((taskId) => new EmptyOperator({ dag, taskId, taskGroup: g })) as [EmptyOperator, EmptyOperator, EmptyOperator];
    a.then(b);
    return { dag, g, a, b, c };
  }

  it('roots and leaves are the tasks with no upstream / downstream inside the group', () => {
    const { g, dag } = setup();
    const before = new EmptyOperator({ dag, taskId: 'before' });
    before.then(g); // an edge from outside does not change the roots
    expect(g.roots.map((t) => t.taskId)).toEqual(['g.a', 'g.c']);
    expect(g.leaves.map((t) => t.taskId)).toEqual(['g.b', 'g.c']);
  });

  it('g.then(x) links the leaves to x and returns x; x.then(g) links x to the roots and returns g', () => {
    const { dag, g } = setup();
    const start = new EmptyOperator({ dag, taskId: 'start' });
    const end = new EmptyOperator({ dag, taskId: 'end' });
    expect(start.then(g)).toBe(g);
    expect(g.then(end)).toBe(end);
    expect(edges(dag)).toEqual(['g.a->g.b', 'g.b->end', 'g.c->end', 'start->g.a', 'start->g.c']);
  });

  it('g.then(g2) links the leaves of g to the roots of g2, with nested groups inside', () => {
    const { dag, g } = setup();
    const g2 = new TaskGroup({ dag, groupId: 'g2' });
    const inner = new TaskGroup({ dag, parentGroup: g2, groupId: 'inner' });
    const x = new EmptyOperator({ dag, taskId: 'x', taskGroup: inner });
    const y = new EmptyOperator({ dag, taskId: 'y', taskGroup: g2 });
    x.then(y);
    expect(g.then(g2)).toBe(g2);
    expect(edges(dag)).toEqual(['g.a->g.b', 'g.b->g2.inner.x', 'g.c->g2.inner.x', 'g2.inner.x->g2.y']);
  });

  it('then() takes lists, XComArgs and setUpstream/setDownstream forms', () => {
    const { dag, g } = setup();
    const one = new EmptyOperator({ dag, taskId: 'one' });
    const out = task({ dag }, function produce() {
      return 1;
    })();
    expect(g.then([one, out])).toEqual([one, out]);
    const last = new EmptyOperator({ dag, taskId: 'last' });
    g.setUpstream(last);
    expect(edges(dag)).toEqual(['g.a->g.b', 'g.b->one', 'g.b->produce', 'g.c->one', 'g.c->produce', 'last->g.a', 'last->g.c']);
  });

  it('chain(a, g, b) and crossDownstream link through the group roots and leaves', () => {
    const { dag, g } = setup();
    const a = new EmptyOperator({ dag, taskId: 'first' });
    const b = new EmptyOperator({ dag, taskId: 'second' });
    chain(a, g, b);
    expect(edges(dag)).toEqual(['first->g.a', 'first->g.c', 'g.a->g.b', 'g.b->second', 'g.c->second']);
    const z = new EmptyOperator({ dag, taskId: 'z' });
    crossDownstream([g], z);
    expect(edges(dag)).toContain('g.b->z');
    expect(edges(dag)).toContain('g.c->z');
    definitionError(() => chain(a, 'g' as never), 'chain(): argument 2 is not a task or an array of tasks or TaskGroups');
  });

  it('linking a group that has no tasks yet is an error, not a silently missing edge', () => {
    const dag = new DAG({ dagId: 'empty_group' });
    const g = new TaskGroup({ dag, groupId: 'later' });
    const t = new EmptyOperator({ dag, taskId: 't' });
    definitionError(() => t.then(g), "TaskGroup 'later' in DAG 'empty_group' has no tasks yet; add its tasks before linking the group");
    definitionError(() => g.then(t), 'has no tasks yet');
    definitionError(() => chain(t, g), 'has no tasks yet');
    expect(edges(dag)).toEqual([]);
  });

  it('a cycle through groups is still found by validate()', () => {
    const { dag, g } = setup();
    const x = new EmptyOperator({ dag, taskId: 'x' });
    g.then(x);
    x.then(g);
    definitionError(() => dag.validate(), "Cycle detected in DAG 'links'");
  });

  it('awaiting a group fails loudly instead of hanging', async () => {
    const dag = new DAG({ dagId: 'await_group' });
    const g = new TaskGroup({ dag, groupId: 'g' });
    new BashOperator({ dag, taskId: 'b', bashCommand: 'true', taskGroup: g });
    await expect((async () => await (g as unknown as Promise<unknown>))()).rejects.toThrow("TaskGroup 'g' is not a promise");
  });
});
