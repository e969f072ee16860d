import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { AirflowRescheduleException, AirflowSensorTimeout, AirflowSkipException, DagDefinitionError } from '../../core/errors.ts';
import { BashSensor } from '../../operators/sensors/bashSensor.ts';
import { FunctionSensor } from '../../operators/sensors/functionSensor.ts';
import { nextPokeIntervalMs } from '../../operators/sensors/nextPokeInterval.ts';
import { contextFor, runTask } from './fakeRunner.ts';

let n = 0;
const dag = () => new DAG({ dagId: `sensors_${++n}` });

describe('BaseSensorOperator (in process)', () => {
  it("has Airflow's defaults: poke mode, a minute between pokes, a 7-day timeout", () => {
    const s = new FunctionSensor({ dag: dag(), taskId: 's', fn: () => true });
    expect([s.mode, s.pokeIntervalMs, s.timeoutMs, s.softFail, s.silentFail, s.exponentialBackoff, s.maxWaitMs, s.reschedule]).toEqual([
      'poke',
      60_000,
      7 * 24 * 3_600_000,
      false,
      false,
      false,
      null,
      false,
    ]);
    expect(new FunctionSensor({ dag: dag(), taskId: 's', mode: 'reschedule', fn: () => true }).reschedule).toBe(true);
  });

  it('rejects bad options at the line that defines the task', () => {
    const d = dag();
    expect(() => new FunctionSensor({ dag: d, taskId: 'a', mode: 'sleep' as never, fn: () => true })).toThrow(
      /mode must be one of poke, reschedule, got "sleep"/,
    );
    expect(() => new FunctionSensor({ dag: d, taskId: 'b', pokeInterval: -1, fn: () => true })).toThrow(DagDefinitionError);
    expect(() => new FunctionSensor({ dag: d, taskId: 'c', softFail: 'yes' as never, fn: () => true })).toThrow(/softFail must be true or false/);
    expect(() => new FunctionSensor({ dag: d, taskId: 'd', poke_interval: 5 } as never)).toThrow(/fn must be a function/);
    expect(() => new FunctionSensor({ dag: d, taskId: 'e', poke_interval: 5, fn: () => true } as never)).toThrow(/did you mean 'pokeInterval'/);
    // A function or a shell command cannot wait in the triggerer (Airflow's PythonSensor and BashSensor cannot defer either).
    expect(() => new FunctionSensor({ dag: d, taskId: 'f', deferrable: true, fn: () => true })).toThrow(
      /deferrable is not supported: fn runs only in a worker.*mode: 'reschedule'/,
    );
    expect(() => new BashSensor({ dag: d, taskId: 'g', deferrable: true, bashCommand: 'true' })).toThrow(
      /deferrable is not supported: the command runs only in a worker/,
    );
    expect(d.tasks).toEqual([]);
  });

  it('silentFail: a poke that throws is logged and poking goes on', async () => {
    let calls = 0;
    const s = new FunctionSensor({
      dag: dag(),
      taskId: 's',
      pokeInterval: 1,
      silentFail: true,
      fn: () => {
        calls += 1;
        if (calls < 3) throw new Error(`flaky ${calls}`);
        return true;
      },
    });
    const run = contextFor(s);
    expect(await runTask(run)).toBeUndefined();
    expect(calls).toBe(3);
    expect(run.lines.filter((l) => l.includes('Sensor poke failed (silentFail: poking goes on): Error: flaky'))).toHaveLength(2);
  });

  it('without silentFail a poke that throws fails the try; skips and fails end it even with silentFail', async () => {
    const boom = new FunctionSensor({ dag: dag(), taskId: 's', fn: () => Promise.reject(new Error('boom')) });
    await expect(runTask(contextFor(boom))).rejects.toThrow('boom');
    const skip = new FunctionSensor({
      dag: dag(),
      taskId: 's',
      silentFail: true,
      fn: () => {
        throw new AirflowSkipException('not today');
      },
    });
    await expect(runTask(contextFor(skip))).rejects.toBeInstanceOf(AirflowSkipException);
  });

  it('poke mode: the timeout fails (AirflowSensorTimeout) or, with softFail, skips', async () => {
    const strict = new FunctionSensor({ dag: dag(), taskId: 's', pokeInterval: 5, timeout: 30, fn: () => false });
    await expect(runTask(contextFor(strict))).rejects.toBeInstanceOf(AirflowSensorTimeout);
    const soft = new FunctionSensor({ dag: dag(), taskId: 's', pokeInterval: 5, timeout: 30, softFail: true, fn: () => false });
    await expect(runTask(contextFor(soft))).rejects.toThrow(AirflowSkipException);
  });

  it('reschedule mode: a poke that is not done ends the try with the next poke time; the timeout counts from the first poke', async () => {
    const s = new FunctionSensor({ dag: dag(), taskId: 's', mode: 'reschedule', pokeInterval: 5_000, timeout: 60_000, fn: () => false });
    const before = Date.now();
    const error = await runTask(contextFor(s)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirflowRescheduleException);
    const at = (error as AirflowRescheduleException).rescheduleDate.getTime();
    expect(at).toBeGreaterThanOrEqual(before + 5_000);
    expect(at).toBeLessThanOrEqual(Date.now() + 5_000);
    // First poked 61 s ago (per task_reschedule): timed out now.
    const old = contextFor(s, { taskReschedules: { firstStartDate: new Date(Date.now() - 61_000), count: 12 } });
    await expect(runTask(old)).rejects.toBeInstanceOf(AirflowSensorTimeout);
  });

  it('a PokeReturnValue hands its xcomValue on; a bad poke result is a clear failure', async () => {
    const s = new FunctionSensor({ dag: dag(), taskId: 's', fn: () => ({ isDone: true, xcomValue: [1, 2] }) });
    const run = contextFor(s);
    expect(await runTask(run)).toEqual([1, 2]);
    expect(run.xcom.get(s.dag.dagId, 's')).toEqual([1, 2]);
    const bad = new FunctionSensor({ dag: dag(), taskId: 's', fn: () => 'yes' as never });
    await expect(runTask(contextFor(bad))).rejects.toThrow(/poke\(\) must return true, false or \{ isDone, xcomValue \}, got "yes"/);
  });

  it('the wait between pokes ends as soon as the try is cancelled', async () => {
    const abort = new AbortController();
    const s = new FunctionSensor({ dag: dag(), taskId: 's', pokeInterval: { hours: 1 }, fn: () => false });
    const run = contextFor(s, { signal: abort.signal });
    const done = runTask(run).catch((e: unknown) => e);
    setImmediate(() => abort.abort(new Error('cleared')));
    expect(await done).toEqual(new Error('cleared'));
  });
});

describe('nextPokeIntervalMs', () => {
  const base = { pokeIntervalMs: 10_000, exponentialBackoff: true, maxWaitMs: null, timeoutMs: 3_600_000, elapsedMs: 0, key: 'd#t#0' };

  it('is the poke interval without exponential backoff', () => {
    expect(nextPokeIntervalMs({ ...base, exponentialBackoff: false, pokeNumber: 7 })).toBe(10_000);
  });

  it('doubles with each poke, with jitter below the next step, and is capped by maxWait and the time left', () => {
    for (const [poke, low] of [
      [1, 5_000],
      [2, 10_000],
      [3, 20_000],
      [4, 40_000],
    ] as const) {
      const ms = nextPokeIntervalMs({ ...base, pokeNumber: poke });
      expect(ms).toBeGreaterThanOrEqual(low);
      expect(ms).toBeLessThan(2 * low);
      expect(nextPokeIntervalMs({ ...base, pokeNumber: poke })).toBe(ms); // deterministic for one sensor
    }
    expect(nextPokeIntervalMs({ ...base, pokeNumber: 10, maxWaitMs: 30_000 })).toBe(30_000);
    expect(nextPokeIntervalMs({ ...base, pokeNumber: 10, elapsedMs: 3_590_000 })).toBe(10_000);
    expect(nextPokeIntervalMs({ ...base, pokeIntervalMs: 100, pokeNumber: 1 })).toBeGreaterThanOrEqual(1_000);
  });
});
