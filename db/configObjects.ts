import type { Knex } from 'knex';
import { z } from 'zod';
import type { MultiFernet } from '../core/crypto/fernet.ts';
import { DefaultPoolProtectedError, InvalidOrderByError } from '../core/errors.ts';
import { isSensitiveName, SecretsMasker } from '../core/secretsMasker.ts';
import { decryptColumn, encryptColumn } from './encryptedColumns.ts';
import { sqlState, UNIQUE_VIOLATION } from './pgErrors.ts';

/**
 * Data access for the user configuration the REST API (and later the UI and
 * CLI) edits: variables, connections and pools. Every change is one
 * transaction together with its audit event in `log`, so the audit trail never
 * records a change that did not happen, nor misses one that did.
 *
 * The task runner reads variables and connections through
 * db/variablesAndConnections.ts; the scheduler reads pools in its claim query.
 */

/** Who changed something and when, for the audit log. */
export interface Audit {
  owner: string | null;
  at: Date;
}

/** One row in the `log` table (Airflow's event log). `extra` must never hold secrets: callers pass field names, not values. */
export async function writeAuditLog(knex: Knex | Knex.Transaction, audit: Audit, event: string, extra: Record<string, unknown>): Promise<void> {
  await knex('log').insert({ dttm: audit.at, event, owner: audit.owner, extra: JSON.stringify(extra) });
}

/** A string Postgres can store in a text column (it refuses NUL characters). */
export const pgText = z.string().refine((s) => !s.includes('\0'), { message: 'must not contain NUL (\\u0000) characters' });

export interface Sort {
  column: string;
  descending: boolean;
}

/**
 * Airflow's `order_by`: an API field name, `-` prefixed for descending.
 * `columns` maps the allowed API names to columns.
 */
export function sortFrom(orderBy: string | undefined, columns: Record<string, string>, fallback: string): Sort {
  const value = orderBy?.trim() || fallback;
  const name = value.replace(/^-/, '');
  const column = Object.hasOwn(columns, name) ? columns[name] : undefined;
  if (!column)
    throw new InvalidOrderByError(`Ordering by '${name}' is not allowed; order_by must be one of ${Object.keys(columns).join(', ')} (prefix - for descending)`);
  return { column, descending: value.startsWith('-') };
}

export interface Page {
  limit: number;
  offset: number;
  sort: Sort;
}

/** Result of an update: the row, or why there is none. */
export type UpdateResult<T> = { row: T } | { missing: true } | { duplicate: true };

interface Table {
  name: 'variable' | 'connection' | 'slot_pool';
  /** The unique natural key, as the API addresses rows. */
  key: string;
  /** Audit event prefix, as Airflow's: variable.create, connection.edit, pool.delete. */
  event: string;
}

const VARIABLE: Table = { name: 'variable', key: 'key', event: 'variable' };
const CONNECTION: Table = { name: 'connection', key: 'conn_id', event: 'connection' };
const POOL: Table = { name: 'slot_pool', key: 'pool', event: 'pool' };

async function listRows<T>(knex: Knex, table: Table, page: Page): Promise<{ rows: T[]; total: number }> {
  const [counted] = await knex(table.name).count({ n: '*' });
  const rows = await knex(table.name)
    .orderBy(page.sort.column, page.sort.descending ? 'desc' : 'asc')
    .orderBy('id')
    .limit(page.limit)
    .offset(page.offset);
  return { rows: rows as T[], total: Number(counted?.n ?? 0) };
}

/** Inserts unless the key exists (then null): ON CONFLICT DO NOTHING, so racing creators get one row and one 409. */
async function insertRow<T>(knex: Knex, table: Table, values: Record<string, unknown>, audit: Audit, extra: Record<string, unknown>): Promise<T | null> {
  return knex.transaction(async (trx) => {
    const [row] = await trx(table.name).insert(values).onConflict(table.key).ignore().returning('*');
    if (!row) return null;
    await writeAuditLog(trx, audit, `${table.event}.create`, extra);
    return row as T;
  });
}

/** Locks the row, computes the change from it, writes change and audit event together. */
async function updateRow<T>(
  knex: Knex,
  table: Table,
  key: string,
  change: (existing: T) => Record<string, unknown>,
  audit: Audit,
  extra: Record<string, unknown>,
): Promise<UpdateResult<T>> {
  try {
    return await knex.transaction(async (trx) => {
      const existing = (await trx(table.name).where(table.key, key).forUpdate().first()) as (T & { id: number }) | undefined;
      if (!existing) return { missing: true as const };
      const values = change(existing);
      const [row] = Object.keys(values).length > 0 ? await trx(table.name).where('id', existing.id).update(values).returning('*') : [existing];
      await writeAuditLog(trx, audit, `${table.event}.edit`, extra);
      return { row: row as T };
    });
  } catch (error) {
    if (sqlState(error) === UNIQUE_VIOLATION) return { duplicate: true };
    throw error;
  }
}

async function deleteRow(knex: Knex, table: Table, key: string, audit: Audit, extra: Record<string, unknown>): Promise<boolean> {
  return knex.transaction(async (trx) => {
    const deleted = await trx(table.name).where(table.key, key).delete();
    if (deleted === 0) return false;
    await writeAuditLog(trx, audit, `${table.event}.delete`, extra);
    return true;
  });
}

// ---------------------------------------------------------------- variables

/** Values are Fernet-encrypted in the table (ADR 0008); these functions take and return them in clear. */
export interface VariableRow {
  id: number;
  key: string;
  val: string | null;
  description: string | null;
  is_encrypted: boolean;
}

export type VariableChanges = Partial<Pick<VariableRow, 'val' | 'description'>>;

const openVariable = (fernet: MultiFernet, row: VariableRow): VariableRow => ({
  ...row,
  val: decryptColumn(fernet, row.val, row.is_encrypted, `variable '${row.key}'`),
});

function sealVariable(fernet: MultiFernet, changes: VariableChanges): Record<string, unknown> {
  if (changes.val === undefined) return changes;
  const { value, encrypted } = encryptColumn(fernet, changes.val);
  return { ...changes, val: value, is_encrypted: encrypted };
}

export async function listVariables(knex: Knex, fernet: MultiFernet, page: Page): Promise<{ rows: VariableRow[]; total: number }> {
  const { rows, total } = await listRows<VariableRow>(knex, VARIABLE, page);
  return { rows: rows.map((row) => openVariable(fernet, row)), total };
}

export async function getVariable(knex: Knex, fernet: MultiFernet, key: string): Promise<VariableRow | undefined> {
  const row: VariableRow | undefined = await knex('variable').where('key', key).first();
  return row && openVariable(fernet, row);
}

export async function createVariable(
  knex: Knex,
  fernet: MultiFernet,
  values: { key: string; val: string; description: string | null },
  audit: Audit,
): Promise<VariableRow | null> {
  const row = await insertRow<VariableRow>(knex, VARIABLE, sealVariable(fernet, values), audit, { key: values.key });
  return row && openVariable(fernet, row);
}

export async function updateVariable(knex: Knex, fernet: MultiFernet, key: string, changes: VariableChanges, audit: Audit): Promise<UpdateResult<VariableRow>> {
  const result = await updateRow<VariableRow>(knex, VARIABLE, key, () => sealVariable(fernet, changes), audit, { key, fields: Object.keys(changes) });
  return 'row' in result ? { row: openVariable(fernet, result.row) } : result;
}

export const deleteVariable = (knex: Knex, key: string, audit: Audit) => deleteRow(knex, VARIABLE, key, audit, { key });

// ---------------------------------------------------------------- connections

/** The password and extra are Fernet-encrypted in the table (ADR 0008); these functions take and return them in clear. */
export interface ConnectionRow {
  id: number;
  conn_id: string;
  conn_type: string;
  description: string | null;
  host: string | null;
  schema: string | null;
  login: string | null;
  password: string | null;
  port: number | null;
  extra: string | null;
  is_encrypted: boolean;
  is_extra_encrypted: boolean;
}

export type ConnectionChanges = Partial<Omit<ConnectionRow, 'id' | 'conn_id' | 'is_encrypted' | 'is_extra_encrypted'>>;

const openConnection = (fernet: MultiFernet, row: ConnectionRow): ConnectionRow => ({
  ...row,
  password: decryptColumn(fernet, row.password, row.is_encrypted, `the password of connection '${row.conn_id}'`),
  extra: decryptColumn(fernet, row.extra, row.is_extra_encrypted, `the extra of connection '${row.conn_id}'`),
});

function sealConnection(fernet: MultiFernet, changes: ConnectionChanges): Record<string, unknown> {
  const sealed: Record<string, unknown> = { ...changes };
  if (changes.password !== undefined) ({ value: sealed.password, encrypted: sealed.is_encrypted } = encryptColumn(fernet, changes.password));
  if (changes.extra !== undefined) ({ value: sealed.extra, encrypted: sealed.is_extra_encrypted } = encryptColumn(fernet, changes.extra));
  return sealed;
}

/** A connection in a list: never its password or extra, which are neither read nor decrypted (a bad key does not break the list). */
export type ConnectionListItem = Omit<ConnectionRow, 'password' | 'extra'>;

export async function listConnections(knex: Knex, page: Page): Promise<{ rows: ConnectionListItem[]; total: number }> {
  const { rows, total } = await listRows<ConnectionRow>(knex, CONNECTION, page);
  return { rows: rows.map(({ password: _password, extra: _extra, ...item }) => item), total };
}

export async function getConnection(knex: Knex, fernet: MultiFernet, connId: string): Promise<ConnectionRow | undefined> {
  const row: ConnectionRow | undefined = await knex('connection').where('conn_id', connId).first();
  return row && openConnection(fernet, row);
}

/** The audit event names the fields given, never their values (passwords, keys in extra). */
export async function createConnection(
  knex: Knex,
  fernet: MultiFernet,
  values: ConnectionChanges & { conn_id: string; conn_type: string },
  audit: Audit,
): Promise<ConnectionRow | null> {
  const fields = Object.keys(values).filter((f) => f !== 'conn_id');
  const row = await insertRow<ConnectionRow>(knex, CONNECTION, sealConnection(fernet, values), audit, { connection_id: values.conn_id, fields });
  return row && openConnection(fernet, row);
}

/** `change` sees the current row in clear (to keep redacted secrets the client sent back as '***'). */
export async function updateConnection(
  knex: Knex,
  fernet: MultiFernet,
  connId: string,
  change: (existing: ConnectionRow) => ConnectionChanges,
  fields: string[],
  audit: Audit,
): Promise<UpdateResult<ConnectionRow>> {
  const result = await updateRow<ConnectionRow>(
    knex,
    CONNECTION,
    connId,
    (existing) => sealConnection(fernet, change(openConnection(fernet, existing))),
    audit,
    { connection_id: connId, fields },
  );
  return 'row' in result ? { row: openConnection(fernet, result.row) } : result;
}

export const deleteConnection = (knex: Knex, connId: string, audit: Audit) => deleteRow(knex, CONNECTION, connId, audit, { connection_id: connId });

// ---------------------------------------------------------------- secrets to mask

/**
 * A masker that knows every connection password (and the values of sensitive keys of extras) and every
 * value of a variable with a sensitive key: what the webserver hides in XCom values it shows, since it
 * cannot know which of them the task read (ADR 0008).
 */
export async function loadSecretsMasker(knex: Knex, fernet: MultiFernet): Promise<SecretsMasker> {
  const masker = new SecretsMasker();
  const connections: ConnectionRow[] = await knex('connection').whereNotNull('password').orWhereNotNull('extra');
  for (const row of connections.map((c) => openConnection(fernet, c))) {
    if (row.password) masker.add(row.password);
    if (row.extra) masker.add(parseJsonOrNull(row.extra));
  }
  const variables: VariableRow[] = await knex('variable').whereNotNull('val').select('id', 'key', 'val', 'is_encrypted');
  for (const row of variables.filter((v) => isSensitiveName(v.key))) masker.add(openVariable(fernet, row).val, row.key);
  return masker;
}

function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- pools

export const DEFAULT_POOL = 'default_pool';

export interface PoolRow {
  id: number;
  pool: string;
  slots: number;
  description: string | null;
  include_deferred: boolean;
  /** Sums of pool_slots of the pool's task instances in each state. */
  running_slots: number;
  queued_slots: number;
  scheduled_slots: number;
  deferred_slots: number;
}

export type PoolChanges = Partial<Pick<PoolRow, 'pool' | 'slots' | 'description' | 'include_deferred'>>;

const COUNTED_STATES = ['running', 'queued', 'scheduled', 'deferred'] as const;

/** Pools with the slots their task instances take, per state (Airflow's Pool.slots_stats). */
function poolsWithStats(knex: Knex | Knex.Transaction) {
  const sum = (state: string) => knex.raw(`COALESCE(SUM(ti.pool_slots) FILTER (WHERE ti.state = ?), 0)::float8 AS ??`, [state, `${state}_slots`]);
  return knex('slot_pool as p')
    .leftJoin('task_instance as ti', (join) => {
      join.on('ti.pool', '=', 'p.pool').andOnIn('ti.state', [...COUNTED_STATES]);
    })
    .groupBy('p.id')
    .select('p.id', 'p.pool', 'p.slots', 'p.description', 'p.include_deferred', ...COUNTED_STATES.map(sum));
}

export async function listPools(knex: Knex, page: Page): Promise<{ rows: PoolRow[]; total: number }> {
  const [counted] = await knex('slot_pool').count({ n: '*' });
  const rows = await poolsWithStats(knex)
    .orderBy(`p.${page.sort.column}`, page.sort.descending ? 'desc' : 'asc')
    .orderBy('p.id')
    .limit(page.limit)
    .offset(page.offset);
  return { rows: rows as PoolRow[], total: Number(counted?.n ?? 0) };
}

export async function getPool(knex: Knex | Knex.Transaction, name: string): Promise<PoolRow | undefined> {
  return (await poolsWithStats(knex).where('p.pool', name).first()) as PoolRow | undefined;
}

export async function createPool(
  knex: Knex,
  values: { pool: string; slots: number; description: string | null; include_deferred: boolean },
  audit: Audit,
): Promise<PoolRow | null> {
  const created = await insertRow<{ pool: string }>(knex, POOL, values, audit, {
    pool: values.pool,
    slots: values.slots,
    include_deferred: values.include_deferred,
  });
  return created ? ((await getPool(knex, created.pool)) ?? null) : null;
}

export async function updatePool(knex: Knex, name: string, changes: PoolChanges, audit: Audit): Promise<UpdateResult<PoolRow>> {
  if (name === DEFAULT_POOL && changes.pool !== undefined && changes.pool !== DEFAULT_POOL) {
    throw new DefaultPoolProtectedError(`${DEFAULT_POOL} cannot be renamed; change its slots, description or include_deferred instead`);
  }
  // Slot counts and descriptions are not secret: the audit event records the new values.
  const result = await updateRow<{ pool: string }>(knex, POOL, name, () => changes, audit, { pool: name, set: changes });
  if (!('row' in result)) return result;
  const row = await getPool(knex, result.row.pool);
  return row ? { row } : { missing: true };
}

/**
 * Deletes a pool. As in Airflow, task instances naming it stay as they are;
 * the scheduler queues none of them until a pool of that name exists again.
 */
export async function deletePool(knex: Knex, name: string, audit: Audit): Promise<boolean> {
  if (name === DEFAULT_POOL) throw new DefaultPoolProtectedError(`${DEFAULT_POOL} cannot be deleted`);
  return deleteRow(knex, POOL, name, audit, { pool: name });
}
