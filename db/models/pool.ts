import type { Knex } from 'knex';
import { DefaultPoolProtectedError } from '../../core/errors.ts';
import { deleteRow, insertRow, updateRow, type Page, type Table, type UpdateResult } from './base.ts';
import type { Audit } from './log.ts';

/** The `slot_pool` table as the API and UI edit it; the scheduler reads pools in its claim (db/queries/claimScheduledTaskInstances.ts). */

const POOL: Table = { name: 'slot_pool', key: 'pool', event: 'pool' };

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
