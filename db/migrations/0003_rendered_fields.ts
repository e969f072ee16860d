import type { Knex } from 'knex';

/** Each try's rendered template fields (Airflow's rendered_task_instance_fields), for the task instance page. */
export const name = '0003_rendered_fields';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rendered_task_instance_fields', (t) => {
    t.string('dag_id', 250).notNullable();
    t.string('run_id', 250).notNullable();
    t.string('task_id', 250).notNullable();
    t.integer('map_index').notNullable().defaultTo(-1);
    t.jsonb('rendered_fields').notNullable();
    t.primary(['dag_id', 'run_id', 'task_id', 'map_index']);
    t.foreign(['dag_id', 'run_id']).references(['dag_id', 'run_id']).inTable('dag_run').onDelete('CASCADE');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('rendered_task_instance_fields');
}
