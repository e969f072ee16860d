import { z } from 'zod';
import { pgText } from '../../../db/models/base.ts';

/** Request schemas of the variable routes (routes/variables.ts) and the UI's variable form. */

const keySchema = pgText.min(1, 'key must not be empty').max(250, 'key must be at most 250 characters');
export const keyParams = z.object({ variable_key: pgText });
export const createBody = z.strictObject({ key: keySchema, value: pgText, description: pgText.nullable().optional() });
export const patchBody = z.strictObject({ key: pgText, value: pgText.optional(), description: pgText.nullable().optional() });
/** The fields a PATCH (or its update_mask) may change. */
export const UPDATABLE = ['value', 'description'] as const;
