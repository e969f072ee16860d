import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Knex } from 'knex';
import { verifyPassword } from '../../core/passwordHash.ts';
import { findUser, ROLES, type Role } from '../../db/users.ts';
import { forbidden, unauthenticated } from './problems.ts';

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
 * HTTP Basic authentication against the users table. scrypt is slow by
 * design (tens of ms), so a verified Authorization header is remembered for a
 * minute by its SHA-256 (never the password itself): scripts calling the API
 * in a loop pay the hash once.
 */
export function basicAuth(knex: Knex, now: () => number = Date.now): RequestHandler {
  const verified = new Map<string, { user: AuthenticatedUser; until: number }>();
  return async (req, res, next) => {
    try {
      const header = req.headers.authorization ?? '';
      const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
      if (!match) {
        res.setHeader('WWW-Authenticate', 'Basic realm="airflow-ts"');
        throw unauthenticated('No credentials were given; use HTTP Basic authentication');
      }
      const key = createHash('sha256').update(header).digest('hex');
      const cached = verified.get(key);
      if (cached && cached.until > now()) {
        res.locals.user = cached.user;
        return next();
      }
      const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const [username, password] = colon < 0 ? [decoded, ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
      const user = await findUser(knex, username);
      if (!user || !(await verifyPassword(password, user.password_hash))) {
        res.setHeader('WWW-Authenticate', 'Basic realm="airflow-ts"');
        throw unauthenticated('Invalid credentials');
      }
      const authenticated = { username: user.username, role: user.role };
      verified.set(key, { user: authenticated, until: now() + 60_000 });
      res.locals.user = authenticated;
      next();
    } catch (error) {
      next(error);
    }
  };
}

export function requirePermission(permission: Permission): RequestHandler {
  return (_req, res, next) => {
    const user = res.locals.user as AuthenticatedUser | undefined;
    if (!user) return next(unauthenticated('Not authenticated'));
    if (!allows(user.role, permission)) return next(forbidden(`The ${user.role} role cannot do this (needs ${LEAST_ROLE[permission]} or higher)`));
    next();
  };
}
