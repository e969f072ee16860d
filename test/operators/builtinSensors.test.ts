import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { AirflowFailException, AirflowRescheduleException, DagDefinitionError } from '../../core/errors.ts';
import type { ConnectionInfo } from '../../core/taskContext.ts';
import { BashSensor } from '../../operators/sensors/bashSensor.ts';
import { DateTimeSensor } from '../../operators/sensors/dateTimeSensor.ts';
import { FileSensor } from '../../operators/sensors/fileSensor.ts';
import { TimeDeltaSensor } from '../../operators/sensors/timeDeltaSensor.ts';
import { contextFor, runTask } from './fakeRunner.ts';

let n = 0;
const dag = () => new DAG({ dagId: `builtin_sensors_${++n}` });
const pokeOnce = { mode: 'reschedule' as const }; // one poke per call: true, or AirflowRescheduleException
const fsConnection = (base: string): ConnectionInfo => ({
  conn_type: 'fs',
  host: null,
  port: null,
  login: null,
  password: null,
  schema: null,
  extra: { path: base },
});
const poked = (promise: Promise<unknown>) =>
  promise.then(
    () => 'done',
    (e: unknown) => (e instanceof AirflowRescheduleException ? 'not yet' : Promise.reject(e)),
  );

describe('TimeDeltaSensor', () => {
  it('is done once delta has passed since the end of the data interval', async () => {
    // fakeRunner's data interval ends 2024-01-02T03:04:05Z: long past.
    const past = new TimeDeltaSensor({ dag: dag(), taskId: 't', delta: { hours: 1 }, ...pokeOnce });
    expect(await poked(runTask(contextFor(past)))).toBe('done');
    const future = new TimeDeltaSensor({ dag: dag(), taskId: 't', delta: { days: 365 * 100 }, ...pokeOnce });
    expect(await poked(runTask(contextFor(future)))).toBe('not yet');
    expect(() => new TimeDeltaSensor({ dag: dag(), taskId: 't' } as never)).toThrow(/delta is required/);
  });
});

describe('DateTimeSensor', () => {
  it('waits for targetTime, a template rendered for the run', async () => {
    const rendered = new DateTimeSensor({ dag: dag(), taskId: 't', targetTime: '{{ ds }}T06:00:00Z', ...pokeOnce });
    const run = contextFor(rendered);
    expect(await poked(runTask(run))).toBe('done');
    expect(run.lines.some((l) => l.includes('Checking if the time (2024-01-02T06:00:00.000Z) has come'))).toBe(true);
    const later = new DateTimeSensor({ dag: dag(), taskId: 't', targetTime: new Date(Date.now() + 3_600_000), ...pokeOnce });
    expect(await poked(runTask(contextFor(later)))).toBe('not yet');
  });

  it('rejects a target that is not a date and time', async () => {
    expect(() => new DateTimeSensor({ dag: dag(), taskId: 't', targetTime: 'tomorrow' })).toThrow(DagDefinitionError);
    const bad = new DateTimeSensor({ dag: dag(), taskId: 't', targetTime: '{{ params.when }}', params: { when: 'soon' } });
    await expect(runTask(contextFor(bad))).rejects.toThrow(AirflowFailException);
  });
});

describe('FileSensor', () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-filesensor-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  const connections = new Map([['landing', fsConnection(base)]]);

  it("finds a file by glob under the fs connection's path, templated", async () => {
    const sensor = new FileSensor({ dag: dag(), taskId: 'f', fsConnId: 'landing', filepath: 'in/{{ ds_nodash }}/*.csv', ...pokeOnce });
    expect(await poked(runTask(contextFor(sensor, { connections })))).toBe('not yet');
    mkdirSync(path.join(base, 'in/20240102'), { recursive: true });
    writeFileSync(path.join(base, 'in/20240102/notes.txt'), '');
    expect(await poked(runTask(contextFor(sensor, { connections })))).toBe('not yet');
    writeFileSync(path.join(base, 'in/20240102/orders.csv'), 'id\n1\n');
    const run = contextFor(sensor, { connections });
    expect(await poked(runTask(run))).toBe('done');
    expect(run.lines.some((l) => l.includes(`Found file ${path.join(base, 'in/20240102/orders.csv')}`))).toBe(true);
  });

  it('a matching folder counts once it holds a file; ** crosses folders only with recursive', async () => {
    mkdirSync(path.join(base, 'deep/a/b'), { recursive: true });
    const folder = new FileSensor({ dag: dag(), taskId: 'f', fsConnId: 'landing', filepath: 'deep/a', ...pokeOnce });
    expect(await poked(runTask(contextFor(folder, { connections })))).toBe('not yet');
    writeFileSync(path.join(base, 'deep/a/b/x.json'), '{}');
    expect(await poked(runTask(contextFor(folder, { connections })))).toBe('done');
    const flat = new FileSensor({ dag: dag(), taskId: 'f', fsConnId: 'landing', filepath: 'deep/**/x.json', ...pokeOnce });
    expect(await poked(runTask(contextFor(flat, { connections })))).toBe('not yet');
    const recursive = new FileSensor({ dag: dag(), taskId: 'f', fsConnId: 'landing', filepath: 'deep/**/x.json', recursive: true, ...pokeOnce });
    expect(await poked(runTask(contextFor(recursive, { connections })))).toBe('done');
  });

  it("without fsConnId an absolute path works (fs_default's base is '/'); an unknown connection is a clear failure", async () => {
    const absolute = new FileSensor({ dag: dag(), taskId: 'f', filepath: path.join(base, 'in/*/orders.csv'), ...pokeOnce });
    expect(await poked(runTask(contextFor(absolute)))).toBe('done');
    const missing = new FileSensor({ dag: dag(), taskId: 'f', fsConnId: 'nope', filepath: 'x', ...pokeOnce });
    await expect(runTask(contextFor(missing))).rejects.toThrow(/connection 'nope' does not exist/);
  });
});

describe('BashSensor', () => {
  it('exit 0 is done, any other code is not yet; with retryExitCode other codes fail', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-bashsensor-'));
    try {
      const sensor = new BashSensor({ dag: dag(), taskId: 'b', bashCommand: `test -f ${dir}/ready`, ...pokeOnce });
      expect(await poked(runTask(contextFor(sensor)))).toBe('not yet');
      writeFileSync(path.join(dir, 'ready'), '');
      const run = contextFor(sensor);
      expect(await poked(runTask(run))).toBe('done');
      expect(run.lines.some((l) => l.includes('Command exited with return code 0'))).toBe(true);
      const strict = new BashSensor({
        dag: dag(),
        taskId: 'b',
        bashCommand: 'echo "{{ ds }}"; exit ${CODE}',
        env: { CODE: '3' },
        retryExitCode: 2,
        ...pokeOnce,
      });
      await expect(runTask(contextFor(strict))).rejects.toThrow(/exit code 3, neither 0 \(done\) nor 2 \(not yet\)/);
      const waiting = new BashSensor({ dag: dag(), taskId: 'b', bashCommand: 'exit 2', retryExitCode: 2, ...pokeOnce });
      expect(await poked(runTask(contextFor(waiting)))).toBe('not yet');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
