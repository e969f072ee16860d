import { describe, expect, it } from 'vitest';
import { rootTaskGroup } from '../../core/serialize.ts';
import { groupDagRunner } from '../helpers/groupDags.ts';

const runGroupDag = await groupDagRunner();

describe('taskGroup() end to end (real parser, in-process executor, real database)', () => {
  it('nested decorated groups are stored as a group tree and their output feeds a task outside them', async () => {
    const { run, states, stored, xcoms } = await runGroupDag('decorated_groups', [
      'const numbers = task({ dag }, function numbers() { return [3, 1, 3, 2]; });',
      'const dedupe = task({ dag }, function dedupe(xs: number[]) { return [...new Set(xs)]; });',
      'const sort = task({ dag }, function sort(xs: number[]) { return [...xs].sort(); });',
      'const total = task({ dag }, function total(xs: number[]) { return xs.reduce((a, b) => a + b, 0); });',
      'const clean = taskGroup({ dag }, function clean(xs: XComArg<number[]>) { return sort(dedupe(xs)); });',
      "const stats = taskGroup({ dag, tooltip: 'Clean, then add' }, function stats(xs: XComArg<number[]>) { return total(clean(xs)); });",
      'const report = task({ dag }, function report(n: number) { return `total ${n}`; });',
      'report(stats(numbers()));',
    ]);
    expect(rootTaskGroup(stored).groups).toEqual([
      {
        groupId: 'stats',
        label: 'stats',
        tooltip: 'Clean, then add',
        prefixGroupId: true,
        taskIds: ['stats.total'],
        groups: [{ groupId: 'stats.clean', label: 'clean', tooltip: '', prefixGroupId: true, taskIds: ['stats.clean.dedupe', 'stats.clean.sort'], groups: [] }],
      },
    ]);
    expect(run.state).toBe('success');
    expect(states).toEqual({ numbers: 'success', 'stats.clean.dedupe': 'success', 'stats.clean.sort': 'success', 'stats.total': 'success', report: 'success' });
    expect(await xcoms('stats.clean.sort')).toEqual([[-1, [1, 2, 3]]]);
    expect(await xcoms('report')).toEqual([[-1, 'total 6']]);
  });
});
