import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { dagRunOutcome, isDeadlocked } from '../../core/dagRunOutcome.ts';
import { serializeDag, type SerializedTask } from '../../core/serialize.ts';
import type { TiState } from '../../core/state.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';

function tasksOf(edges: [string, string][], extra: Record<string, { dependsOnPast?: boolean }> = {}): SerializedTask[] {
  const dag = new DAG({ dagId: `d${Math.random().toString(36).slice(2)}` });
  const ids = [...new Set(edges.flat().concat(Object.keys(extra)))];
  const ops = new Map(ids.map((id) => [id, new EmptyOperator({ dag, taskId: id, ...extra[id] })]));
  for (const [from, to] of edges) ops.get(from)!.then(ops.get(to)!);
  return serializeDag(dag).tasks;
}

describe('dagRunOutcome and isDeadlocked', () => {
  const tasks = tasksOf([['a', 'b']]);
  it('judges a finished run by its leaves', () => {
    expect(
      dagRunOutcome(
        tasks,
        new Map([
          ['a', 'success'],
          ['b', 'skipped'],
        ]),
      ),
    ).toBe('success');
    expect(
      dagRunOutcome(
        tasks,
        new Map([
          ['a', 'failed'],
          ['b', 'upstream_failed'],
        ]),
      ),
    ).toBe('failed');
    expect(
      dagRunOutcome(
        tasks,
        new Map([
          ['a', 'success'],
          ['b', 'running'],
        ]),
      ),
    ).toBeNull();
  });

  it('a run with unfinished tasks that nothing can move is deadlocked, unless it waits on the past', () => {
    const states = new Map<string, TiState>([
      ['a', 'removed'],
      ['b', null],
    ]);
    const waiting = [{ taskId: 'b', to: null, reason: 'waiting' }];
    expect(isDeadlocked(tasks, states, waiting)).toBe(true);
    expect(isDeadlocked(tasks, states, [{ ...waiting[0]!, waitingOnPast: true }])).toBe(false);
    expect(
      isDeadlocked(
        tasks,
        new Map<string, TiState>([
          ['a', 'running'],
          ['b', null],
        ]),
        waiting,
      ),
    ).toBe(false);
  });
});
