import type { Knex } from 'knex';

/**
 * A task's maxActiveTisPerDag / maxActiveTisPerDagrun (Airflow's max_active_tis_per_dag(run)) copied onto
 * each of its task instances, as pool and pool_slots are, so the claim checks them without reading the
 * serialized DAG; every instance of a mapped task carries them and counts against them.
 */
export const name = '0008_task_instance_limits';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('task_instance', (t) => {
    t.integer('max_active_tis_per_dag').nullable();
    t.integer('max_active_tis_per_dagrun').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('task_instance', (t) => {
    t.dropColumn('max_active_tis_per_dag');
    t.dropColumn('max_active_tis_per_dagrun');
  });
}
