import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { dagHash, rootTaskGroup, serializeDag, type SerializedDag } from '../../core/serialize.ts';
import { TaskGroup } from '../../core/taskGroup.ts';
import { BashOperator } from '../../operators/bashOperator.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';

/** start -> extract[ pull -> inner[ a, b ] ] -> report, plus a non-prefixing group. */
function groupedDag() {
  const dag = new DAG({ dagId: 'grouped' });
  const start = new EmptyOperator({ dag, taskId: 'start' });
  const extract = new TaskGroup({ dag, groupId: 'extract', tooltip: 'Pull the sources' });
  const inner = new TaskGroup({ dag, parentGroup: extract, groupId: 'inner' });
  const pull = new EmptyOperator({ dag, taskId: 'pull', taskGroup: extract });
  const a = new EmptyOperator({ dag, taskId: 'a', taskGroup: inner });
  const b = new EmptyOperator({ dag, taskId: 'b', taskGroup: inner });
  const flat = new TaskGroup({ dag, groupId: 'flat', prefixGroupId: false });
  const report = new EmptyOperator({ dag, taskId: 'report', taskGroup: flat });
  pull.then(inner);
  start.then(extract).then(report);
  void [a, b];
  return dag;
}

describe('serialized task groups', () => {
  it('carries the group tree, and each task its group id', () => {
    const s = serializeDag(groupedDag());
    expect(s.taskGroup).toEqual({
      groupId: null,
      label: null,
      tooltip: '',
      prefixGroupId: true,
      taskIds: ['start'],
      groups: [
        {
          groupId: 'extract',
          label: 'extract',
          tooltip: 'Pull the sources',
          prefixGroupId: true,
          taskIds: ['extract.pull'],
          groups: [{ groupId: 'extract.inner', label: 'inner', tooltip: '', prefixGroupId: true, taskIds: ['extract.inner.a', 'extract.inner.b'], groups: [] }],
        },
        { groupId: 'flat', label: 'flat', tooltip: '', prefixGroupId: false, taskIds: ['report'], groups: [] },
      ],
    });
    expect(s.tasks.map((t) => [t.taskId, t.taskGroupId, t.upstreamTaskIds])).toEqual([
      ['start', undefined, []],
      ['extract.pull', 'extract', ['start']],
      ['extract.inner.a', 'extract.inner', ['extract.pull']],
      ['extract.inner.b', 'extract.inner', ['extract.pull']],
      ['report', 'flat', ['extract.inner.a', 'extract.inner.b']],
    ]);
    expect(s.tasks[0]).not.toHaveProperty('taskGroupId');
  });

  it('survives the trip through JSON (what serialized_dag stores) unchanged, hash included', () => {
    const s = serializeDag(groupedDag());
    const stored = JSON.parse(JSON.stringify(s)) as SerializedDag;
    expect(stored).toEqual(s);
    expect(rootTaskGroup(stored)).toEqual(s.taskGroup);
    expect(dagHash(stored)).toBe(dagHash(s));
  });

  it('a change to a group alone (its tooltip) changes the hash, so the new version is stored', () => {
    const before = dagHash(serializeDag(groupedDag()));
    const dag = groupedDag();
    const s = serializeDag(dag);
    const changed = { ...s, taskGroup: { ...s.taskGroup!, groups: s.taskGroup!.groups.map((g) => ({ ...g, tooltip: 'other' })) } };
    expect(dagHash(s)).toBe(before);
    expect(dagHash(changed)).not.toBe(before);
  });

  it('a DAG without groups serializes with no group keys, and reads back as one root group holding every task', () => {
    const dag = new DAG({ dagId: 'flat_dag' });
    new EmptyOperator({ dag, taskId: 'x' }).then(new EmptyOperator({ dag, taskId: 'y' }));
    const s = serializeDag(dag);
    expect(s).not.toHaveProperty('taskGroup');
    expect(s.tasks.every((t) => !('taskGroupId' in t))).toBe(true);
    expect(rootTaskGroup(s)).toEqual({ groupId: null, label: null, tooltip: '', prefixGroupId: true, taskIds: ['x', 'y'], groups: [] });
  });

  it('the hash of a DAG without groups is the one stored before groups existed (no spurious new version on upgrade)', () => {
    // The same DAG as hashed by the serializer before task groups were added (commit d299a66), with the
    // file-dependent fields pinned; a key added to every serialized DAG or task would change it.
    const dag = new DAG({
      dagId: 'no_groups',
      schedule: '@daily',
      startDate: new Date('2024-01-01T00:00:00Z'),
      defaultArgs: { owner: 'ops', retries: 1 },
      tags: ['t'],
    });
    const a = new BashOperator({ dag, taskId: 'a', bashCommand: 'echo a' });
    const b = new EmptyOperator({ dag, taskId: 'b' });
    const c = new EmptyOperator({ dag, taskId: 'c', triggerRule: 'all_done' });
    a.then([b, c]);
    const s = serializeDag(dag);
    const pinned = { ...s, fileloc: '/dags/no_groups.ts', line: 1, tasks: s.tasks.map((t) => ({ ...t, line: 2 })) };
    expect(dagHash(pinned)).toBe('c03406429e9ea81b7c8356d73b7f0e0547fa235acb50063431d019a6bd71fa13');
  });
});
