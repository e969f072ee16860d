import { createHmac, timingSafeEqual } from 'node:crypto';
import cookieParser from 'cookie-parser';
import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import type { Knex } from 'knex';
import { createSession, deleteSession, findSessionUser, newSessionId, type SessionUser } from '../../db/models/session.ts';

/** Sessions end 12 hours after login (checked in the database on every request). */
export const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;
const COOKIE = 'airflow_ts_session';

/**
 * UI sessions. The cookie holds only a random id, signed with the webserver's
 * secret key (db/models/session.ts keeps its hash and the user). Anonymous visitors
 * get an id too, with no row: it seeds the CSRF token of the login form. The
 * CSRF token is an HMAC of the id, so it is never stored and changes at login.
 */
export function sessionMiddleware(options: { knex: Knex; secretKey: string; now: () => Date }): RequestHandler[] {
  const load: RequestHandler = async (req, res, next) => {
    try {
      const signed = (req.signedCookies as Record<string, unknown>)[COOKIE];
      let sessionId = typeof signed === 'string' ? signed : null;
      const user = sessionId ? ((await findSessionUser(options.knex, sessionId, options.now())) ?? null) : null;
      if (!sessionId) {
        sessionId = newSessionId();
        setCookie(req, res, sessionId);
      }
      res.locals.sessionId = sessionId;
      res.locals.user = user;
      res.locals.csrfToken = createHmac('sha256', options.secretKey).update(`csrf:${sessionId}`).digest('base64url');
      next();
    } catch (error) {
      next(error);
    }
  };
  return [cookieParser(options.secretKey), load];
}

/** Starts a session for a user whose password was just checked: a new id, so an id planted before login is worthless. */
export async function logInSession(knex: Knex, req: Request, res: Response, user: { id: number; role: SessionUser['role'] }, now: Date): Promise<void> {
  const sessionId = newSessionId();
  await createSession(knex, { sessionId, userId: user.id, role: user.role, now, lifetimeMs: SESSION_LIFETIME_MS });
  setCookie(req, res, sessionId, SESSION_LIFETIME_MS);
}

export async function logOutSession(knex: Knex, req: Request, res: Response): Promise<void> {
  await deleteSession(knex, String(res.locals.sessionId));
  res.clearCookie(COOKIE, cookieOptions(req));
}

/** The logged-in user of this request, with the role the users table gives now; empty when anonymous. */
export function sessionOf(req: Request): Partial<SessionUser> {
  return (req.res?.locals.user as SessionUser | null | undefined) ?? {};
}

function setCookie(req: Request, res: Response, sessionId: string, maxAge?: number): void {
  res.cookie(COOKIE, sessionId, { ...cookieOptions(req), signed: true, ...(maxAge ? { maxAge } : {}) });
}

/** `Secure` whenever the request came over TLS (served with webserver.sslCert, or by a trusted proxy that says so). */
function cookieOptions(req: Request): CookieOptions {
  return { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/' };
}

/** Rejects state-changing requests whose form field `_csrf` or header `x-csrf-token` does not match the session's token. */
export const verifyCsrf: RequestHandler = (req, res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  const expected = String(res.locals.csrfToken ?? '');
  const given = (req.body as { _csrf?: string } | undefined)?._csrf ?? req.get('x-csrf-token');
  if (!expected || typeof given !== 'string' || given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
    res.status(403).type('text/plain').send('The form has expired or did not come from this site (CSRF check failed). Reload the page and try again.');
    return;
  }
  next();
};
