import { z } from 'zod';
import { pgText } from '../../../db/models/base.ts';

/** Request schemas of the pool routes (routes/pools.ts) and the UI's pool form. */

const name = pgText.min(1, 'name must not be empty').max(256, 'name must be at most 256 characters');
const slots = z.number().int('slots must be an integer').min(0, "slots must be 0 or more (-1, Airflow's unlimited, is not supported)").max(2_147_483_647);
const fields = { name, slots, description: pgText.nullable().optional(), include_deferred: z.boolean().optional() };
export const createBody = z.strictObject(fields);
export const patchBody = z.strictObject({ ...fields, name: name.optional(), slots: slots.optional() });
/** The fields a PATCH (or its update_mask) may change. */
export const UPDATABLE = ['name', 'slots', 'description', 'include_deferred'] as const;
export type Updatable = (typeof UPDATABLE)[number];
export const nameParams = z.object({ pool_name: pgText });
