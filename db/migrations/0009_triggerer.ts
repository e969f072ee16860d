import type { Knex } from 'knex';

/**
 * Deferral (Airflow's trigger table and the task_instance columns of a deferred task): a deferred task
 * instance points at its trigger (trigger_id), says how it resumes (next_method, next_kwargs: the event
 * lands there) and until when it may wait (trigger_timeout). A trigger is claimed by one triggerer's job
 * (triggerer_id) at a time (ADR 0020). Kwargs are stored as they are: connection ids, never a password.
 */
export const name = '0009_triggerer';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('trigger', (t) => {
    t.bigIncrements('id');
    t.string('classpath', 1000).notNullable();
    t.jsonb('kwargs').notNullable();
    t.timestamp('created_date', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // The job id of the triggerer running it; null: waiting to be claimed.
    t.bigInteger('triggerer_id').nullable();
    t.index(['triggerer_id'], 'idx_trigger_triggerer_id');
  });
  await knex.schema.alterTable('task_instance', (t) => {
    t.bigInteger('trigger_id').nullable().references('id').inTable('trigger').onDelete('SET NULL');
    t.string('next_method', 1000).nullable();
    t.jsonb('next_kwargs').nullable();
    t.timestamp('trigger_timeout', { useTz: true }).nullable();
  });
  // A fired or unused trigger is found from its task instance; the scheduler looks for deferrals past their timeout.
  await knex.raw('CREATE INDEX ti_trigger_id ON task_instance (trigger_id) WHERE trigger_id IS NOT NULL');
  await knex.raw(`CREATE INDEX ti_deferred_timeout ON task_instance (trigger_timeout) WHERE state = 'deferred'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS ti_deferred_timeout');
  await knex.raw('DROP INDEX IF EXISTS ti_trigger_id');
  await knex.schema.alterTable('task_instance', (t) => {
    t.dropColumn('trigger_timeout');
    t.dropColumn('next_kwargs');
    t.dropColumn('next_method');
    t.dropColumn('trigger_id');
  });
  await knex.schema.dropTableIfExists('trigger');
}
