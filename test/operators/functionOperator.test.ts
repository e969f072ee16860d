import { describe, expect, it } from 'vitest';
import { BaseOperator } from '../../core/baseOperator.ts';
import { DAG } from '../../core/dag.ts';
import { AirflowError } from '../../core/errors.ts';
import { getCurrentContext, type TaskContext } from '../../core/taskContext.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { FunctionOperator } from '../../operators/functionOperator.ts';
import { contextFor, runTask } from './fakeRunner.ts';

describe('FunctionOperator.execute', () => {
  it('calls fn with the context and the rendered opKwargs; the result becomes the return_value XCom', async () => {
    const dag = new DAG({ dagId: 'fn_exec' });
    const seen: { ctx?: TaskContext; kwargs?: Record<string, unknown> } = {};
    const task = new FunctionOperator({
      dag,
      taskId: 'f',
      opKwargs: { day: '{{ ds }}', n: 3 },
      fn: (ctx, kwargs) => {
        seen.ctx = ctx;
        seen.kwargs = kwargs;
        return { doubled: Number(kwargs.n) * 2 };
      },
    });
    const run = contextFor(task);
    expect(await runTask(run)).toEqual({ doubled: 6 });
    expect(seen.ctx).toBe(run.context);
    expect(seen.kwargs).toEqual({ day: '2024-01-02', n: 3 });
    expect(run.xcom.get('fn_exec', 'f')).toEqual({ doubled: 6 });
  });

  it('awaits async functions, which can pull and push XComs through ti', async () => {
    const dag = new DAG({ dagId: 'fn_xcom' });
    const task = new FunctionOperator({
      dag,
      taskId: 'sum',
      fn: async (ctx) => {
        const [a, b] = (await ctx.ti.xcomPull({ taskIds: ['a', 'b'] })) as number[];
        await ctx.ti.xcomPush('note', 'pushed');
        return (a ?? 0) + (b ?? 0);
      },
    });
    const run = contextFor(task);
    run.xcom.set('fn_xcom', 'a', 'return_value', 2);
    run.xcom.set('fn_xcom', 'b', 'return_value', 5);
    expect(await runTask(run)).toBe(7);
    expect(run.xcom.get('fn_xcom', 'sum', 'note')).toBe('pushed');
  });

  it('makes the context available to getCurrentContext() inside fn, also after awaits', async () => {
    const dag = new DAG({ dagId: 'fn_current' });
    const task = new FunctionOperator({
      dag,
      taskId: 'f',
      fn: async () => {
        await new Promise((r) => setTimeout(r, 1));
        return getCurrentContext().ti.taskId;
      },
    });
    expect(await runTask(contextFor(task))).toBe('f');
    expect(() => getCurrentContext()).toThrow('outside a running task');
  });

  it('lets errors from fn fail the task', async () => {
    const dag = new DAG({ dagId: 'fn_fail' });
    const task = new FunctionOperator({
      dag,
      taskId: 'f',
      fn: () => {
        throw new Error('bad input');
      },
    });
    await expect(runTask(contextFor(task))).rejects.toThrow('bad input');
  });

  it('logs through ctx.log with time and level', async () => {
    const dag = new DAG({ dagId: 'fn_log' });
    const task = new FunctionOperator({
      dag,
      taskId: 'f',
      fn: (ctx) => {
        ctx.log.warn('careful\nsecond line');
      },
    });
    const run = contextFor(task);
    await runTask(run);
    expect(run.lines).toEqual([expect.stringMatching(/^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] WARNING - careful$/), expect.stringMatching(/WARNING - second line$/)]);
  });
});

describe('EmptyOperator.execute and the BaseOperator default', () => {
  it('EmptyOperator does nothing and returns undefined', async () => {
    const task = new EmptyOperator({ dag: new DAG({ dagId: 'empty_exec' }), taskId: 'e' });
    expect(await runTask(contextFor(task))).toBeUndefined();
    expect(task.tasksToSkip(undefined)).toBeNull();
  });

  it('an operator without execute() fails with a clear message', async () => {
    class OldOperator extends BaseOperator {
      serializeFields() {
        return {};
      }
    }
    const task = new OldOperator({ dag: new DAG({ dagId: 'no_exec' }), taskId: 'o' });
    const err = await runTask(contextFor(task)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AirflowError);
    expect((err as Error).message).toBe("task 'o' in DAG 'no_exec': OldOperator does not implement execute()");
  });
});
