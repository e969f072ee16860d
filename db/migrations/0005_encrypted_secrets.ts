import type { Knex } from 'knex';

/**
 * Connection extras are encrypted at rest like passwords and variable values (ADR 0008), with their own
 * flag as in Airflow. Rows written before stay plaintext (flags false) and keep working;
 * `airflow rotate-fernet-key` encrypts them.
 */
export const name = '0005_encrypted_secrets';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('connection', (t) => {
    t.boolean('is_extra_encrypted').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('connection', (t) => {
    t.dropColumn('is_extra_encrypted');
  });
}
