import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { Param } from '../../core/param.ts';
import { definitionError } from '../helpers/definitionError.ts';

const start = new Date('2024-01-01T00:00:00Z');

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
