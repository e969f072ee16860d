import { createPool, deletePool, DEFAULT_POOL, getPool, listPools, updatePool, type PoolChanges, type PoolRow } from '../../../../db/models/pool.ts';
import { conflict, notFound } from '../../../api/problems.ts';
import { createBody as poolCreateBody, patchBody as poolPatchBody } from '../../../api/schemas/pools.ts';
import { checked, numberOrText, orNull, text } from './form.ts';
import { sortBy, type Resource } from './resource.ts';

/** Pools: listed for every role, edited by Op and Admin; default_pool can be neither renamed nor deleted. */
export const pools: Resource<PoolRow> = {
  path: 'pools',
  noun: 'pool',
  title: 'Pools',
  readPermission: 'read',
  list: ({ knex }, offset) => listPools(knex, { ...sortBy('pool'), offset }),
  get: ({ knex }, name) => getPool(knex, name),
  fields: (row, entered) => [
    {
      name: 'name',
      label: 'Name',
      kind: 'text',
      value: entered ? text(entered, 'name') : (row?.pool ?? ''),
      required: true,
      readonly: row?.pool === DEFAULT_POOL,
      code: true,
    },
    { name: 'slots', label: 'Slots', kind: 'number', value: entered ? text(entered, 'slots') : String(row?.slots ?? 128), required: true },
    { name: 'description', label: 'Description', kind: 'textarea', value: entered ? text(entered, 'description') : (row?.description ?? '') },
    {
      name: 'include_deferred',
      label: 'Deferred tasks take slots',
      kind: 'checkbox',
      checked: entered ? checked(entered, 'include_deferred') : (row?.include_deferred ?? false),
    },
  ],
  async create({ knex }, body, audit) {
    const input = poolCreateBody.parse({
      name: text(body, 'name'),
      slots: numberOrText(text(body, 'slots')),
      description: orNull(body, 'description'),
      include_deferred: checked(body, 'include_deferred'),
    });
    const row = await createPool(
      knex,
      { pool: input.name, slots: input.slots, description: input.description ?? null, include_deferred: input.include_deferred ?? false },
      audit,
    );
    if (!row) throw conflict(`Pool '${input.name}' already exists; edit it instead`);
    return row.pool;
  },
  async update({ knex }, name, body, audit) {
    const input = poolPatchBody.parse({
      name: text(body, 'name') || name,
      slots: numberOrText(text(body, 'slots')),
      description: orNull(body, 'description'),
      include_deferred: checked(body, 'include_deferred'),
    });
    const changes: PoolChanges = {
      pool: input.name,
      slots: input.slots,
      description: input.description ?? null,
      include_deferred: input.include_deferred ?? false,
    };
    const result = await updatePool(knex, name, changes, audit); // default_pool cannot be renamed: 400
    if ('missing' in result) throw notFound(`Pool '${name}' not found`);
    if ('duplicate' in result) throw conflict(`Pool '${changes.pool}' already exists`);
    return result.row.pool;
  },
  remove: ({ knex }, name, audit) => deletePool(knex, name, audit),
  details: (row) => [
    ['Name', row.pool],
    ['Slots', String(row.slots)],
    ['Running / queued slots', `${row.running_slots} / ${row.queued_slots}`],
  ],
  deletable: (name) => name !== DEFAULT_POOL,
};
