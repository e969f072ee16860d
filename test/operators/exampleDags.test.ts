import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { DAG } from '../../core/dag.ts';
import { serializeDag } from '../../core/serialize.ts';
import { LOGICAL_DATE, runDag } from './fakeRunner.ts';

const load = async (name: string) => ((await import(`../../dags/${name}.ts`)) as { default: DAG }).default;

describe('example DAGs run in-process', () => {
  it('example_taskflow: passes JSON along the pipeline and takes the big-day branch', async () => {
    const dag = await load('example_taskflow');
    expect(serializeDag(dag).tasks.map((t) => [t.taskId, t.upstreamTaskIds])).toEqual([
      ['extract', []],
      ['transform', ['extract']],
      ['load', ['transform']],
      ['choose_report', ['load']],
      ['big_day', ['choose_report']],
      ['quiet_day', ['choose_report']],
      ['done', ['big_day', 'quiet_day']],
    ]);
    const { xcom, skipped, lines } = await runDag(dag);
    expect(xcom.get('example_taskflow', 'transform')).toEqual({ count: 2, total: 29.5 });
    expect(skipped).toEqual(new Set(['quiet_day']));
    expect(xcom.get('example_taskflow', 'big_day')).toBe('Big day: 29.5 in orders');
    expect(lines.get('load')?.some((l) => l.endsWith('Loaded 2 orders worth 29.5'))).toBe(true);
    expect(lines.has('done')).toBe(true);
  });

  it('example_taskflow: the run’s conf moves the threshold to the quiet-day branch', async () => {
    const { xcom, skipped } = await runDag(await load('example_taskflow'), { bigDayThreshold: 100 });
    expect(skipped).toEqual(new Set(['big_day']));
    expect(xcom.get('example_taskflow', 'quiet_day')).toBe('Quiet day: 29.5 in orders');
  });

  describe('example_etl', () => {
    const workdir = `/tmp/airflow-ts-etl/${LOGICAL_DATE.toISOString().slice(0, 10)}`;
    afterAll(() => rmSync(workdir, { recursive: true, force: true }));

    it('extracts, cleans, joins and loads two orders', async () => {
      const { xcom } = await runDag(await load('example_etl'));
      expect(xcom.get('example_etl', 'load')).toBe('2');
    });
  });

  it('example_task_groups: nested groups prefix the task ids, link through roots and leaves, and give defaults', async () => {
    const dag = await load('example_task_groups');
    const s = serializeDag(dag);
    expect(s.tasks.map((t) => [t.taskId, t.upstreamTaskIds, t.retries])).toEqual([
      ['start', [], 0],
      ['extract.orders', ['start'], 2],
      ['extract.customers', ['start'], 2],
      ['transform.clean.dedupe', ['extract.customers', 'extract.orders'], 0],
      ['transform.clean.validate', ['transform.clean.dedupe'], 0],
      ['transform.join', ['extract.customers', 'transform.clean.validate'], 0],
      ['load', ['transform.join'], 0],
    ]);
    expect(s.taskGroup?.groups.map((g) => [g.groupId, g.taskIds, g.groups.map((inner) => [inner.groupId, inner.taskIds])])).toEqual([
      ['extract', ['extract.orders', 'extract.customers'], []],
      ['transform', ['transform.join'], [['transform.clean', ['transform.clean.dedupe', 'transform.clean.validate']]]],
    ]);
    const { xcom, lines } = await runDag(dag);
    expect(xcom.get('example_task_groups', 'transform.join')).toEqual([
      { id: 1, customer: 'Ada', amount: 9.5 },
      { id: 2, customer: 'Grace', amount: 20 },
    ]);
    expect(xcom.get('example_task_groups', 'load')).toBe(2);
    expect(lines.get('load')?.some((l) => l.endsWith('Loaded 2 orders: Ada 9.5, Grace 20'))).toBe(true);
  });

  it('example_params: greets with params and conf', async () => {
    const { xcom } = await runDag(await load('example_params'), { times: 2, greeting: 'Hi' });
    expect(xcom.get('example_params', 'greet')).toBe('Hi, world on 2024-01-02');
    expect(xcom.get('example_params', 'shout')).toBe('HI EVERYONE');
  });
});
