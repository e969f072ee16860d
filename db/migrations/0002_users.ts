import type { Knex } from 'knex';

/** Users of the web UI and REST API (Airflow's ab_user, with one role per user). */
export const name = '0002_users';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('username', 256).notNullable().unique();
    t.string('email', 512);
    t.string('first_name', 256);
    t.string('last_name', 256);
    t.string('role', 32).notNullable(); // Admin | Op | User | Viewer
    t.text('password_hash').notNullable(); // scrypt, see core/passwordHash.ts
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_on', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_login', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('users');
}
