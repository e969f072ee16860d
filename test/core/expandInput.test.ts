import { describe, expect, it } from 'vitest';
import { expansionOf, xcomRefKey, xcomRefsOf, type SerializedExpandInput, type XComRef } from '../../core/expandInput.ts';

const out = (taskId: string, key = 'return_value') => ({ xcomArg: { taskId, key } });

/** expansionOf with the XComs in `xcoms` (task id -> value; a task missing: no XCom pushed). */
function expand(input: SerializedExpandInput, xcoms: Record<string, unknown> = {}, max = 1024) {
  return expansionOf('t', input, (ref: XComRef) => xcoms[ref.taskId], max);
}

describe('expansionOf: the length the scheduler computes, without running user code', () => {
  it('a single list: its length; empty skips; not a list or too long fails, naming the source', () => {
    expect(expand({ literal: [1, 2, 3] })).toEqual({ to: 'expand', length: 3 });
    expect(expand(out('list'), { list: ['a', 'b'] })).toEqual({ to: 'expand', length: 2 });
    expect(expand(out('list'), { list: [] })).toEqual({ to: 'skipped', reason: "mapped task 't' skipped: the output of task 'list' is empty" });
    expect(expand(out('one'), { one: 42 })).toEqual({
      to: 'failed',
      reason: "cannot expand mapped task 't': the output of task 'one' must be a list, got number",
    });
    expect(expand(out('gone'))).toMatchObject({ reason: expect.stringContaining('got nothing (no XCom was pushed)') });
    expect(expand({ literal: [1, 2, 3, 4] }, {}, 3)).toEqual({
      to: 'failed',
      reason: "cannot expand mapped task 't': its literal list has 4 elements, over core.maxMapLength (3)",
    });
  });

  it('a product (classic expand with several fields) is as long as its lengths multiplied; any empty field skips it', () => {
    const product = (): SerializedExpandInput => ({
      product: [
        { field: 'bashCommand', source: { literal: ['a', 'b', 'c'] } },
        { field: 'env', source: out('envs') },
      ],
    });
    expect(expand(product(), { envs: [{}, {}] })).toEqual({ to: 'expand', length: 6 });
    expect(expand(product(), { envs: [] })).toEqual({
      to: 'skipped',
      reason: "mapped task 't' skipped: field 'env' (the output of task 'envs') is empty",
    });
    expect(expand(product(), { envs: 'x' })).toEqual({
      to: 'failed',
      reason: "cannot expand mapped task 't': field 'env': the output of task 'envs' must be a list, got string",
    });
    // The limit holds for the number of instances: 3 × 2 = 6 > 5, though each list is short.
    expect(expand(product(), { envs: [{}, {}] }, 5)).toEqual({
      to: 'failed',
      reason: "cannot expand mapped task 't': the product of 'bashCommand' × 'env' has 6 elements, over core.maxMapLength (5)",
    });
  });

  it('kwargs and args lists are as long as their list; map keeps its length; zip is the shortest (longest with fillValue); concat the sum', () => {
    expect(expand({ kwargs: out('opts') }, { opts: [{}, {}, {}] })).toEqual({ to: 'expand', length: 3 });
    expect(expand({ args: { literal: [[1, 2]] } })).toEqual({ to: 'expand', length: 1 });
    expect(expand({ map: out('list') }, { list: [1, 2, 3, 4] })).toEqual({ to: 'expand', length: 4 });
    const xcoms = { a: [1, 2, 3], b: ['x'] };
    expect(expand({ zip: [out('a'), out('b')] }, xcoms)).toEqual({ to: 'expand', length: 1 });
    expect(expand({ zip: [out('a'), out('b')], fillValue: null }, xcoms)).toEqual({ to: 'expand', length: 3 });
    expect(expand({ concat: [out('a'), out('b'), { literal: [0] }] }, xcoms)).toEqual({ to: 'expand', length: 5 });
    expect(expand({ zip: [out('a'), out('b')] }, { a: [1], b: [] })).toEqual({
      to: 'skipped',
      reason: "mapped task 't' skipped: the zip of the output of task 'a' and the output of task 'b' is empty",
    });
    expect(expand({ concat: [out('a'), { map: out('b') }] }, { a: [1] })).toMatchObject({
      to: 'failed',
      reason: "cannot expand mapped task 't': the output of task 'b' must be a list, got nothing (no XCom was pushed)",
    });
  });

  it('lists every upstream XCom the length depends on, each once', () => {
    const input: SerializedExpandInput = {
      product: [
        { field: 'x', source: { zip: [out('a'), { map: out('b', 'k') }] } },
        { field: 'y', source: { concat: [out('a'), { literal: [1] }] } },
      ],
    };
    expect(xcomRefsOf(input).map(xcomRefKey)).toEqual([xcomRefKey({ taskId: 'a', key: 'return_value' }), xcomRefKey({ taskId: 'b', key: 'k' })]);
    expect(xcomRefsOf({ literal: [1] })).toEqual([]);
  });
});
