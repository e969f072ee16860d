import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { serializeDag, type SerializedTask } from '../../core/serialize.ts';
import type { TiState } from '../../core/state.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { task } from '../../operators/taskflow.ts';
import { taskGroup } from '../../operators/taskGroupDecorator.ts';
import { decideTaskInstances } from '../../core/taskInstanceSchedulingDecisions.ts';

const NOW = new Date('2025-01-01T12:00:00Z');

function tasksOf(edges: [string, string][], extra: Record<string, { dependsOnPast?: boolean }> = {}): SerializedTask[] {
  const dag = new DAG({ dagId: `d${Math.random().toString(36).slice(2)}` });
  const ids = [...new Set(edges.flat().concat(Object.keys(extra)))];
  const ops = new Map(ids.map((id) => [id, new EmptyOperator({ dag, taskId: id, ...extra[id] })]));
  for (const [from, to] of edges) ops.get(from)!.then(ops.get(to)!);
  return serializeDag(dag).tasks;
}

const decide = (
  tasks: SerializedTask[],
  states: Record<string, TiState>,
  opts: { retryAt?: Record<string, Date>; rescheduleAt?: Record<string, Date | null>; previous?: Record<string, TiState> | null } = {},
) =>
  decideTaskInstances({
    tasks,
    states: new Map(Object.entries(states)),
    retryAt: new Map(Object.entries(opts.retryAt ?? {})),
    ...(opts.rescheduleAt ? { rescheduleAt: new Map(Object.entries(opts.rescheduleAt)) } : {}),
    previousRunStates: opts.previous === undefined || opts.previous === null ? null : new Map(Object.entries(opts.previous)),
    now: NOW,
  });

describe('decideTaskInstances', () => {
  it('schedules roots, waits for unfinished upstreams, and says why', () => {
    const tasks = tasksOf([['a', 'b']]);
    expect(decide(tasks, { a: null, b: null })).toEqual([
      expect.objectContaining({ taskId: 'a', to: 'scheduled' }),
      expect.objectContaining({ taskId: 'b', to: null, reason: expect.any(String) }),
    ]);
  });

  it('waits out a retry period, then schedules the retry', () => {
    const tasks = tasksOf([], { a: {} });
    const retryAt = { a: new Date(NOW.getTime() + 1000) };
    expect(decide(tasks, { a: 'up_for_retry' }, { retryAt })[0]).toMatchObject({ to: null, reason: expect.stringMatching(/retry period/) });
    expect(decide(tasks, { a: 'up_for_retry' }, { retryAt: { a: NOW } })[0]).toMatchObject({ to: 'scheduled' });
  });

  it('ReadyToRescheduleDep: a sensor up for reschedule waits for its reschedule date, and for a reader of it', () => {
    const tasks = tasksOf([], { a: {} });
    const later = new Date(NOW.getTime() + 1000);
    expect(decide(tasks, { a: 'up_for_reschedule' }, { rescheduleAt: { a: later } })[0]).toMatchObject({
      to: null,
      reason: `up for reschedule until ${later.toISOString()}`,
    });
    expect(decide(tasks, { a: 'up_for_reschedule' }, { rescheduleAt: { a: NOW } })[0]).toMatchObject({ to: 'scheduled' });
    // The mini scheduler does not read reschedule dates: it leaves the sensor to the scheduler.
    expect(decide(tasks, { a: 'up_for_reschedule' })[0]).toMatchObject({ to: null, reason: expect.stringMatching(/scheduler reads its reschedule date/) });
    // Other states are not held by it.
    expect(decide(tasks, { a: null }, { rescheduleAt: {} })[0]).toMatchObject({ to: 'scheduled' });
  });

  it("dependsOnPast waits for the previous run's task to succeed (or be skipped); the first run does not wait", () => {
    const tasks = tasksOf([], { a: { dependsOnPast: true } });
    expect(decide(tasks, { a: null }, { previous: null })[0]).toMatchObject({ to: 'scheduled' });
    expect(decide(tasks, { a: null }, { previous: { a: 'failed' } })[0]).toMatchObject({ to: null, waitingOnPast: true });
    expect(decide(tasks, { a: null }, { previous: { a: 'running' } })[0]).toMatchObject({ to: null, waitingOnPast: true });
    expect(decide(tasks, { a: null }, { previous: { a: 'skipped' } })[0]).toMatchObject({ to: 'scheduled' });
  });

  it('settles a whole chain below a failure in one pass', () => {
    const tasks = tasksOf([
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
    ]);
    const decisions = decide(tasks, { a: 'failed', b: null, c: null, d: null });
    expect(decisions.map((d) => [d.taskId, d.to])).toEqual([
      ['b', 'upstream_failed'],
      ['c', 'upstream_failed'],
      ['d', 'upstream_failed'],
    ]);
  });
});

describe('decideTaskInstances over expanded mapped tasks', () => {
  const decideExpanded = (tasks: SerializedTask[], states: Record<string, TiState>, expanded: Record<string, TiState[]>) =>
    decideTaskInstances({
      tasks,
      states: new Map(Object.entries(states)),
      retryAt: new Map(),
      previousRunStates: null,
      now: NOW,
      expanded: new Map(Object.entries(expanded)),
    });

  it("a downstream's trigger rule counts every instance of a mapped upstream (Airflow's behaviour)", () => {
    const tasks = tasksOf([['m', 'reduce']]);
    const reduce = (instances: TiState[]) => decideExpanded(tasks, { reduce: null }, { m: instances }).find((d) => d.taskId === 'reduce');
    expect(reduce(['success', 'running', 'success'])).toMatchObject({ to: null, reason: expect.stringContaining('3 upstream: 2 success') });
    expect(reduce(['success', 'success', 'success'])).toMatchObject({ to: 'scheduled' });
    expect(reduce(['success', 'failed', 'success'])).toMatchObject({ to: 'upstream_failed' });
  });

  it('decides an expanded task once for its open instances: scheduled after a clear only when its upstream is done again', () => {
    const tasks = tasksOf([['list', 'm']]);
    expect(decideExpanded(tasks, { list: 'success' }, { m: [null, 'success'] })).toEqual([expect.objectContaining({ taskId: 'm', to: 'scheduled' })]);
    expect(decideExpanded(tasks, { list: null }, { m: [null, null] })).toEqual([
      expect.objectContaining({ taskId: 'list', to: 'scheduled' }),
      expect.objectContaining({ taskId: 'm', to: null }),
    ]);
    expect(decideExpanded(tasks, { list: 'failed' }, { m: [null, 'up_for_retry'] })).toEqual([expect.objectContaining({ taskId: 'm', to: 'upstream_failed' })]);
    // Nothing open: nothing to decide.
    expect(decideExpanded(tasks, { list: 'success' }, { m: ['running', 'success'] })).toEqual([]);
  });

  it('a settled expanded task settles its downstream in the same pass', () => {
    const tasks = tasksOf([
      ['list', 'm'],
      ['m', 'reduce'],
    ]);
    expect(decideExpanded(tasks, { list: 'upstream_failed', reduce: null }, { m: [null, null] })).toEqual([
      expect.objectContaining({ taskId: 'm', to: 'upstream_failed' }),
      expect.objectContaining({ taskId: 'reduce', to: 'upstream_failed' }),
    ]);
  });
});

describe('decideTaskInstances in a mapped task group (ADR 0018)', () => {
  // each[ a -> b ] -> after: a and b are mapped by the group, after takes the whole group.
  function groupTasks(): SerializedTask[] {
    const dag = new DAG({ dagId: `g${Math.random().toString(36).slice(2)}` });
    const a = task({ dag }, function a(x: number) {
      return x;
    });
    const b = task({ dag }, function b(x: number) {
      return x;
    });
    const after = task({ dag }, function after(xs: number[]) {
      return xs;
    });
    after(
      taskGroup({ dag }, function each(x: number) {
        return b(a(x));
      }).expand([1, 2, 3]),
    );
    return serializeDag(dag).tasks;
  }
  const run = (states: Record<string, TiState>, expanded: Record<string, TiState[]>) =>
    decideTaskInstances({
      tasks: groupTasks(),
      states: new Map(Object.entries(states)),
      retryAt: new Map(),
      previousRunStates: null,
      now: NOW,
      expanded: new Map(Object.entries(expanded)),
    });

  it('instance i of a task waits for instance i of the group task before it, not for all of them', () => {
    expect(run({ after: null }, { 'each.a': ['success', 'running', 'failed'], 'each.b': [null, null, null] })).toEqual([
      expect.objectContaining({ taskId: 'each.b', mapIndex: 0, to: 'scheduled' }),
      expect.objectContaining({ taskId: 'each.b', mapIndex: 2, to: 'upstream_failed' }),
      // after counts every instance of b: 2 is upstream_failed now, so after is too (Airflow's all_success).
      expect.objectContaining({ taskId: 'after', to: 'upstream_failed' }),
      expect.objectContaining({ taskId: 'each.b', mapIndex: 1, to: null, reason: expect.stringContaining('1 upstream: 0 success') }),
    ]);
  });

  it('an unexpanded group task expands once the group task before it is expanded, not when it is done', () => {
    expect(run({ 'each.b': null, after: null }, { 'each.a': ['running', 'running', 'running'] })).toEqual([
      expect.objectContaining({ taskId: 'each.b', to: 'scheduled' }),
      expect.objectContaining({ taskId: 'after', to: null }),
    ]);
    // Before the group task is expanded (or settled), it waits.
    expect(run({ 'each.a': null, 'each.b': null, after: null }, {})).toEqual([
      expect.objectContaining({ taskId: 'each.a', to: 'scheduled' }),
      expect.objectContaining({ taskId: 'each.b', to: null }),
      expect.objectContaining({ taskId: 'after', to: null }),
    ]);
    expect(run({ 'each.a': 'skipped', 'each.b': null, after: null }, {})).toEqual([
      expect.objectContaining({ taskId: 'each.b', to: 'skipped' }),
      expect.objectContaining({ taskId: 'after', to: 'skipped' }),
    ]);
  });
});
