import type { Knex } from 'knex';

/**
 * Server-side web UI sessions (Airflow's `session` table) and the failed-login
 * counters that rate-limit password guessing across every webserver process.
 */
export const name = '0004_sessions';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('session', (t) => {
    // SHA-256 of the random id in the cookie: a database dump hands out no session.
    t.string('id_hash', 64).primary();
    // Deleting a user ends their sessions in the same statement.
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE').index();
    // The role at login: a session is valid only while the user still has it, so any role change ends it.
    t.string('role', 32).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable().index();
  });
  await knex.schema.createTable('auth_failure', (t) => {
    // 'user:<username>' or 'address:<ip>'
    t.text('key').primary();
    t.timestamp('window_start', { useTz: true }).notNullable().index();
    t.integer('failures').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('auth_failure');
  await knex.schema.dropTableIfExists('session');
}
