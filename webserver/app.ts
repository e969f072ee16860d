import express from 'express';
import helmet from 'helmet';
import type { Knex } from 'knex';
import type { ResolvedConfig } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import { basicAuth } from './api/auth.ts';
import { mountRoutes } from './api/defineRoute.ts';
import { openApiDocument } from './api/openapi.ts';
import { notFound, problemHandler } from './api/problems.ts';
import { API_ROUTES } from './api/routes/index.ts';
import { UI_PAGES } from './ui/pages/index.ts';
import { uiRouter, VIEWS } from './ui/router.ts';

/**
 * helmet's headers. Its default CSP asks the browser to upgrade every
 * http:// subresource to https://, which leaves a page opened as
 * http://<address>:8080 without CSS and JS; so the upgrade is sent only on
 * requests that came over TLS (webserver.sslCert, or a trusted proxy's
 * X-Forwarded-Proto).
 */
function securityHeaders(): express.RequestHandler {
  const overTls = helmet();
  const plain = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  return (req, res, next) => (req.secure ? overTls : plain)(req, res, next);
}

/** The webserver: the REST API under /api/v1 and the web UI. Reads the database only; never imports DAG files. */
export function createApp(options: { knex: Knex; config: ResolvedConfig; logger: Logger; now?: () => Date }): express.Express {
  const ctx = { knex: options.knex, config: options.config, logger: options.logger, now: options.now ?? (() => new Date()) };
  const app = express();
  app.disable('x-powered-by');
  // Airflow's enable_proxy_fix: one proxy hop's X-Forwarded-For/-Proto give req.ip and req.secure.
  if (options.config.webserver.enableProxyFix) app.set('trust proxy', 1);
  app.use(securityHeaders());
  const api = express.Router();
  api.use(express.json({ limit: '1mb' }));
  const document = openApiDocument(API_ROUTES);
  api.get('/openapi.json', (_req, res) => void res.json(document));
  mountRoutes(api, API_ROUTES, ctx, basicAuth(ctx.knex, ctx.now));
  api.use((req, _res, next) => next(notFound(`No such endpoint: ${req.method} ${req.baseUrl}${req.path}`)));
  api.use(problemHandler(options.logger));
  app.use('/api/v1', api);
  app.set('view engine', 'ejs');
  app.set('views', VIEWS);
  app.use(uiRouter(ctx, UI_PAGES));
  return app;
}
