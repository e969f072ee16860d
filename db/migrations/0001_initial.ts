import type { Knex } from 'knex';

/**
 * The metadata schema, shaped after Airflow 2's tables. Released migrations
 * are never edited: change the schema with a new numbered file.
 */
export const name = '0001_initial';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('dag', (t) => {
    t.string('dag_id', 250).primary();
    t.boolean('is_paused').notNullable().defaultTo(true);
    t.boolean('is_active').notNullable().defaultTo(true);
    t.text('fileloc').notNullable();
    t.text('owners').notNullable().defaultTo('airflow');
    t.text('description');
    t.specificType('tags', 'text[]').notNullable().defaultTo('{}');
    t.jsonb('schedule'); // null: manual only; a string (cron/preset) or { everyMs }
    t.text('timetable_summary');
    t.string('timezone', 64).notNullable().defaultTo('UTC');
    t.integer('max_active_runs');
    t.integer('max_active_tasks');
    t.boolean('has_import_errors').notNullable().defaultTo(false);
    t.timestamp('last_parsed_time', { useTz: true });
    // Next-run bookkeeping so the scheduler need not recompute a DAG's history each loop.
    t.timestamp('next_dagrun', { useTz: true });
    t.timestamp('next_dagrun_data_interval_start', { useTz: true });
    t.timestamp('next_dagrun_data_interval_end', { useTz: true });
    t.timestamp('next_dagrun_create_after', { useTz: true });
  });
  // The scheduler's "which DAGs are due" query.
  await knex.raw(`CREATE INDEX dag_next_dagrun_create_after ON dag (next_dagrun_create_after) WHERE is_paused = false AND is_active = true`);

  await knex.schema.createTable('serialized_dag', (t) => {
    t.string('dag_id', 250).primary().references('dag.dag_id').onDelete('CASCADE');
    t.text('fileloc').notNullable();
    t.jsonb('data').notNullable();
    t.string('dag_hash', 64).notNullable();
    t.timestamp('last_updated', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('dag_code', (t) => {
    t.text('fileloc').primary();
    t.string('file_token', 64).notNullable().unique(); // opaque id used by GET /dagSources/{file_token}
    t.text('source_code').notNullable();
    t.timestamp('last_updated', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('dag_run', (t) => {
    t.bigIncrements('id');
    t.string('dag_id', 250).notNullable().references('dag.dag_id').onDelete('CASCADE');
    t.string('run_id', 250).notNullable();
    t.timestamp('logical_date', { useTz: true }).notNullable();
    t.timestamp('data_interval_start', { useTz: true });
    t.timestamp('data_interval_end', { useTz: true });
    t.string('state', 20).notNullable();
    t.string('run_type', 20).notNullable(); // scheduled | manual | backfill
    t.boolean('external_trigger').notNullable().defaultTo(false);
    t.jsonb('conf').notNullable().defaultTo('{}');
    t.timestamp('queued_at', { useTz: true });
    t.timestamp('start_date', { useTz: true });
    t.timestamp('end_date', { useTz: true });
    t.timestamp('last_scheduling_decision', { useTz: true });
    t.bigInteger('creating_job_id');
    t.integer('clear_number').notNullable().defaultTo(0);
    t.text('note');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['dag_id', 'run_id']);
    t.unique(['dag_id', 'logical_date']);
  });
  await knex.raw(`CREATE INDEX dag_run_active ON dag_run (dag_id, state) WHERE state IN ('queued', 'running')`);

  await knex.schema.createTable('task_instance', (t) => {
    t.bigIncrements('id');
    t.string('dag_id', 250).notNullable();
    t.string('run_id', 250).notNullable();
    t.string('task_id', 250).notNullable();
    t.integer('map_index').notNullable().defaultTo(-1);
    t.string('state', 20); // null is Airflow's "none"
    t.integer('try_number').notNullable().defaultTo(0);
    t.integer('max_tries').notNullable().defaultTo(0);
    t.timestamp('start_date', { useTz: true });
    t.timestamp('end_date', { useTz: true });
    t.double('duration');
    t.string('hostname', 1000);
    t.integer('pid');
    t.string('pool', 256).notNullable().defaultTo('default_pool');
    t.integer('pool_slots').notNullable().defaultTo(1);
    t.string('queue', 256).notNullable().defaultTo('default');
    t.integer('priority_weight').notNullable().defaultTo(1);
    t.string('operator', 1000);
    t.timestamp('queued_dttm', { useTz: true });
    t.bigInteger('queued_by_job_id');
    t.string('external_executor_id', 250);
    t.jsonb('executor_config');
    t.timestamp('next_retry_at', { useTz: true });
    t.timestamp('last_heartbeat_at', { useTz: true });
    t.text('note');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['dag_id', 'run_id', 'task_id', 'map_index']);
    t.foreign(['dag_id', 'run_id']).references(['dag_id', 'run_id']).inTable('dag_run').onDelete('CASCADE');
  });
  // Claiming: scheduled task instances in priority order (scheduler hot path).
  await knex.raw(`CREATE INDEX ti_scheduled_by_priority ON task_instance (priority_weight DESC, id) WHERE state = 'scheduled'`);
  // Cap checks: running/queued counts per pool and per DAG.
  await knex.raw(`CREATE INDEX ti_occupying_slots ON task_instance (pool, dag_id) WHERE state IN ('queued', 'running')`);

  await knex.schema.createTable('xcom', (t) => {
    t.bigInteger('dag_run_id').notNullable().references('dag_run.id').onDelete('CASCADE');
    t.string('dag_id', 250).notNullable();
    t.string('run_id', 250).notNullable();
    t.string('task_id', 250).notNullable();
    t.integer('map_index').notNullable().defaultTo(-1);
    t.string('key', 512).notNullable();
    t.jsonb('value');
    t.timestamp('timestamp', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['dag_run_id', 'task_id', 'map_index', 'key']);
  });

  await knex.schema.createTable('import_error', (t) => {
    t.increments('id');
    t.text('filename').notNullable().unique();
    t.timestamp('timestamp', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('message').notNullable();
    t.integer('line');
    t.text('stacktrace').notNullable();
  });

  await knex.schema.createTable('variable', (t) => {
    t.increments('id');
    t.string('key', 250).notNullable().unique();
    t.text('val');
    t.text('description');
    t.boolean('is_encrypted').notNullable().defaultTo(false);
  });

  await knex.schema.createTable('connection', (t) => {
    t.increments('id');
    t.string('conn_id', 250).notNullable().unique();
    t.string('conn_type', 500).notNullable();
    t.text('description');
    t.string('host', 500);
    t.string('schema', 500);
    t.string('login', 500);
    t.text('password');
    t.integer('port');
    t.text('extra');
    t.boolean('is_encrypted').notNullable().defaultTo(false);
  });

  await knex.schema.createTable('slot_pool', (t) => {
    t.increments('id');
    t.string('pool', 256).notNullable().unique();
    t.integer('slots').notNullable();
    t.text('description');
    t.boolean('include_deferred').notNullable().defaultTo(false);
  });
  await knex('slot_pool').insert({ pool: 'default_pool', slots: 128, description: 'Default pool' });

  await knex.schema.createTable('log', (t) => {
    t.bigIncrements('id');
    t.timestamp('dttm', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.string('event', 60).notNullable();
    t.string('dag_id', 250);
    t.string('task_id', 250);
    t.string('run_id', 250);
    t.integer('map_index');
    t.integer('try_number');
    t.string('owner', 500);
    t.text('extra');
    t.index(['dag_id', 'dttm']);
  });

  await knex.schema.createTable('job', (t) => {
    t.bigIncrements('id');
    t.string('job_type', 30).notNullable(); // SchedulerJob | TriggererJob | LocalTaskJob | DagProcessorJob
    t.string('state', 20).notNullable(); // running | success | failed
    t.string('hostname', 500).notNullable();
    t.integer('pid').notNullable();
    t.string('executor_class', 500);
    t.timestamp('start_date', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('end_date', { useTz: true });
    t.timestamp('latest_heartbeat', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['job_type', 'state', 'latest_heartbeat']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'job',
    'log',
    'slot_pool',
    'connection',
    'variable',
    'import_error',
    'xcom',
    'task_instance',
    'dag_run',
    'dag_code',
    'serialized_dag',
    'dag',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
