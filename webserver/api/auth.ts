import { createHmac, randomBytes } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Knex } from 'knex';
import { findUser, ROLES, type Role } from '../../db/models/user.ts';
import { checkPassword } from '../passwordCheck.ts';
import { forbidden, tooManyRequests, unauthenticated } from './problems.ts';

/**
 * What each role may do, as Airflow's default roles: Viewer reads DAGs, runs, task instances, logs, XComs
 * and pools; User also triggers, pauses, clears; Op also reads and edits variables and connections (they
 * hold secrets: Airflow gives neither Viewer nor User any access to them) and edits pools; Admin everything.
 */
export type Permission = 'read' | 'editDags' | 'readConfig' | 'editConfig' | 'admin';
const LEAST_ROLE: Record<Permission, Role> = { read: 'Viewer', editDags: 'User', readConfig: 'Op', editConfig: 'Op', admin: 'Admin' };

export function allows(role: Role, permission: Permission): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(LEAST_ROLE[permission]);
}

export interface AuthenticatedUser {
  username: string;
  role: Role;
}

/**
 * HTTP Basic authentication against the users table, checked on every
 * request: a deleted user or a changed role takes effect at once. scrypt is
 * slow by design (tens of ms), so a verified Authorization header is
 * remembered by its HMAC under a per-process key (never the password itself)
 * together with the password hash it matched; it counts only while the user
 * row still has that hash (a client that knows the password is not locked out
 * by someone guessing it). Wrong passwords are rate-limited (passwordCheck.ts).
 */
export function basicAuth(knex: Knex, now: () => Date): RequestHandler {
  const cacheKey = randomBytes(32);
  const verified = new Map<string, { userId: number; passwordHash: string }>();
  const challenge = (res: Response) => res.setHeader('WWW-Authenticate', 'Basic realm="airflow-ts"');
  return async (req, res, next) => {
    try {
      const header = req.headers.authorization ?? '';
      const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
      if (!match) {
        challenge(res);
        throw unauthenticated('No credentials were given; use HTTP Basic authentication');
      }
      const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const [username, password] = colon < 0 ? [decoded, ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
      const key = createHmac('sha256', cacheKey).update(header).digest('base64');
      const current = await findUser(knex, username);
      const cached = verified.get(key);
      if (current && cached && cached.userId === current.id && cached.passwordHash === current.password_hash) {
        res.locals.user = { username: current.username, role: current.role } satisfies AuthenticatedUser;
        return next();
      }
      const check = await checkPassword(knex, { username, password, address: req.ip ?? req.socket.remoteAddress ?? 'unknown', now: now() });
      if (check.outcome === 'limited') {
        res.setHeader('Retry-After', String(check.retryAfterSeconds));
        throw tooManyRequests(`Too many failed logins for this user or address; try again in ${check.retryAfterSeconds} s`);
      }
      if (check.outcome === 'wrong') {
        challenge(res);
        throw unauthenticated('Invalid credentials');
      }
      verified.delete(key);
      verified.set(key, { userId: check.user.id, passwordHash: check.user.password_hash });
      // Bounded: the oldest entries go first (a Map iterates in insertion order).
      for (const oldest of verified.keys()) {
        if (verified.size <= MAX_REMEMBERED) break;
        verified.delete(oldest);
      }
      res.locals.user = { username: check.user.username, role: check.user.role } satisfies AuthenticatedUser;
      next();
    } catch (error) {
      next(error);
    }
  };
}

const MAX_REMEMBERED = 1000;

export function requirePermission(permission: Permission): RequestHandler {
  return (_req, res, next) => {
    const user = res.locals.user as AuthenticatedUser | undefined;
    if (!user) return next(unauthenticated('Not authenticated'));
    if (!allows(user.role, permission)) return next(forbidden(`The ${user.role} role cannot do this (needs ${LEAST_ROLE[permission]} or higher)`));
    next();
  };
}
