import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Router } from 'express';
import { STATE_COLORS } from '../../core/state.ts';
import { recordLogin } from '../../db/models/user.ts';
import { allows, type Permission } from '../api/auth.ts';
import type { ApiContext } from '../api/defineRoute.ts';
import { checkPassword } from '../passwordCheck.ts';
import { webserverSecretKey } from '../secretKey.ts';
import { databaseUnavailablePage } from './errorPage.ts';
import { renderProblem } from './pages/listShared.ts';
import { logInSession, logOutSession, sessionMiddleware, sessionOf, verifyCsrf } from './session.ts';
import { viewHelpers } from './viewHelpers.ts';

export const VIEWS = fileURLToPath(new URL('./views', import.meta.url));
const STATIC = fileURLToPath(new URL('./static', import.meta.url));

/** A UI page module: registers its routes on the (logged-in) router. */
export type UiPages = (router: Router, ctx: ApiContext) => void;

/**
 * The server-rendered web UI (express + ejs). Pages are readable without
 * JavaScript; static/app.js adds toggles without reloads and live logs.
 * Every form carries the session's CSRF token; every value is HTML-escaped by
 * ejs's <%= %> (pages never use <%- %> for data).
 */
export function uiRouter(ctx: ApiContext, pages: UiPages[]): Router {
  const router = express.Router();
  router.use('/static', express.static(STATIC, { maxAge: '1h' }));
  router.use(serverTiming);
  router.use(sessionMiddleware({ knex: ctx.knex, secretKey: webserverSecretKey(ctx.config), now: ctx.now }));
  router.use(express.urlencoded({ extended: false, limit: '1mb' }));
  router.use(express.json({ limit: '1mb' }));
  router.use((req, res, next) => {
    res.locals.stateColors = STATE_COLORS;
    res.locals.h = viewHelpers;
    res.locals.path = req.path;
    next();
  });
  router.use(verifyCsrf);

  router.get('/login', (req, res) => res.render('login', { error: null, next: safeNext(req.query.next) }));
  router.post('/login', async (req, res) => {
    const { username = '', password = '' } = req.body as { username?: string; password?: string };
    const check = await checkPassword(ctx.knex, {
      username: String(username),
      password: String(password),
      address: req.ip ?? req.socket.remoteAddress ?? 'unknown',
      now: ctx.now(),
    });
    if (check.outcome === 'limited') {
      res.setHeader('Retry-After', String(check.retryAfterSeconds));
      res.status(429).render('login', { error: `Too many failed logins; try again in ${check.retryAfterSeconds} s`, next: safeNext(req.body.next) });
      return;
    }
    if (check.outcome === 'wrong') {
      res.status(401).render('login', { error: 'Wrong username or password', next: safeNext(req.body.next) });
      return;
    }
    const { user } = check;
    await logInSession(ctx.knex, req, res, user, ctx.now());
    await recordLogin(ctx.knex, user.id, ctx.now());
    res.redirect(safeNext(req.body.next));
  });
  router.post('/logout', async (req, res) => {
    await logOutSession(ctx.knex, req, res);
    res.redirect('/login');
  });

  const app = express.Router();
  app.use(requireLogin);
  for (const register of pages) register(app, ctx);
  router.use(app);
  // What a page did not handle: the error page, with the REST API's status mapping (a bad id is a
  // 400), never express's default page with the stack trace and the SQL.
  const errorPage: ErrorRequestHandler = (error, req, res, _next) => renderProblem(res, req, ctx.logger, error);
  router.use(databaseUnavailablePage(ctx.logger), errorPage);
  return router;
}

/**
 * Every page says how long the server took (queries, model and template) in a
 * `Server-Timing: app;dur=<ms>` header; `npm run bench` reads it.
 */
const serverTiming: RequestHandler = (_req, res, next) => {
  const started = process.hrtime.bigint();
  const render = res.render.bind(res) as (view: string, options?: object, callback?: (error: Error, html: string) => void) => void;
  res.render = ((view: string, options?: object, callback?: (error: Error, html: string) => void) => {
    if (typeof callback === 'function' || typeof options === 'function') return render(view, options, callback);
    render(view, options, (error, html) => {
      if (error) return next(error);
      res.setHeader('Server-Timing', `app;dur=${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)}`);
      res.send(html);
    });
  }) as typeof res.render;
  next();
};

const requireLogin: RequestHandler = (req, res, next) => {
  if (sessionOf(req).username) return next();
  if (req.method === 'GET') res.redirect(`/login?next=${encodeURIComponent(req.originalUrl)}`);
  else res.status(401).type('text/plain').send('Log in first');
};

/** A page handler's guard for actions a role may not take (same rules as the REST API). */
export function requireUiPermission(permission: Permission): RequestHandler {
  return (req, res, next) => {
    const role = sessionOf(req).role;
    if (role && allows(role, permission)) return next();
    res.status(403).render('error', { title: 'Not allowed', message: `The ${role ?? 'anonymous'} role cannot do this.` });
  };
}

/** Only same-site relative redirects after login (no open redirect). */
function safeNext(value: unknown): string {
  // Browsers read '/\evil.com' as '//evil.com': a backslash anywhere makes it unsafe.
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && !value.includes('\\') ? value : '/';
}

export function viewsPath(...parts: string[]): string {
  return path.join(VIEWS, ...parts);
}

export type { Request };
