import { describe, expect, it } from 'vitest';
import { relativeTaskIds } from '../../core/relatives.ts';

// y -> n -> x -> leaf, and n -> d
const edges = (pairs: [string, string][]) => {
  const ids = [...new Set(pairs.flat())];
  return ids.map((taskId) => ({
    taskId,
    upstreamTaskIds: pairs.filter(([, to]) => to === taskId).map(([from]) => from),
    downstreamTaskIds: pairs.filter(([from]) => from === taskId).map(([, to]) => to),
  }));
};
const TASKS = edges([
  ['y', 'n'],
  ['n', 'x'],
  ['n', 'd'],
  ['x', 'leaf'],
]);
const sorted = (ids: Set<string>) => [...ids].sort();

describe('relativeTaskIds', () => {
  it('is the named tasks alone unless asked for more', () => {
    expect(sorted(relativeTaskIds(TASKS, ['n'], {}))).toEqual(['n']);
  });

  it('walks downstream and upstream transitively', () => {
    expect(sorted(relativeTaskIds(TASKS, ['n'], { downstream: true }))).toEqual(['d', 'leaf', 'n', 'x']);
    expect(sorted(relativeTaskIds(TASKS, ['x'], { upstream: true }))).toEqual(['n', 'x', 'y']);
  });

  it('a task reached upstream of one named task does not cut the downstream walk of another', () => {
    // upstream of x reaches n; downstream of y must still go through n to d.
    expect(sorted(relativeTaskIds(TASKS, ['x', 'y'], { upstream: true, downstream: true }))).toEqual(['d', 'leaf', 'n', 'x', 'y']);
  });

  it('ignores ids that are not in the DAG beyond naming them', () => {
    expect(sorted(relativeTaskIds(TASKS, ['ghost'], { upstream: true, downstream: true }))).toEqual(['ghost']);
  });
});
