import type { Knex } from 'knex';
import { AirflowError, UserAlreadyExistsError } from '../../core/errors.ts';
import { hashPassword } from '../../core/passwordHash.ts';
import { deleteUserSessions } from './session.ts';

/** Airflow's built-in roles, weakest first: each can do what the ones before it can. */
export const ROLES = ['Viewer', 'User', 'Op', 'Admin'] as const;
export type Role = (typeof ROLES)[number];

export interface UserRow {
  id: number;
  username: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  role: Role;
  password_hash: string;
  active: boolean;
  created_on: Date;
  last_login: Date | null;
}

export async function createUser(
  knex: Knex,
  user: { username: string; password: string; role: Role; email?: string | null; firstName?: string | null; lastName?: string | null },
): Promise<UserRow> {
  if (!ROLES.includes(user.role)) throw new AirflowError(`Unknown role '${user.role}'; use one of ${ROLES.join(', ')}`);
  if (!user.username.trim()) throw new AirflowError('A username is required');
  if (user.password.length < 8) throw new AirflowError('The password must be at least 8 characters long');
  if (await knex('users').where('username', user.username).first('id')) throw new UserAlreadyExistsError(`User '${user.username}' already exists`);
  const [row] = await knex('users')
    .insert({
      username: user.username,
      email: user.email ?? null,
      first_name: user.firstName ?? null,
      last_name: user.lastName ?? null,
      role: user.role,
      password_hash: await hashPassword(user.password),
    })
    .returning('*');
  return row as UserRow;
}

export async function findUser(knex: Knex, username: string): Promise<UserRow | undefined> {
  return knex('users').where({ username, active: true }).first();
}

/** Deletes a user; their sessions go with the row (foreign key cascade). Returns whether the user existed. */
export async function deleteUser(knex: Knex, username: string): Promise<boolean> {
  return (await knex('users').where('username', username).delete()) > 0;
}

/** Gives a user another role (one role per user) and ends their sessions in the same transaction. */
export async function setUserRole(knex: Knex, username: string, role: Role): Promise<UserRow> {
  if (!ROLES.includes(role)) throw new AirflowError(`Unknown role '${role}'; use one of ${ROLES.join(', ')}`);
  return knex.transaction(async (trx) => {
    const [row] = await trx('users').where('username', username).update({ role }).returning('*');
    if (!row) throw new AirflowError(`No user '${username}'`);
    await deleteUserSessions(trx, row.id);
    return row as UserRow;
  });
}

export async function recordLogin(knex: Knex, userId: number, at: Date): Promise<void> {
  await knex('users').where('id', userId).update({ last_login: at });
}

/** Every user (active or not) without the password hash, by username. */
export function listUsers(
  knex: Knex,
): Promise<{ id: number; username: string; email: string; first_name: string; last_name: string; role: string; active: boolean }[]> {
  return knex('users').orderBy('username').select('id', 'username', 'email', 'first_name', 'last_name', 'role', 'active');
}

/** Whether a user (active or not) has this username. */
export async function userExists(knex: Knex, username: string): Promise<boolean> {
  return Boolean(await knex('users').where('username', username).first('id'));
}
