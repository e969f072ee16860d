import type { Route } from '../defineRoute.ts';
import { connectionsRoutes } from './connections.ts';
import { dagDetailsRoutes } from './dagDetails.ts';
import { dagRunsRoutes } from './dagRuns.ts';
import { dagRoutes } from './dags.ts';
import { dagSourcesRoutes } from './dagSources.ts';
import { importErrorsRoutes } from './importErrors.ts';
import { monitoringRoutes } from './monitoring.ts';
import { poolsRoutes } from './pools.ts';
import { taskInstancesRoutes } from './taskInstances.ts';
import { variablesRoutes } from './variables.ts';
import { xcomRoutes } from './xcom.ts';

/**
 * Every REST API route. Express matches in this order, so a literal path (e.g.
 * /dags/~/dagRuns/list) must come before a parameterised one that also matches it,
 * in its file and across families (test/api/routeOrder.test.ts checks).
 */
export const API_ROUTES: Route<any, any, any>[] = [
  ...monitoringRoutes,
  ...dagRunsRoutes,
  // Before the task instances' `.../taskInstances/{task_id}/{map_index}`, which would take `.../{task_id}/xcomEntries`.
  ...xcomRoutes,
  ...taskInstancesRoutes,
  ...dagDetailsRoutes,
  ...dagRoutes,
  ...dagSourcesRoutes,
  ...importErrorsRoutes,
  ...variablesRoutes,
  ...connectionsRoutes,
  ...poolsRoutes,
];
