import { describe, expect, it } from 'vitest';
import { Param } from '../../core/param.ts';
import { startTestApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { registerDag } from '../helpers/dags.ts';
import { tempDagsFolder } from '../helpers/dagsFolder.ts';
import { testConfig } from '../helpers/runtime.ts';

const db = await createTestDatabase();
const config = await testConfig(tempDagsFolder(), db.url);
await registerDag(
  db.knex,
  {
    dagId: 'detailed',
    schedule: '0 6 * * *',
    startDate: new Date('2025-01-01T00:00:00Z'),
    endDate: new Date('2025-12-31T00:00:00Z'),
    catchup: false,
    timezone: 'Europe/Amsterdam',
    description: 'A DAG with everything set',
    doc: '# Detailed\nRead me.',
    tags: ['reporting'],
    maxActiveTasks: 4,
    maxActiveRuns: 2,
    dagrunTimeout: { hours: 1, seconds: 1.5 },
    isPausedUponCreation: true,
    params: { region: 'eu', limit: new Param(10, { type: 'integer', minimum: 1, description: 'rows to read' }) },
    defaultArgs: { owner: 'data-team', retries: 2, retryDelay: { minutes: 5 } },
  },
  {
    extract: { priorityWeight: 5, pool: 'io', poolSlots: 2, queue: 'fast', doc: 'Pulls rows', executionTimeout: { days: 1, hours: 2, milliseconds: 250 } },
    transform: { upstream: ['extract'], triggerRule: 'all_done', dependsOnPast: true, retryExponentialBackoff: true, params: { mode: 'full' } },
    load: { upstream: ['transform'], retries: 0, priorityWeight: 3 },
  },
);
await registerDag(db.knex, { dagId: 'minimal' }, { only: {} });
const api = await startTestApi(db.knex, config);

describe('REST API: DAG details', () => {
  it("returns Airflow's DAGDetail: the DAG object plus what the serialized DAG knows", async () => {
    const response = await api.call('GET', '/dags/detailed/details', { as: 'Viewer' });
    expect(response.status).toBe(200);
    const dag = (await api.call('GET', '/dags/detailed')).json;
    expect(response.json).toEqual({
      ...dag,
      timezone: 'Europe/Amsterdam',
      catchup: false,
      orientation: 'LR',
      concurrency: 4,
      start_date: '2025-01-01T00:00:00.000+00:00',
      end_date: '2025-12-31T00:00:00.000+00:00',
      dag_run_timeout: { __type: 'TimeDelta', days: 0, seconds: 3601, microseconds: 500_000 },
      dataset_expression: null,
      doc_md: '# Detailed\nRead me.',
      default_view: 'grid',
      params: {
        region: { __class: 'airflow.models.param.Param', value: 'eu', description: null, schema: {} },
        limit: { __class: 'airflow.models.param.Param', value: 10, description: 'rows to read', schema: { type: 'integer', minimum: 1 } },
      },
      is_paused_upon_creation: true,
      last_parsed: dag.last_parsed_time,
      template_search_path: null,
      render_template_as_native_obj: false,
    });
    expect(response.json).toMatchObject({
      dag_id: 'detailed',
      description: 'A DAG with everything set',
      owners: ['data-team'],
      tags: [{ name: 'reporting' }],
      max_active_tasks: 4,
    });
  });

  it('fills defaults for a DAG that sets nothing (catchup and concurrency from config)', async () => {
    const minimal = (await api.call('GET', '/dags/minimal/details')).json;
    expect(minimal).toMatchObject({
      catchup: config.scheduler.catchupByDefault,
      concurrency: config.core.maxActiveTasksPerDag,
      timezone: 'UTC',
      start_date: null,
      end_date: null,
      dag_run_timeout: null,
      doc_md: null,
      params: {},
      is_paused_upon_creation: null,
      schedule_interval: null,
    });
  });

  it('fields= returns only the named fields; unknown ones are a 400', async () => {
    expect((await api.call('GET', '/dags/detailed/details?fields=dag_id,catchup,timezone')).json).toEqual({
      dag_id: 'detailed',
      catchup: false,
      timezone: 'Europe/Amsterdam',
    });
    expect((await api.call('GET', '/dags/detailed/details?fields=dag_id,nope')).status).toBe(400);
  });

  it('404 for an unknown DAG (details and tasks); 401 without credentials', async () => {
    expect((await api.call('GET', '/dags/nope/details')).status).toBe(404);
    expect((await api.call('GET', '/dags/nope/tasks')).status).toBe(404);
    expect((await api.call('GET', '/dags/nope/tasks/extract')).status).toBe(404);
    expect((await api.call('GET', '/dags/%00/details')).status).toBe(400);
    expect((await api.call('GET', '/dags/detailed/details', { as: null })).status).toBe(401);
  });
});

describe('REST API: tasks', () => {
  it("gets a task with Airflow's Task fields", async () => {
    const response = await api.call('GET', '/dags/detailed/tasks/extract', { as: 'Viewer' });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      class_ref: { module_path: 'airflow-ts', class_name: 'EmptyOperator' },
      task_id: 'extract',
      task_display_name: 'extract',
      owner: 'data-team',
      start_date: '2025-01-01T00:00:00.000+00:00',
      end_date: '2025-12-31T00:00:00.000+00:00',
      trigger_rule: 'all_success',
      extra_links: [],
      depends_on_past: false,
      is_mapped: false,
      wait_for_downstream: false,
      retries: 2,
      queue: 'fast',
      executor: null,
      pool: 'io',
      pool_slots: 2,
      execution_timeout: { __type: 'TimeDelta', days: 1, seconds: 7200, microseconds: 250_000 },
      retry_delay: { __type: 'TimeDelta', days: 0, seconds: 300, microseconds: 0 },
      retry_exponential_backoff: false,
      priority_weight: 5,
      weight_rule: 'downstream',
      ui_color: '#e8f7e4',
      ui_fgcolor: '#000',
      template_fields: [],
      sub_dag: null,
      downstream_task_ids: ['transform'],
      doc_md: 'Pulls rows',
      params: {
        region: { __class: 'airflow.models.param.Param', value: 'eu', description: null, schema: {} },
        limit: { __class: 'airflow.models.param.Param', value: 10, description: 'rows to read', schema: { type: 'integer', minimum: 1 } },
      },
    });
    const transform = (await api.call('GET', '/dags/detailed/tasks/transform')).json;
    expect(transform).toMatchObject({
      trigger_rule: 'all_done',
      depends_on_past: true,
      retry_exponential_backoff: true,
      execution_timeout: null,
      pool: 'default_pool',
      pool_slots: 1,
      downstream_task_ids: ['load'],
    });
    expect(transform.params.mode).toEqual({ __class: 'airflow.models.param.Param', value: 'full', description: null, schema: {} });
    expect((await api.call('GET', '/dags/detailed/tasks/nope')).status).toBe(404);
  });

  it('lists tasks with total_entries, by task_id or order_by', async () => {
    const list = await api.call('GET', '/dags/detailed/tasks');
    expect(list.json.total_entries).toBe(3);
    expect(list.json.tasks.map((t: { task_id: string }) => t.task_id)).toEqual(['extract', 'load', 'transform']);
    expect(list.json.tasks[0]).toEqual((await api.call('GET', '/dags/detailed/tasks/extract')).json);
    const byWeight = await api.call('GET', '/dags/detailed/tasks?order_by=-priority_weight');
    expect(byWeight.json.tasks.map((t: { task_id: string }) => t.task_id)).toEqual(['extract', 'load', 'transform']);
    expect((await api.call('GET', '/dags/detailed/tasks?order_by=priority_weight')).json.tasks.map((t: { task_id: string }) => t.task_id)).toEqual([
      'transform',
      'load',
      'extract',
    ]);
    expect((await api.call('GET', '/dags/detailed/tasks?order_by=-task_id')).json.tasks.map((t: { task_id: string }) => t.task_id)).toEqual([
      'transform',
      'load',
      'extract',
    ]);
    expect((await api.call('GET', '/dags/detailed/tasks?order_by=params')).status).toBe(400);
    expect((await api.call('GET', '/dags/detailed/tasks?order_by=__proto__')).status).toBe(400);
  });
});
