import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { dsAdd, dsFormat, strftime } from '../../core/macros.ts';
import { Param } from '../../core/param.ts';
import { TemplateRenderError } from '../../core/errors.ts';
import { renderTemplateFields } from '../../core/templating.ts';
import { BashOperator } from '../../operators/bashOperator.ts';
import { FunctionOperator } from '../../operators/functionOperator.ts';
import { contextFor, MemoryXCom } from './fakeRunner.ts';

let n = 0;
const newDag = (params: Record<string, unknown> = {}) => new DAG({ dagId: `tpl_${++n}`, params });

/** Renders `template` as a BashOperator's command, with optional extra context inputs. */
async function render(template: string, extra: Parameters<typeof contextFor>[1] = {}, params: Record<string, unknown> = {}): Promise<string> {
  const task = new BashOperator({ dag: newDag(params), taskId: 't', bashCommand: template });
  const { context } = contextFor(task, extra);
  return (await renderTemplateFields(task, context)).bashCommand as string;
}

describe('template context', () => {
  it('has Airflow’s date names, in UTC', async () => {
    expect(await render('{{ ds }} {{ ds_nodash }} {{ ts }} {{ ts_nodash }} {{ ts_nodash_with_tz }}')).toBe(
      '2024-01-02 20240102 2024-01-02T03:04:05+00:00 20240102T030405 20240102T030405+0000',
    );
  });

  it('renders dates like Airflow’s datetimes, with strftime and the date filters', async () => {
    expect(await render('{{ logical_date }}|{{ logical_date.strftime("%Y/%m") }}|{{ data_interval_start | ds }}|{{ dag_run.logical_date | ts_nodash }}')).toBe(
      '2024-01-02T03:04:05+00:00|2024/01|2024-01-01|20240102T030405',
    );
  });

  it('has run, dag, task and task instance fields', async () => {
    expect(
      await render(
        '{{ run_id }}|{{ dag_run.run_id }}|{{ dag_run.run_type }}|{{ dag.dagId }}|{{ task.taskId }}|{{ ti.task_id }}|{{ ti.try_number }}|{{ task_instance.map_index }}|{{ test_mode }}',
      ),
    ).toBe(`manual__2024-01-02T03:04:05+00:00|manual__2024-01-02T03:04:05+00:00|manual|tpl_${n}|t|t|1|-1|false`);
  });

  it('gives params: Param defaults, task params over DAG params, the run’s conf over both', async () => {
    const dag = newDag({ a: new Param('dag-a'), b: 'dag-b', c: 'dag-c' });
    const task = new BashOperator({ dag, taskId: 't', bashCommand: '{{ params.a }} {{ params.b }} {{ params.c }} {{ params.d }}', params: { b: 'task-b' } });
    const rendered = async (overrides: Parameters<typeof contextFor>[1]) => (await renderTemplateFields(task, contextFor(task, overrides).context)).bashCommand;
    expect(await rendered({})).toBe('dag-a task-b dag-c ');
    expect(await rendered({ conf: { c: 'conf-c', d: 'conf-d' } })).toBe('dag-a task-b conf-c conf-d');
    expect(await rendered({ conf: { c: 'conf-c' }, dagRunConfOverridesParams: false })).toBe('dag-a task-b dag-c ');
    expect(await render('{{ dag_run.conf.x }}', { conf: { x: 42 } })).toBe('42');
  });

  it('reads variables: var.value, var.json and get() with a default', async () => {
    const variables = new Map([
      ['bucket', 's3://data'],
      ['settings', '{"region": "eu", "sizes": [1, 2]}'],
    ]);
    expect(
      await render('{{ var.value.bucket }} {{ var.json.settings.region }} {{ var.json.settings.sizes[1] }} {{ var.value.get("nope", "fallback") }}', {
        variables,
      }),
    ).toBe('s3://data eu 2 fallback');
  });

  it('fails on an unknown variable instead of rendering nothing', async () => {
    await expect(render('rm -rf /{{ var.value.dir }}')).rejects.toThrow("Variable 'dir' does not exist");
  });

  it('reads connections', async () => {
    const connections = new Map([
      ['warehouse', { conn_type: 'postgres', host: 'db.local', port: 5432, login: 'etl', password: 'pw', schema: 'dw', extra: { sslmode: 'require' } }],
    ]);
    expect(
      await render('{{ conn.warehouse.host }}:{{ conn.warehouse.port }}/{{ conn.warehouse.schema }}?{{ conn.warehouse.extra.sslmode }}', { connections }),
    ).toBe('db.local:5432/dw?require');
    await expect(render('{{ conn.missing.host }}', { connections })).rejects.toThrow("Connection 'missing' does not exist");
  });

  it('has Airflow’s macros', async () => {
    expect(await render('{{ macros.ds_add(ds, 5) }} {{ macros.ds_add(ds, -2) }} {{ macros.ds_format(ds, "%Y-%m-%d", "%d/%m/%y") }}')).toBe(
      '2024-01-07 2023-12-31 02/01/24',
    );
  });

  it('pulls XComs with ti.xcom_pull, positionally or by keyword', async () => {
    const dag = newDag();
    const task = new BashOperator({
      dag,
      taskId: 'report',
      bashCommand:
        "{{ ti.xcom_pull('count') }} {{ ti.xcom_pull(task_ids='stats', key='mean') }} {{ task_instance.xcom_pull(task_ids=['count', 'stats'])[1].max }} {{ ti.xcom_pull(task_ids='nothing') }}",
    });
    const xcomStore = new MemoryXCom();
    xcomStore.set(dag.dagId, 'count', 'return_value', 3);
    xcomStore.set(dag.dagId, 'stats', 'mean', 1.5);
    xcomStore.set(dag.dagId, 'stats', 'return_value', { max: 9 });
    const { context } = contextFor(task, { xcomStore });
    expect((await renderTemplateFields(task, context)).bashCommand).toBe('3 1.5 9 ');
  });

  it('supports Jinja habits: True/None, str.replace of every match, tojson, dict.items()', async () => {
    expect(
      await render(
        "{{ ds.replace('-', '') }} {{ True }} {{ None is none }} {{ {'a': 1} | tojson }} {% for k, v in {'x': 1}.items() %}{{ k }}={{ v }}{% endfor %}",
      ),
    ).toBe('20240102 true true {"a":1} x=1');
  });

  it('renders undefined names as empty, without throwing', async () => {
    expect(await render('[{{ no_such_thing }}][{{ params.missing }}]')).toBe('[][]');
  });
});

describe('renderTemplateFields', () => {
  it('renders strings nested in objects and arrays, keeps keys and other values, and leaves the operator alone', async () => {
    const opKwargs = { day: '{{ ds }}', nested: { list: ['{{ ds_nodash }}', 7, null, { deep: '{{ params.who }}' }] }, '{{ key }}': true };
    const task = new FunctionOperator({ dag: newDag({ who: 'ada' }), taskId: 'f', fn: () => null, opKwargs });
    const rendered = await renderTemplateFields(task, contextFor(task).context);
    expect(rendered).toEqual({ opKwargs: { day: '2024-01-02', nested: { list: ['20240102', 7, null, { deep: 'ada' }] }, '{{ key }}': true } });
    expect(task.opKwargs.day).toBe('{{ ds }}');
  });

  it('renders every template field, null ones included', async () => {
    const task = new BashOperator({ dag: newDag(), taskId: 'b', bashCommand: 'echo {{ ds }}' });
    expect(await renderTemplateFields(task, contextFor(task).context)).toEqual({ bashCommand: 'echo 2024-01-02', env: null });
  });

  it('names the task, the field and nunjucks’ reason on a syntax error', async () => {
    const task = new BashOperator({ dag: newDag(), taskId: 'broken', bashCommand: 'echo ok', env: { X: 'fine', Y: '{% if %}' } });
    const err = await renderTemplateFields(task, contextFor(task).context).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateRenderError);
    expect((err as TemplateRenderError).message).toMatch(/^task 'broken' in DAG 'tpl_\d+': cannot render template field 'env': .*unexpected token: %}/);
    expect(err).toMatchObject({ taskId: 'broken', field: 'env' });
  });
});

describe('macros', () => {
  it('ds_add crosses month and year boundaries and rejects bad input', () => {
    expect(dsAdd('2024-02-28', 2)).toBe('2024-03-01');
    expect(dsAdd('2024-01-01', -1)).toBe('2023-12-31');
    expect(() => dsAdd('2024-02-30', 1)).toThrow('not a valid date');
    expect(() => dsAdd('01/02/2024', 1)).toThrow('does not match format');
    expect(() => dsAdd('2024-01-01', 1.5)).toThrow('integer');
  });

  it('ds_format and strftime use Python’s directives', () => {
    expect(dsFormat('2024-01-05', '%Y-%m-%d', '%Y%m%d')).toBe('20240105');
    expect(dsFormat('05/01/24', '%d/%m/%y', '%Y-%m-%d')).toBe('2024-01-05');
    expect(strftime(new Date('2024-03-04T05:06:07Z'), '%Y-%m-%d %H:%M:%S %%')).toBe('2024-03-04 05:06:07 %');
    expect(() => strftime(new Date(), '%Q')).toThrow('unsupported directive %Q');
  });
});
