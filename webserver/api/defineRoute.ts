import type { Request, RequestHandler, Response, Router } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { ResolvedConfig } from '../../config/schema.ts';
import type { Logger } from '../../core/logger.ts';
import { requirePermission, type AuthenticatedUser, type Permission } from './auth.ts';

/** What every handler gets besides its validated input. */
export interface ApiContext {
  knex: Knex;
  config: ResolvedConfig;
  logger: Logger;
  now: () => Date;
}

/** A response other than 200 with a JSON body. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body?: unknown,
    readonly contentType?: string,
  ) {}
}

export interface Route<P = unknown, Q = unknown, B = unknown> {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  /** OpenAPI-style path under /api/v1, e.g. '/dags/{dag_id}'. */
  path: string;
  summary: string;
  tag: string;
  /** 'public' routes need no authentication (health, version). */
  permission: Permission | 'public';
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Status codes besides 200 that the route documents. */
  responses?: Record<number, string>;
  handler: (input: { params: P; query: Q; body: B; user: AuthenticatedUser | null; req: Request; res: Response }, ctx: ApiContext) => Promise<unknown>;
}

/** Types a route declaration; the registry in routes/index.ts collects them for express and the OpenAPI document. */
export function defineRoute<P, Q, B>(route: Route<P, Q, B>): Route<P, Q, B> {
  return route;
}

/** Mounts routes on an express router: validation with their zod schemas, permission checks, JSON replies. */
export function mountRoutes(router: Router, routes: Route<any, any, any>[], ctx: ApiContext, authenticate: RequestHandler): void {
  for (const route of routes) {
    const expressPath = route.path.replace(/\{([^}]+)\}/g, ':$1');
    const guards: RequestHandler[] = route.permission === 'public' ? [] : [authenticate, requirePermission(route.permission)];
    router[route.method](expressPath, ...guards, async (req, res) => {
      const input = {
        params: route.params ? route.params.parse(req.params) : req.params,
        query: route.query ? route.query.parse(req.query) : req.query,
        body: route.body ? route.body.parse(req.body ?? {}) : req.body,
        user: (res.locals.user as AuthenticatedUser | undefined) ?? null,
        req,
        res,
      };
      const result = await route.handler(input, ctx);
      if (res.headersSent) return;
      if (result instanceof Reply) {
        res.status(result.status);
        if (result.body === undefined) res.end();
        else if (result.contentType) res.type(result.contentType).send(result.body);
        else res.json(result.body);
      } else {
        res.json(result);
      }
    });
  }
}

/** Query-string helpers: everything arrives as strings. */
export const queryInt = (min: number, max: number, fallback: number) =>
  z.preprocess((v) => (v === undefined || v === '' ? fallback : Number(v)), z.number().int().min(min).max(max));
export const queryBool = z.preprocess(
  (v) => (v === undefined ? undefined : v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
  z.boolean().optional(),
);
export const queryList = z.preprocess((v) => (v === undefined ? undefined : Array.isArray(v) ? v : String(v).split(',')), z.array(z.string()).optional());

/** Airflow's limit/offset pagination (maximum_page_limit 100 by default; we allow up to 1000). */
export const pagination = {
  limit: queryInt(1, 1000, 100),
  offset: queryInt(0, Number.MAX_SAFE_INTEGER, 0),
};
