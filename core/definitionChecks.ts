/**
 * Checks shared by `new DAG()` and every operator's constructor: ids, option
 * keys and durations. Each throws a DagDefinitionError naming what to write
 * instead, at the line that defined the DAG or task.
 */
import { toMs, type Duration } from './duration.ts';
import { DagDefinitionError } from './errors.ts';

export const ID_PATTERN = /^[A-Za-z0-9_.-]+$/;
export const MAX_ID_LENGTH = 250;

/** Throws unless `id` follows Airflow's id rule (letters, digits, '_', '.', '-'; at most 250 chars). */
export function checkId(kind: 'DAG id' | 'Task id' | 'Group id', id: unknown, dagId?: string): asserts id is string {
  const where = kind !== 'DAG id' && dagId ? ` in DAG '${dagId}'` : '';
  const err = (message: string) => new DagDefinitionError(message, kind === 'DAG id' ? undefined : dagId, undefined);
  if (typeof id !== 'string' || id === '') {
    throw err(`${kind}${where} is required and must be a non-empty string, got ${JSON.stringify(id)}`);
  }
  if (id.length > MAX_ID_LENGTH) {
    throw err(`${kind} '${id.slice(0, 40)}...'${where} is ${id.length} characters long; the limit is ${MAX_ID_LENGTH}`);
  }
  if (!ID_PATTERN.test(id)) {
    throw err(`${kind} '${id}'${where} is invalid: use only letters, digits, '_', '.' and '-' (e.g. '${id.replace(/[^A-Za-z0-9_.-]/g, '_')}')`);
  }
}

/** Rejects keys not in `allowed`, suggesting the camelCase name for Airflow's snake_case ones. */
export function checkKeys(options: object, allowed: readonly string[], what: string, dagId?: string, taskId?: string): void {
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const hint = allowed.includes(camel) ? `; did you mean '${camel}'?` : `; allowed: ${allowed.join(', ')}`;
    throw new DagDefinitionError(`${what} '${key}' is unknown${hint}`, dagId, taskId);
  }
}

/** Converts a Duration to ms, turning toMs's TypeError into a DagDefinitionError via `fail`. */
export function durationMs(value: Duration, what: string, fail: (message: string) => never): number {
  try {
    return toMs(value, what);
  } catch (err) {
    return fail((err as Error).message);
  }
}
