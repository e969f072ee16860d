import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { BranchOperator, type BranchFunction } from '../../operators/branchOperator.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { ShortCircuitOperator, type ShortCircuitOperatorOptions } from '../../operators/shortCircuitOperator.ts';
import { contextFor, runTask } from './fakeRunner.ts';

let n = 0;

/** branch -> [a, b, c]; a -> after_a; other is unrelated. */
function branchDag(fn: BranchFunction) {
  const dag = new DAG({ dagId: `branch_${++n}` });
  const branch = new BranchOperator({ dag, taskId: 'branch', fn });
  const [a, b, c] = ['a', 'b', 'c'].map((taskId) => new EmptyOperator({ dag, taskId })) as [EmptyOperator, EmptyOperator, EmptyOperator];
  branch.then([a, b, c]);
  a.then(new EmptyOperator({ dag, taskId: 'after_a' }));
  new EmptyOperator({ dag, taskId: 'other' });
  return branch;
}

async function branchOutcome(fn: BranchFunction) {
  const branch = branchDag(fn);
  const result = await runTask(contextFor(branch));
  return { result, skip: branch.tasksToSkip(result) };
}

describe('BranchOperator', () => {
  it('follows one branch and skips the other direct downstream tasks', async () => {
    expect(await branchOutcome(() => 'a')).toEqual({ result: ['a'], skip: ['b', 'c'] });
  });

  it('follows several branches, from a sync or async function', async () => {
    expect(await branchOutcome(async () => ['a', 'c'])).toEqual({ result: ['a', 'c'], skip: ['b'] });
  });

  it('skips every branch when the function returns null or an empty list', async () => {
    expect((await branchOutcome(() => null)).skip).toEqual(['a', 'b', 'c']);
    expect((await branchOutcome(() => [])).skip).toEqual(['a', 'b', 'c']);
  });

  it('can decide from XComs and params', async () => {
    const branch = branchDag(async (ctx) => (((await ctx.ti.xcomPull({ taskIds: 'score' })) as number) > Number(ctx.params.limit) ? 'a' : 'b'));
    const run = contextFor(branch, { conf: { limit: 10 } });
    run.xcom.set(branch.dag.dagId, 'score', 'return_value', 3);
    expect(branch.tasksToSkip(await runTask(run))).toEqual(['a', 'c']);
  });

  it('fails the task when the function returns an id that is not a direct downstream task', async () => {
    await expect(branchOutcome(() => 'nope')).rejects.toThrow(
      /task 'branch' in DAG 'branch_\d+': the branch function returned "nope", which is not a direct downstream task; choose from: a, b, c/,
    );
    await expect(branchOutcome(() => ['a', 'after_a', 'other'])).rejects.toThrow('returned "after_a", "other", which are not direct downstream tasks');
  });

  it('serializes the function name', () => {
    expect(
      branchDag(function pickPath() {
        return 'a';
      }).serializeFields(),
    ).toEqual({ fnName: 'pickPath' });
  });
});

/** sc -> [a, b]; a -> a2 -> a3; b -> a3 */
function shortCircuitDag(options: Omit<ShortCircuitOperatorOptions, 'dag' | 'taskId'>) {
  const dag = new DAG({ dagId: `sc_${++n}` });
  const sc = new ShortCircuitOperator({ dag, taskId: 'sc', ...options });
  const [a, b, a2, a3] = ['a', 'b', 'a2', 'a3'].map((taskId) => new EmptyOperator({ dag, taskId })) as EmptyOperator[] as [
    EmptyOperator,
    EmptyOperator,
    EmptyOperator,
    EmptyOperator,
  ];
  sc.then([a, b]);
  a.then(a2).then(a3);
  b.then(a3);
  new EmptyOperator({ dag, taskId: 'unrelated' });
  return sc;
}

describe('ShortCircuitOperator', () => {
  it('skips nothing when the condition is truthy, and returns the value', async () => {
    const sc = shortCircuitDag({ fn: () => 'go' });
    const result = await runTask(contextFor(sc));
    expect(result).toBe('go');
    expect(sc.tasksToSkip(result)).toBeNull();
  });

  it('skips every task downstream, transitively, when falsy (ignoreDownstreamTriggerRules defaults to true)', async () => {
    const sc = shortCircuitDag({ fn: async () => false });
    expect(sc.ignoreDownstreamTriggerRules).toBe(true);
    expect(sc.tasksToSkip(await runTask(contextFor(sc)))).toEqual(['a', 'b', 'a2', 'a3']);
  });

  it('skips only the direct downstream tasks when ignoreDownstreamTriggerRules is false', async () => {
    const sc = shortCircuitDag({ fn: () => 0, ignoreDownstreamTriggerRules: false });
    expect(sc.tasksToSkip(await runTask(contextFor(sc)))).toEqual(['a', 'b']);
  });

  it('treats falsy as Python does: empty arrays and objects too', () => {
    const sc = shortCircuitDag({ fn: () => null });
    for (const value of [false, 0, '', null, undefined, [], {}]) expect(sc.tasksToSkip(value), JSON.stringify(value)).not.toBeNull();
    for (const value of [true, 1, 'x', [0], { a: 1 }]) expect(sc.tasksToSkip(value), JSON.stringify(value)).toBeNull();
  });

  it('rejects a non-boolean ignoreDownstreamTriggerRules', () => {
    const dag = new DAG({ dagId: 'sc_bad' });
    expect(() => new ShortCircuitOperator({ dag, taskId: 'sc', fn: () => true, ignoreDownstreamTriggerRules: 'yes' as never })).toThrow(
      'ignoreDownstreamTriggerRules must be true or false',
    );
    expect(dag.tasks).toEqual([]);
  });
});
