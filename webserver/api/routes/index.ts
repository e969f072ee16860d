import type { Route } from '../defineRoute.ts';
import { dagRoutes } from './dags.ts';
import { monitoringRoutes } from './monitoring.ts';

/** Every REST API route, in the order they are matched (literal paths before parameterised ones). */
export const API_ROUTES: Route<any, any, any>[] = [...monitoringRoutes, ...dagRoutes];
