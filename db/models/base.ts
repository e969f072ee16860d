import type { Knex } from 'knex';
import { z } from 'zod';
import { InvalidOrderByError } from '../../core/errors.ts';
import { sqlState, UNIQUE_VIOLATION } from '../pgErrors.ts';
import { writeAuditLog, type Audit } from './log.ts';

/**
 * What the models share (Airflow's models/base.py): filters and paging for
 * listings, `order_by` parsing, and the audited create/update/delete of the
 * user-edited tables (variable, connection, slot_pool). Every such change is
 * one transaction together with its audit event in `log`, so the audit trail
 * never records a change that did not happen, nor misses one that did.
 */

/** A string Postgres can store in a text column (it refuses NUL characters). */
export const pgText = z.string().refine((s) => !s.includes('\0'), { message: 'must not contain NUL (\\u0000) characters' });

export interface DateRange {
  gte?: Date;
  lte?: Date;
}

export function inRange(query: Knex.QueryBuilder, column: string, range: DateRange | undefined): void {
  if (range?.gte) query.where(column, '>=', range.gte);
  if (range?.lte) query.where(column, '<=', range.lte);
}

/** Matches none (null) as well as named states. */
export function inStates(query: Knex.QueryBuilder, column: string, states: readonly (string | null)[] | undefined): void {
  if (!states) return;
  const named = states.filter((s): s is string => s !== null);
  const withNull = states.includes(null);
  query.where((q) => {
    q.whereIn(column, named);
    if (withNull) q.orWhereNull(column);
  });
}

/** Rows of a filtered query, and how many match without paging. */
export async function page<T>(
  query: Knex.QueryBuilder,
  columns: readonly string[],
  order: (q: Knex.QueryBuilder) => Knex.QueryBuilder,
  limit: number,
  offset: number,
): Promise<{ rows: T[]; total: number }> {
  const [counted] = await query.clone().clearSelect().clearOrder().count({ n: '*' });
  const rows = (await order(query.clone().select(...columns))
    .limit(limit)
    .offset(offset)) as T[];
  return { rows, total: Number(counted?.n ?? 0) };
}

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

export interface Table {
  name: 'variable' | 'connection' | 'slot_pool';
  /** The unique natural key, as the API addresses rows. */
  key: string;
  /** Audit event prefix, as Airflow's: variable.create, connection.edit, pool.delete. */
  event: string;
}

export async function listRows<T>(knex: Knex, table: Table, page: Page): Promise<{ rows: T[]; total: number }> {
  const [counted] = await knex(table.name).count({ n: '*' });
  const rows = await knex(table.name)
    .orderBy(page.sort.column, page.sort.descending ? 'desc' : 'asc')
    .orderBy('id')
    .limit(page.limit)
    .offset(page.offset);
  return { rows: rows as T[], total: Number(counted?.n ?? 0) };
}

/** Inserts unless the key exists (then null): ON CONFLICT DO NOTHING, so racing creators get one row and one 409. */
export async function insertRow<T>(knex: Knex, table: Table, values: Record<string, unknown>, audit: Audit, extra: Record<string, unknown>): Promise<T | null> {
  return knex.transaction(async (trx) => {
    const [row] = await trx(table.name).insert(values).onConflict(table.key).ignore().returning('*');
    if (!row) return null;
    await writeAuditLog(trx, audit, `${table.event}.create`, extra);
    return row as T;
  });
}

/** Locks the row, computes the change from it, writes change and audit event together. */
export async function updateRow<T>(
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

export async function deleteRow(knex: Knex, table: Table, key: string, audit: Audit, extra: Record<string, unknown>): Promise<boolean> {
  return knex.transaction(async (trx) => {
    const deleted = await trx(table.name).where(table.key, key).delete();
    if (deleted === 0) return false;
    await writeAuditLog(trx, audit, `${table.event}.delete`, extra);
    return true;
  });
}
