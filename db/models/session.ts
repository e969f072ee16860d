import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Role } from './user.ts';

/**
 * Server-side web UI sessions. The browser holds a random 256-bit id; the
 * table holds only its SHA-256, so reading the table (or a dump) gives no
 * usable session. A session is valid while it has not expired, its user
 * exists and is active, and the user still has the role it logged in with:
 * logout deletes the row, deleting the user deletes it (foreign key cascade)
 * and any role change makes it invalid at the next request, whichever path
 * (CLI, SQL, a future API) changed the role.
 */
export interface SessionUser {
  userId: number;
  username: string;
  role: Role;
}

/** A new unguessable session id (also used as the anonymous visitor's CSRF seed). */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

function idHash(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}

/** Records a session for a user who just logged in; expired sessions are deleted on the way. */
export async function createSession(knex: Knex, session: { sessionId: string; userId: number; role: Role; now: Date; lifetimeMs: number }): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx('session').where('expires_at', '<=', session.now).delete();
    await trx('session').insert({
      id_hash: idHash(session.sessionId),
      user_id: session.userId,
      role: session.role,
      created_at: session.now,
      expires_at: new Date(session.now.getTime() + session.lifetimeMs),
    });
  });
}

/** The user a session id belongs to, with the role from the users table; undefined when the session is unknown, expired or revoked. */
export async function findSessionUser(knex: Knex, sessionId: string, now: Date): Promise<SessionUser | undefined> {
  const row = await knex('session as s')
    .join('users as u', 'u.id', 's.user_id')
    .where('s.id_hash', idHash(sessionId))
    .andWhere('s.expires_at', '>', now)
    .andWhere('u.active', true)
    .andWhereRaw('u.role = s.role')
    .first('u.id as userId', 'u.username', 'u.role');
  return row as SessionUser | undefined;
}

/** Logout. */
export async function deleteSession(knex: Knex, sessionId: string): Promise<void> {
  await knex('session').where('id_hash', idHash(sessionId)).delete();
}

/** Ends every session of a user (role change, deactivation); pass the transaction that changes the user. */
export async function deleteUserSessions(knex: Knex, userId: number): Promise<number> {
  return knex('session').where('user_id', userId).delete();
}
