import { randomBytes, timingSafeEqual } from 'node:crypto';
import cookieSession from 'cookie-session';
import type { RequestHandler } from 'express';
import type { Role } from '../../db/users.ts';

/** What the signed session cookie holds. */
export interface UiSession {
  username?: string;
  role?: Role;
  /** Per-session CSRF token, echoed by every form and fetch. */
  csrf?: string;
}

/**
 * Sessions in a signed cookie (cookie-session): no server-side store, so any
 * webserver process with the same webserver.secretKey accepts it. With no
 * secret configured, one is generated per start (sessions end at restart, as
 * with Airflow's default).
 */
export function sessionMiddleware(secretKey: string): RequestHandler {
  return cookieSession({
    name: 'airflow_ts_session',
    keys: [secretKey || randomBytes(32).toString('hex')],
    httpOnly: true,
    sameSite: 'lax',
    maxAge: 12 * 60 * 60 * 1000,
  });
}

export function sessionOf(req: { session?: unknown }): UiSession {
  return (req.session ?? {}) as UiSession;
}

/** Gives the session a CSRF token if it has none; returns it. */
export function csrfToken(req: { session?: unknown }): string {
  const session = sessionOf(req);
  session.csrf ??= randomBytes(24).toString('base64url');
  return session.csrf;
}

/** Rejects state-changing requests whose form field `_csrf` or header `x-csrf-token` does not match the session's token. */
export const verifyCsrf: RequestHandler = (req, res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  const expected = sessionOf(req).csrf;
  const given = (req.body as { _csrf?: string } | undefined)?._csrf ?? req.get('x-csrf-token');
  if (!expected || typeof given !== 'string' || given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
    res.status(403).type('text/plain').send('The form has expired or did not come from this site (CSRF check failed). Reload the page and try again.');
    return;
  }
  next();
};
