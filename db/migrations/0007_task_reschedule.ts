import type { Knex } from 'knex';

/**
 * Airflow's task_reschedule: one row each time a reschedule-mode sensor's try ended as up_for_reschedule,
 * with the poke's start and end and when it may poke again. Keyed by the task instance's id (not its
 * dag/run/task/map index, which expansion rewrites), deleted with it.
 */
export const name = '0007_task_reschedule';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('task_reschedule', (t) => {
    t.bigIncrements('id');
    t.bigInteger('ti_id').notNullable().references('id').inTable('task_instance').onDelete('CASCADE');
    t.integer('try_number').notNullable();
    t.timestamp('start_date', { useTz: true }).notNullable();
    t.timestamp('end_date', { useTz: true }).notNullable();
    t.double('duration').notNullable();
    t.timestamp('reschedule_date', { useTz: true }).notNullable();
    // The scheduler reads the latest row of a task instance's try; the sensor the first row of a try.
    t.index(['ti_id', 'try_number', 'id'], 'idx_task_reschedule_ti_try');
  });
  // The scheduler looks for the earliest due reschedule before it sleeps: only the waiting sensors.
  await knex.raw(`CREATE INDEX ti_up_for_reschedule ON task_instance (id) WHERE state = 'up_for_reschedule'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS ti_up_for_reschedule');
  await knex.schema.dropTableIfExists('task_reschedule');
}
