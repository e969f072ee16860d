import { z } from 'zod';
import { createPool, deletePool, getPool, listPools, updatePool, type PoolChanges } from '../../../db/models/pool.ts';
import { sortFrom } from '../../../db/models/base.ts';
import type { AuthenticatedUser } from '../auth.ts';
import { defineRoute, pagination, queryList, Reply } from '../defineRoute.ts';
import { poolJson } from '../mappers/pool.ts';
import { badRequest, conflict, notFound } from '../problems.ts';
import { createBody, nameParams, patchBody, UPDATABLE, type Updatable } from '../schemas/pools.ts';

/**
 * Pools: Airflow's /pools endpoints. Slot counts sum pool_slots of the pool's
 * task instances by state; occupied = running + queued (+ deferred when
 * include_deferred), open = slots - occupied (negative while a shrunk pool
 * drains), as Airflow computes them.
 *
 * slots is an integer from 0 up: Airflow's -1 ("unlimited") is refused,
 * because our scheduler treats slots as a hard number (a -1 pool would run
 * nothing). default_pool cannot be deleted or renamed (400), as in Airflow.
 * Renaming or deleting a pool leaves the task instances that name it as they
 * are (as Airflow does): the scheduler queues none of them until a pool of
 * that name exists again.
 */

const SORTABLE = { name: 'pool', slots: 'slots', description: 'description', id: 'id' };

const COLUMN: Record<Updatable, keyof PoolChanges> = { name: 'pool', slots: 'slots', description: 'description', include_deferred: 'include_deferred' };

const audit = (user: AuthenticatedUser | null, now: () => Date) => ({ owner: user?.username ?? null, at: now() });
const missing = (pool: string) => notFound(`Pool '${pool}' not found`);

export const poolsRoutes = [
  defineRoute({
    method: 'get',
    path: '/pools',
    summary: 'List pools with their slot usage',
    tag: 'Pool',
    permission: 'read',
    query: z.object({ ...pagination, order_by: z.string().optional() }),
    handler: async ({ query }, { knex }) => {
      const sort = sortFrom(query.order_by, SORTABLE, 'id');
      const { rows, total } = await listPools(knex, { limit: query.limit, offset: query.offset, sort });
      return { pools: rows.map(poolJson), total_entries: total };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/pools',
    summary: 'Create a pool',
    tag: 'Pool',
    permission: 'editConfig',
    body: createBody,
    responses: { 409: 'A pool with this name already exists' },
    handler: async ({ body, user }, { knex, now }) => {
      const row = await createPool(
        knex,
        { pool: body.name, slots: body.slots, description: body.description ?? null, include_deferred: body.include_deferred ?? false },
        audit(user, now),
      );
      if (!row) throw conflict(`Pool '${body.name}' already exists`);
      return poolJson(row);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/pools/{pool_name}',
    summary: 'Get a pool with its slot usage',
    tag: 'Pool',
    permission: 'read',
    params: nameParams,
    responses: { 404: 'Pool not found' },
    handler: async ({ params }, { knex }) => {
      const row = await getPool(knex, params.pool_name);
      if (!row) throw missing(params.pool_name);
      return poolJson(row);
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/pools/{pool_name}',
    summary: 'Update a pool: name and slots (both required) and the other fields given, or only those named in update_mask',
    tag: 'Pool',
    permission: 'editConfig',
    params: nameParams,
    query: z.object({ update_mask: queryList }),
    body: patchBody,
    responses: { 404: 'Pool not found', 409: 'Another pool has the new name' },
    handler: async ({ params, query, body, user }, { knex, now }) => {
      const mask = (query.update_mask ?? []).map((f) => f.trim()).filter(Boolean);
      for (const field of mask) {
        if (!(UPDATABLE as readonly string[]).includes(field))
          throw badRequest(`update_mask: unknown field '${field}'; updatable fields are ${UPDATABLE.join(', ')}`);
        if (body[field as Updatable] === undefined) throw badRequest(`update_mask names '${field}' but the body has no ${field}`);
      }
      if (mask.length === 0) {
        const absent = (['name', 'slots'] as const).filter((f) => body[f] === undefined);
        if (absent.length) throw badRequest(`Missing required field(s): ${absent.join(', ')} (or name the fields to change in update_mask)`);
      }
      const names = (mask.length > 0 ? mask : UPDATABLE.filter((f) => body[f] !== undefined)) as Updatable[];
      const changes: PoolChanges = Object.fromEntries(names.map((f) => [COLUMN[f], body[f]]));
      const result = await updatePool(knex, params.pool_name, changes, audit(user, now));
      if ('missing' in result) throw missing(params.pool_name);
      if ('duplicate' in result) throw conflict(`Pool '${changes.pool}' already exists`);
      return poolJson(result.row);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/pools/{pool_name}',
    summary: 'Delete a pool (not default_pool)',
    tag: 'Pool',
    permission: 'editConfig',
    params: nameParams,
    responses: { 204: 'Deleted', 400: 'default_pool cannot be deleted', 404: 'Pool not found' },
    handler: async ({ params, user }, { knex, now }) => {
      if (!(await deletePool(knex, params.pool_name, audit(user, now)))) throw missing(params.pool_name);
      return new Reply(204);
    },
  }),
];
