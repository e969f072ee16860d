import { isSensitiveName, MASK } from '../../../../core/secretsMasker.ts';
import { poolJson } from '../../../api/mappers/pool.ts';
import type { UiPages } from '../../router.ts';
import { can } from '../listShared.ts';
import { connections } from './connections.ts';
import { pools } from './pools.ts';
import { registerResource } from './resource.ts';
import { variables } from './variables.ts';

/**
 * Admin pages: variables, connections and pools. Variables and connections for Op and Admin only
 * (as Airflow's roles: they hold secrets); the pool list for every role; create, edit and delete
 * (after a confirmation page) for Op and Admin. Input
 * goes through the REST API's request schemas and the same data functions
 * (db/models/variable.ts, connection.ts, pool.ts), so the rules and the audit log are the API's.
 * Connection passwords never reach a page: an empty password field keeps the
 * stored one; extra is shown with sensitive keys masked, and a masked value
 * sent back keeps the stored secret (as the API's PATCH does).
 */

export const adminPages: UiPages = (router, ctx) => {
  router.get('/admin', (req, res) => res.redirect(can(req, 'readConfig') ? '/admin/variables' : '/admin/pools'));
  // A variable whose key holds a sensitive word shows *** (as Airflow's UI).
  registerResource(router, ctx, variables, (list) => list.map((row) => (isSensitiveName(row.key) ? { ...row, val: MASK } : row)));
  registerResource(router, ctx, connections, (list) =>
    // Only what the list shows: never the password, and extra not at all (as the API's list).
    list.map(({ conn_id, conn_type, description, host, schema, login, port }) => ({ conn_id, conn_type, description, host, schema, login, port })),
  );
  registerResource(router, ctx, pools, (list) => list.map(poolJson));
};
