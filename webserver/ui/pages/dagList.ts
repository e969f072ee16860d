import type { UiPages } from '../router.ts';

/** The DAGs page (placeholder until the DAG list lands). */
export const dagListPages: UiPages = (router, { knex }) => {
  router.get('/', async (_req, res) => {
    const dags = await knex('dag').where('is_active', true).orderBy('dag_id').select('dag_id', 'is_paused');
    res.render('dags', { title: 'DAGs', dags });
  });
};
