import { z } from 'zod';
import { parseIsoDate } from '../../../core/isoDate.ts';
import { TASK_INSTANCE_STATES, type TiState } from '../../../core/state.ts';
import type { DateRange } from '../../../db/models/base.ts';

/*
 * Request fields shared by the REST API's schemas: text and JSON Postgres can
 * store, ISO dates, list-valued query parameters, state filters and Airflow's
 * date-range filters.
 */

/** Text Postgres can store and compare: no NUL characters (refused with a 400 rather than failing in the database). */
export const dbText = z.string().refine((s) => !s.includes('\u0000'), 'must not contain NUL (\\u0000) characters');

// eslint-disable-next-line no-control-regex -- NUL is exactly what Postgres cannot store in text
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MAX_JSON_DEPTH = 64;

/** Why a JSON value cannot go into a jsonb column (a NUL or lone UTF-16 surrogate in a string or key, or deep nesting), or null. */
export function jsonbProblem(value: unknown): string | null {
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [v, depth] = item;
    if (typeof v === 'string' && UNSTORABLE.test(v)) return 'contains a NUL (\\u0000) character or a lone UTF-16 surrogate';
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return `is nested more than ${MAX_JSON_DEPTH} levels deep`;
    for (const [key, child] of Object.entries(v)) {
      if (UNSTORABLE.test(key)) return 'contains a NUL (\\u0000) character or a lone UTF-16 surrogate';
      stack.push([child, depth + 1]);
    }
  }
  return null;
}

/**
 * An ISO 8601 date-time; without an offset it is UTC, a bare date is midnight
 * UTC. A '+' offset sent unencoded in a query string arrives as a space, which is repaired.
 */
export function parseApiDate(text: string): Date | null {
  return parseIsoDate(text.trim().replace(/(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$/i, '$1+$2'));
}

export const isoDateTime = z.string().transform((text, ctx) => {
  const date = parseApiDate(text);
  if (!date) {
    ctx.addIssue({ code: 'custom', message: `'${text}' is not an ISO 8601 date-time like 2025-01-31T06:00:00+00:00` });
    return z.NEVER;
  }
  return date;
});

/** A query parameter that may repeat (state=a&state=b) or hold a comma-separated list. */
export const queryArray = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).flatMap((s) => String(s).split(','))), z.array(item).optional());

/** A number in a query string; an empty value is not a number (a 400), not zero. */
export const queryNumber = z.preprocess((v) => (v === undefined ? undefined : v === '' ? Number.NaN : Number(v)), z.number().optional());

/** Airflow's state filter values: a state, or 'none' (or null in JSON bodies) for none. */
export const tiStateFilter = z
  .enum([...TASK_INSTANCE_STATES, 'none'])
  .nullable()
  .transform((s): TiState => (s === 'none' ? null : s));

/** The `<field>_gte` / `<field>_lte` pairs Airflow filters dates with; logical_date_* is a synonym of execution_date_*. */
export const dateRangeFields = {
  execution_date_gte: isoDateTime.optional(),
  execution_date_lte: isoDateTime.optional(),
  logical_date_gte: isoDateTime.optional(),
  logical_date_lte: isoDateTime.optional(),
  start_date_gte: isoDateTime.optional(),
  start_date_lte: isoDateTime.optional(),
  end_date_gte: isoDateTime.optional(),
  end_date_lte: isoDateTime.optional(),
  updated_at_gte: isoDateTime.optional(),
  updated_at_lte: isoDateTime.optional(),
};

type DateRangeInput = { [K in keyof typeof dateRangeFields]?: Date };

const later = (a?: Date, b?: Date) => (a && b ? (a > b ? a : b) : (a ?? b));
const earlier = (a?: Date, b?: Date) => (a && b ? (a < b ? a : b) : (a ?? b));

export function dateRanges(input: DateRangeInput): { logicalDate: DateRange; startDate: DateRange; endDate: DateRange; updatedAt: DateRange } {
  return {
    logicalDate: { gte: later(input.execution_date_gte, input.logical_date_gte), lte: earlier(input.execution_date_lte, input.logical_date_lte) },
    startDate: { gte: input.start_date_gte, lte: input.start_date_lte },
    endDate: { gte: input.end_date_gte, lte: input.end_date_lte },
    updatedAt: { gte: input.updated_at_gte, lte: input.updated_at_lte },
  };
}
