import { z } from 'zod';
import { pgText } from '../../../db/models/base.ts';

/** Request schemas of the connection routes (routes/connections.ts) and the UI's connection form. */

const connectionId = pgText
  .min(1, 'connection_id must not be empty')
  .max(250, 'connection_id must be at most 250 characters')
  .regex(/^[\w.-]+$/, 'connection_id may contain only letters, digits, underscores, dots and dashes');
const text500 = pgText.max(500, 'must be at most 500 characters').nullable().optional();
/** As in Airflow 3, extra is a JSON object (Airflow 2 warned about anything else); empty means none. */
const extraJson = pgText
  .superRefine((text, ctx) => {
    if (text.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `must be a JSON object, e.g. {"timeout": 30}; it is not valid JSON (${(error as Error).message})` });
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object, e.g. {"timeout": 30}, not a JSON array or single value' });
  })
  .nullable()
  .optional();
const fields = {
  conn_type: pgText.min(1, 'conn_type must not be empty').max(500, 'conn_type must be at most 500 characters'),
  description: pgText.nullable().optional(),
  host: text500,
  login: text500,
  schema: text500,
  port: z.number().int().min(0).max(65_535).nullable().optional(),
  password: pgText.nullable().optional(),
  extra: extraJson,
};
export const createBody = z.strictObject({ connection_id: connectionId, ...fields });
export const patchBody = z.strictObject({ connection_id: pgText.optional(), ...fields, conn_type: fields.conn_type.optional() });
/** The fields a PATCH (or its update_mask) may change. */
export const UPDATABLE = ['conn_type', 'description', 'host', 'login', 'schema', 'port', 'password', 'extra'] as const;
export type Updatable = (typeof UPDATABLE)[number];
export const idParams = z.object({ connection_id: pgText });
