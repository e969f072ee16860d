import type { Knex } from 'knex';
import { hashPassword, verifyPassword } from '../core/passwordHash.ts';
import { releasePasswordCheck, reservePasswordCheck } from '../db/models/authFailure.ts';
import { findUser, type UserRow } from '../db/models/user.ts';

/**
 * Rate limits for password checks (UI login and REST Basic auth alike), as
 * Airflow's webserver limits logins: at most 5 checks per user and 20 per
 * client address in a 60 s window. Beyond that the answer is 429 with
 * Retry-After and scrypt is not run. Per user stops guessing one account from
 * many addresses; per address stops trying many accounts from one; a locked
 * user or address leaves the others alone.
 */
export const AUTH_WINDOW_MS = 60_000;
export const FAILURES_PER_USER = 5;
export const FAILURES_PER_ADDRESS = 20;

let unknownUserHash: Promise<string> | undefined;

export type PasswordCheck = { outcome: 'ok'; user: UserRow } | { outcome: 'wrong' } | { outcome: 'limited'; retryAfterSeconds: number };

export async function checkPassword(knex: Knex, attempt: { username: string; password: string; address: string; now: Date }): Promise<PasswordCheck> {
  const keys = [`user:${attempt.username.slice(0, 256)}`, `address:${attempt.address}`];
  const reservation = await reservePasswordCheck(
    knex,
    [
      { key: keys[0]!, limit: FAILURES_PER_USER },
      { key: keys[1]!, limit: FAILURES_PER_ADDRESS },
    ],
    attempt.now,
    AUTH_WINDOW_MS,
  );
  if (!reservation.allowed) return { outcome: 'limited', retryAfterSeconds: Math.ceil(reservation.retryAfterMs / 1000) };
  const user = await findUser(knex, attempt.username);
  // An unknown user costs one scrypt too, so the answer's timing does not tell which usernames exist.
  const matches = await verifyPassword(attempt.password, user?.password_hash ?? (await (unknownUserHash ??= hashPassword('no user has this password'))));
  if (!user || !matches) return { outcome: 'wrong' };
  await releasePasswordCheck(knex, keys, attempt.now, AUTH_WINDOW_MS);
  return { outcome: 'ok', user };
}
