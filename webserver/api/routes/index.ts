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
 * Every REST API route. Express matches in this order, so a family's literal
 * paths (e.g. /dags/~/dagRuns/list) must come before parameterised ones in its file.
 */
export const API_ROUTES: Route<any, any, any>[] = [
  ...monitoringRoutes,
  ...dagRunsRoutes,
  ...taskInstancesRoutes,
  ...xcomRoutes,
  ...dagDetailsRoutes,
  ...dagRoutes,
  ...dagSourcesRoutes,
  ...importErrorsRoutes,
  ...variablesRoutes,
  ...connectionsRoutes,
  ...poolsRoutes,
];
