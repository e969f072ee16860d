import { describe, expect, it } from 'vitest';
import { DAG, isDag } from '../../core/dag.ts';
import { DagCycleError, DagDefinitionError } from '../../core/errors.ts';
import { Param } from '../../core/param.ts';
import { TRIGGER_RULES, isTriggerRule } from '../../core/triggerRule.ts';
import { BashOperator, type BashOperatorOptions } from '../../operators/bashOperator.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { FunctionOperator } from '../../operators/functionOperator.ts';
import { definitionError } from '../helpers/definitionError.ts';

describe('tasks', () => {
  const dagWith = (dagId: string, extra: Partial<ConstructorParameters<typeof DAG>[0]> = {}) => new DAG({ dagId, ...extra });

  it('rejects a bad task id, naming the DAG', () => {
    const dag = dagWith('t1');
    definitionError(() => new EmptyOperator({ dag, taskId: 'has space' }), "Task id 'has space' in DAG 't1' is invalid");
    definitionError(() => new EmptyOperator({ dag, taskId: 'z'.repeat(251) }), 'Task id', 'limit is 250');
    definitionError(() => new EmptyOperator({ dag, taskId: undefined as never }), 'Task id', 'required');
    expect(dag.tasks).toEqual([]);
  });

  it('requires a dag', () => {
    definitionError(() => new EmptyOperator({ taskId: 'orphan' } as never), 'task "orphan": option \'dag\' is required');
  });

  it('rejects a duplicate task id in the same DAG', () => {
    const dag = dagWith('dup');
    new EmptyOperator({ dag, taskId: 'x' });
    definitionError(() => new EmptyOperator({ dag, taskId: 'x' }), "Task id 'x' is already used in DAG 'dup'");
    expect(dag.tasks.map((t) => t.taskId)).toEqual(['x']);
    // The same id in another DAG is fine.
    expect(new EmptyOperator({ dag: dagWith('other'), taskId: 'x' }).taskId).toBe('x');
  });

  it('rejects an unknown trigger rule, listing the allowed ones', () => {
    const dag = dagWith('tr');
    definitionError(
      () => new EmptyOperator({ dag, taskId: 'a', triggerRule: 'all_succes' as never }),
      "task 'a' in DAG 'tr'",
      '"all_succes"',
      ...TRIGGER_RULES,
    );
    expect(TRIGGER_RULES).toHaveLength(11);
    expect(isTriggerRule('none_failed_min_one_success')).toBe(true);
    expect(isTriggerRule('dummy')).toBe(false);
  });

  it('validates task options', () => {
    const dag = dagWith('opts');
    definitionError(() => new EmptyOperator({ dag, taskId: 'a', retries: -1 }), "task 'a' in DAG 'opts'", 'retries must be an integer >= 0');
    definitionError(() => new EmptyOperator({ dag, taskId: 'b', poolSlots: 0 }), 'poolSlots must be an integer >= 1');
    definitionError(() => new EmptyOperator({ dag, taskId: 'c', priorityWeight: 1.5 }), 'priorityWeight must be an integer');
    definitionError(() => new EmptyOperator({ dag, taskId: 'd', retryDelay: -5 }), 'retryDelay must be a non-negative');
    definitionError(() => new EmptyOperator({ dag, taskId: 'e', onFailureCallback: 'notify' as never }), 'onFailureCallback must be a function');
    definitionError(
      () => new EmptyOperator({ dag, taskId: 'f', executorConfig: { at: new Date() } }),
      'executorConfig must be a JSON object',
      'executorConfig.at is a Date',
    );
    definitionError(() => new EmptyOperator({ dag, taskId: 'g', retry_delay: 5 } as never), "option 'retry_delay' is unknown; did you mean 'retryDelay'?");
    definitionError(() => new EmptyOperator({ dag, taskId: 'h', pool: '' }), 'pool must be a non-empty string');
    definitionError(() => new EmptyOperator({ dag, taskId: 'i', executionTimeout: 0 }), 'executionTimeout must be longer than 0');
    expect(dag.tasks).toEqual([]);
  });

  it('validates operator options before adding the task to the DAG', () => {
    const dag = dagWith('ops');
    definitionError(() => new BashOperator({ dag, taskId: 'a' } as BashOperatorOptions), "task 'a' in DAG 'ops'", 'bashCommand must be a non-empty string');
    definitionError(() => new BashOperator({ dag, taskId: 'a', bashCommand: 'x', env: { N: 1 as never } }), 'env.N must be a string');
    definitionError(() => new BashOperator({ dag, taskId: 'a', bashCommand: 'x', skipOnExitCode: 300 }), 'skipOnExitCode');
    definitionError(() => new FunctionOperator({ dag, taskId: 'a', fn: 'main' as never }), 'fn must be a function');
    definitionError(() => new FunctionOperator({ dag, taskId: 'a', fn: () => 1, opKwargs: { n: Number.NaN } }), 'opKwargs.n is NaN');
    expect(dag.tasks).toEqual([]);
    expect(new BashOperator({ dag, taskId: 'a', bashCommand: 'true' }).skipOnExitCode).toEqual([99]);
    expect(new BashOperator({ dag, taskId: 'b', bashCommand: 'true', skipOnExitCode: null }).skipOnExitCode).toEqual([]);
  });

  it('uses the built-in defaults and converts durations to milliseconds', () => {
    const dag = dagWith('defaults');
    const t = new EmptyOperator({ dag, taskId: 't' });
    expect(t).toMatchObject({
      owner: 'airflow',
      retries: 0,
      retryDelayMs: 300_000,
      retryExponentialBackoff: false,
      maxRetryDelayMs: null,
      executionTimeoutMs: null,
      triggerRule: 'all_success',
      dependsOnPast: false,
      pool: 'default_pool',
      poolSlots: 1,
      priorityWeight: 1,
      queue: 'default',
      doc: null,
      executorConfig: null,
      onSuccessCallback: null,
    });
    const u = new EmptyOperator({ dag, taskId: 'u', retryDelay: { seconds: 30 }, maxRetryDelay: { hours: 1 }, executionTimeout: 90_000 });
    expect([u.retryDelayMs, u.maxRetryDelayMs, u.executionTimeoutMs]).toEqual([30_000, 3_600_000, 90_000]);
  });

  it('inherits defaultArgs, with explicit task options winning, and merges params', () => {
    const onFailure = () => {};
    const dag = dagWith('inherit', {
      params: { a: 1, b: 2 },
      defaultArgs: { owner: 'team', retries: 3, retryDelay: { minutes: 1 }, pool: 'etl', onFailureCallback: onFailure, params: { b: 20, c: 30 } },
    });
    const inherited = new EmptyOperator({ dag, taskId: 'inherited' });
    expect(inherited).toMatchObject({ owner: 'team', retries: 3, retryDelayMs: 60_000, pool: 'etl', onFailureCallback: onFailure });
    expect(inherited.params).toEqual({ a: 1, b: 20, c: 30 });
    const own = new EmptyOperator({ dag, taskId: 'own', owner: 'me', retries: 0, retryDelay: 1_000, params: { c: 'task', d: new Param(4) } });
    expect(own).toMatchObject({ owner: 'me', retries: 0, retryDelayMs: 1_000, pool: 'etl' });
    expect(own.params).toMatchObject({ a: 1, b: 20, c: 'task' });
    // Bad defaultArgs values are reported at the task, since that is where they are used.
    const bad = dagWith('bad_defaults', { defaultArgs: { triggerRule: 'nope' as never } });
    definitionError(() => new EmptyOperator({ dag: bad, taskId: 't' }), "task 't' in DAG 'bad_defaults'", 'unknown triggerRule "nope"');
  });

  it('looks tasks up by id', () => {
    const dag = dagWith('lookup');
    const a = new EmptyOperator({ dag, taskId: 'a' });
    new EmptyOperator({ dag, taskId: 'b' });
    expect(dag.getTask('a')).toBe(a);
    expect(dag.hasTask('b')).toBe(true);
    expect(dag.hasTask('c')).toBe(false);
    expect(dag.taskDict.get('a')).toBe(a);
    expect(dag.taskIds).toEqual(['a', 'b']);
    definitionError(() => dag.getTask('c'), "DAG 'lookup' has no task 'c'", 'a, b');
  });
});

describe('whole-DAG checks', () => {
  function dagOf(dagId: string, ids: string[]) {
    const dag = new DAG({ dagId });
    const tasks = Object.fromEntries(ids.map((taskId) => [taskId, new EmptyOperator({ dag, taskId })]));
    const t = (id: string) => tasks[id] as EmptyOperator;
    return { dag, t };
  }

  it('detects a two-task cycle and shows its path', () => {
    const { dag, t } = dagOf('cyclic', ['a', 'b']);
    t('a').then(t('b'));
    t('b').then(t('a'));
    let err: unknown;
    try {
      dag.validate();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DagCycleError);
    expect(err).toBeInstanceOf(DagDefinitionError);
    expect((err as DagCycleError).cycle).toEqual(['a', 'b', 'a']);
    expect((err as Error).message).toContain("'cyclic'");
    expect((err as Error).message).toContain('a -> b -> a');
    expect(() => dag.topologicalOrder()).toThrow(DagCycleError);
  });

  it('detects a longer cycle that does not include the first task', () => {
    const { dag, t } = dagOf('long_cycle', ['start', 'b', 'c', 'd', 'end']);
    t('start').then(t('b')).then(t('c')).then(t('d')).then(t('end'));
    t('d').then(t('b'));
    expect(() => dag.validate()).toThrow('b -> c -> d -> b');
    try {
      dag.validate();
    } catch (e) {
      expect((e as DagCycleError).cycle).toEqual(['b', 'c', 'd', 'b']);
    }
  });

  it('passes a DAG without cycles, including diamonds', () => {
    const { dag, t } = dagOf('diamond', ['a', 'b', 'c', 'd']);
    t('a').then([t('b'), t('c')]);
    t('d').setUpstream([t('b'), t('c')]);
    expect(() => dag.validate()).not.toThrow();
    expect(dag.roots.map((x) => x.taskId)).toEqual(['a']);
    expect(dag.leaves.map((x) => x.taskId)).toEqual(['d']);
  });

  it('orders tasks topologically, breaking ties by creation order', () => {
    const { dag, t } = dagOf('topo', ['z_last', 'y', 'x', 'w']);
    // x -> z_last, w -> y; z_last was created first but must wait for x.
    t('x').then(t('z_last'));
    t('w').then(t('y'));
    expect(dag.topologicalOrder()).toEqual(['x', 'z_last', 'w', 'y']);
    expect(dag.topologicalOrder()).toEqual(dag.topologicalOrder());
  });

  it('handles a long chain without overflowing the stack', () => {
    const dag = new DAG({ dagId: 'long_chain' });
    let prev = new EmptyOperator({ dag, taskId: 't0' });
    for (let i = 1; i < 20_000; i++) prev = prev.then(new EmptyOperator({ dag, taskId: `t${i}` }));
    expect(() => dag.validate()).not.toThrow();
    expect(dag.topologicalOrder()[19_999]).toBe('t19999');
  });
});

describe('branding', () => {
  it('isDag checks the brand, not the class', () => {
    expect(isDag(new DAG({ dagId: 'branded' }))).toBe(true);
    expect(isDag({ dagId: 'fake' })).toBe(false);
    expect(isDag(null)).toBe(false);
    expect(isDag({ [Symbol.for('airflow-ts.dag')]: true })).toBe(true);
  });
});
