import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DAG, isDag, takeCreatedDags } from '../../core/dag.ts';
import { DagCycleError, DagDefinitionError } from '../../core/errors.ts';
import { Param } from '../../core/param.ts';
import { TRIGGER_RULES, isTriggerRule } from '../../core/triggerRule.ts';
import { BashOperator, type BashOperatorOptions } from '../../operators/bashOperator.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { FunctionOperator } from '../../operators/functionOperator.ts';

const start = new Date('2024-01-01T00:00:00Z');
const thisFile = fileURLToPath(import.meta.url);

/** Runs `fn`, expects a DagDefinitionError whose message contains every fragment, and returns it. */
function definitionError(fn: () => unknown, ...fragments: string[]): DagDefinitionError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a DagDefinitionError').toBeInstanceOf(DagDefinitionError);
  const err = caught as DagDefinitionError;
  for (const fragment of fragments) expect(err.message).toContain(fragment);
  return err;
}

/** The 1-based line of this file holding `marker`. */
function lineOf(marker: string): number {
  return (
    readFileSync(thisFile, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes(marker)) + 1
  );
}

describe('DAG construction', () => {
  it('keeps the options it was given, with defaults', () => {
    const dag = new DAG({ dagId: 'basic.dag-1', schedule: '@daily', startDate: start, tags: ['a', 'b'], description: 'd' });
    expect(dag.dagId).toBe('basic.dag-1');
    expect(dag.schedule).toBe('@daily');
    expect(dag.startDate?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(dag.endDate).toBeNull();
    expect(dag.catchup).toBeUndefined();
    expect(dag.timezone).toBe('UTC');
    expect(dag.tags).toEqual(['a', 'b']);
    expect(dag.description).toBe('d');
    expect(dag.maxActiveRuns).toBeNull();
    expect(dag.dagrunTimeoutMs).toBeNull();
    expect(dag.tasks).toEqual([]);
  });

  it('copies startDate so later mutation by the caller does not move it', () => {
    const d = new Date(start);
    const dag = new DAG({ dagId: 'copy_date', schedule: '@daily', startDate: d });
    d.setFullYear(2030);
    expect(dag.startDate?.getUTCFullYear()).toBe(2024);
  });

  it('rejects a DAG id with characters outside [A-Za-z0-9_.-], suggesting a fix', () => {
    const err = definitionError(() => new DAG({ dagId: 'my dag!' }), "DAG id 'my dag!'", "letters, digits, '_', '.' and '-'", "'my_dag_'");
    expect(err.name).toBe('DagDefinitionError');
  });

  it('rejects a DAG id longer than 250 characters', () => {
    definitionError(() => new DAG({ dagId: 'x'.repeat(251) }), '251 characters', 'limit is 250');
    expect(new DAG({ dagId: 'y'.repeat(250) }).dagId).toHaveLength(250);
  });

  it('rejects a missing or empty DAG id', () => {
    definitionError(() => new DAG({} as never), 'DAG id', 'required');
    definitionError(() => new DAG({ dagId: '' }), 'DAG id', 'required');
  });

  it('rejects an invalid cron expression with croner’s reason', () => {
    definitionError(
      () => new DAG({ dagId: 'bad_cron', schedule: '61 * * * *', startDate: start }),
      "DAG 'bad_cron'",
      "'61 * * * *'",
      '5-field cron',
      'minute: 61',
    );
    definitionError(() => new DAG({ dagId: 'six_fields', schedule: '0 0 0 * * *', startDate: start }), '5-field cron', '6 parts');
    definitionError(() => new DAG({ dagId: 'garbage', schedule: 'every day', startDate: start }), "'every day'");
  });

  it('rejects a cron expression that never matches', () => {
    definitionError(() => new DAG({ dagId: 'feb30', schedule: '0 0 30 2 *', startDate: start }), 'never matches');
  });

  it('accepts valid cron expressions in the DAG timezone', () => {
    const dag = new DAG({ dagId: 'cron_ok', schedule: ' 30 6 * * MON-FRI ', startDate: start, timezone: 'Europe/Amsterdam' });
    expect(dag.schedule).toBe('30 6 * * MON-FRI');
    expect(dag.timezone).toBe('Europe/Amsterdam');
  });

  it('rejects an unknown preset, listing the allowed ones', () => {
    definitionError(
      () => new DAG({ dagId: 'bad_preset', schedule: '@fortnightly', startDate: start }),
      "'@fortnightly'",
      '@once',
      '@hourly',
      '@daily',
      '@quarterly',
      '@yearly',
      '@annually',
    );
  });

  it('normalizes @annually to @yearly and keeps other presets', () => {
    expect(new DAG({ dagId: 'annual', schedule: '@annually', startDate: start }).schedule).toBe('@yearly');
    for (const preset of ['@once', '@hourly', '@weekly', '@monthly', '@quarterly']) {
      expect(new DAG({ dagId: 'preset', schedule: preset, startDate: start }).schedule).toBe(preset);
    }
  });

  it('turns a Duration schedule into a fixed interval and rejects an empty one', () => {
    expect(new DAG({ dagId: 'every', schedule: { hours: 1, minutes: 30 }, startDate: start }).schedule).toEqual({ everyMs: 5_400_000 });
    expect(new DAG({ dagId: 'every_ms', schedule: 60_000, startDate: start }).schedule).toEqual({ everyMs: 60_000 });
    definitionError(() => new DAG({ dagId: 'zero', schedule: 0, startDate: start }), 'positive Duration');
    definitionError(() => new DAG({ dagId: 'bad_unit', schedule: { weeks: 1 } as never, startDate: start }), "unknown unit 'weeks'");
  });

  it('treats null and undefined schedules as manual only', () => {
    expect(new DAG({ dagId: 'manual', schedule: null }).schedule).toBeNull();
    expect(new DAG({ dagId: 'manual2' }).schedule).toBeNull();
  });

  it('rejects an invalid timezone', () => {
    definitionError(() => new DAG({ dagId: 'bad_tz', timezone: 'Mars/Olympus_Mons' }), "DAG 'bad_tz'", 'Mars/Olympus_Mons', 'IANA', 'Europe/Amsterdam');
  });

  it('requires a startDate for any schedule, naming the fix', () => {
    definitionError(() => new DAG({ dagId: 'x', schedule: '@daily' }), "DAG 'x' has schedule '@daily' but no startDate; add startDate: new Date(...)");
    definitionError(() => new DAG({ dagId: 'once', schedule: '@once' }), "schedule '@once' but no startDate");
    definitionError(() => new DAG({ dagId: 'interval', schedule: { hours: 2 } }), 'schedule {"hours":2} but no startDate');
  });

  it('rejects endDate before startDate, and non-Date or invalid dates', () => {
    definitionError(
      () => new DAG({ dagId: 'ends_early', schedule: '@daily', startDate: start, endDate: new Date('2023-12-31T00:00:00Z') }),
      "DAG 'ends_early'",
      'endDate 2023-12-31T00:00:00.000Z is before startDate 2024-01-01T00:00:00.000Z',
    );
    expect(new DAG({ dagId: 'same_day', schedule: '@daily', startDate: start, endDate: start }).endDate).toEqual(start);
    definitionError(() => new DAG({ dagId: 'str_date', startDate: '2024-01-01' as never }), 'startDate must be a Date', "new Date('");
    definitionError(() => new DAG({ dagId: 'nan_date', startDate: new Date('not a date') }), 'startDate is an invalid Date');
  });

  it('rejects non-string tags', () => {
    definitionError(() => new DAG({ dagId: 'tags', tags: ['ok', 42 as never] }), "DAG 'tags'", 'tag 42');
    definitionError(() => new DAG({ dagId: 'tags2', tags: 'etl' as never }), 'tags must be an array');
  });

  it('checks the other option types', () => {
    definitionError(() => new DAG({ dagId: 'c', catchup: 'yes' as never }), 'catchup must be a boolean');
    definitionError(() => new DAG({ dagId: 'm', maxActiveRuns: 0 }), 'maxActiveRuns must be a positive integer');
    expect(new DAG({ dagId: 't', dagrunTimeout: { hours: 1 } }).dagrunTimeoutMs).toBe(3_600_000);
  });

  it('rejects unknown options, suggesting camelCase for Airflow’s snake_case names', () => {
    definitionError(() => new DAG({ dagId: 'snake', start_date: start } as never), "'start_date' is unknown", "did you mean 'startDate'");
    definitionError(() => new DAG({ dagId: 'unknown', scheduleInterval: '@daily' } as never), "'scheduleInterval' is unknown", 'allowed: dagId, schedule');
    definitionError(
      () => new DAG({ dagId: 'da', defaultArgs: { retry_delay: 5 } as never }),
      "defaultArgs key 'retry_delay' is unknown",
      "did you mean 'retryDelay'",
    );
  });

  it('rejects params that are not JSON, naming the param', () => {
    definitionError(() => new DAG({ dagId: 'p', params: { when: new Date() } }), "DAG 'p'", "param 'when'", 'Date');
    definitionError(() => new DAG({ dagId: 'p2', params: { f: () => 1 } }), "param 'f'", 'function');
    definitionError(() => new Param(1, { type: 'int' as never }), "type 'int'");
    definitionError(() => new Param('x', { pattern: '(' }), 'not a valid regular expression');
    definitionError(() => new Param('x', { min: 1 } as never), "unknown option 'min'");
  });
});

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

describe('DAG registry and branding', () => {
  it('takeCreatedDags returns the DAGs built since the last call, once', () => {
    takeCreatedDags();
    const one = new DAG({ dagId: 'one' });
    expect(() => new DAG({ dagId: 'bad id' })).toThrow(DagDefinitionError);
    const two = new DAG({ dagId: 'two' });
    expect(takeCreatedDags()).toEqual([one, two]);
    expect(takeCreatedDags()).toEqual([]);
  });

  it('keeps the list on globalThis so every copy of the module shares it', () => {
    takeCreatedDags();
    const dag = new DAG({ dagId: 'global' });
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('airflow-ts.createdDags')]).toEqual([dag]);
    takeCreatedDags();
  });

  it('isDag checks the brand, not the class', () => {
    expect(isDag(new DAG({ dagId: 'branded' }))).toBe(true);
    expect(isDag({ dagId: 'fake' })).toBe(false);
    expect(isDag(null)).toBe(false);
    expect(isDag({ [Symbol.for('airflow-ts.dag')]: true })).toBe(true);
  });
});

describe('definedAt', () => {
  it('points the DAG and its tasks at the lines of this file that created them', () => {
    const dag = new DAG({ dagId: 'located' }); // marker:dag-line
    const task = new EmptyOperator({ dag, taskId: 't' }); // marker:task-line
    expect(dag.definedAt).toEqual({ file: thisFile, line: lineOf('marker:dag-line') });
    expect(task.definedAt).toEqual({ file: thisFile, line: lineOf('marker:task-line') });
    expect(lineOf('marker:dag-line')).toBeGreaterThan(1);
  });

  it('skips the constructors of user subclasses, pointing at the line that used them', () => {
    class EchoOperator extends BashOperator {
      constructor(options: Omit<BashOperatorOptions, 'bashCommand'> & { text: string }) {
        super({ ...options, bashCommand: `echo ${options.text}` }); // marker:subclass-super
      }
    }
    const dag = new DAG({ dagId: 'subclassed' });
    const echo = new EchoOperator({ dag, taskId: 'echo', text: 'hi' }); // marker:subclass-use
    expect(echo.definedAt).toEqual({ file: thisFile, line: lineOf('marker:subclass-use') });
    expect(echo.operatorName).toBe('EchoOperator');
  });
});
