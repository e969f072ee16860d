import type { Route } from '../defineRoute.ts';

/** Filled in by the REST API work; see webserver/api/routes/dags.ts for the pattern. */
export const poolsRoutes: Route<any, any, any>[] = [];
