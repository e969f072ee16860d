/**
 * DAG and task params (Airflow's Param): a default value plus an optional
 * JSON-Schema description of what a run may pass instead. Params end up in
 * the serialized DAG and the UI's trigger form, so every value must be JSON.
 */
import { DagDefinitionError } from './errors.ts';

export const PARAM_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** JSON-Schema keywords a Param accepts (same names as JSON Schema). */
export interface ParamOptions {
  type?: ParamType | ParamType[];
  description?: string;
  title?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

export interface SerializedParam {
  /** Absent when the Param has no default: a run must then supply the value. */
  default?: unknown;
  description?: string;
  schema: Record<string, unknown>;
}

const PARAM_BRAND: unique symbol = Symbol.for('airflow-ts.param');
const OPTION_KEYS = ['type', 'description', 'title', 'enum', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern'];

export class Param {
  readonly [PARAM_BRAND] = true;
  readonly description: string | undefined;
  /** The JSON Schema, without `description` (kept separately, as Airflow does). */
  readonly schema: Record<string, unknown>;

  constructor(
    readonly value: unknown,
    options: ParamOptions = {},
  ) {
    const bad = (why: string) => new DagDefinitionError(`Invalid Param (default ${safeJson(value)}): ${why}`);
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.includes(key)) throw bad(`unknown option '${key}'; allowed: ${OPTION_KEYS.join(', ')}`);
    }
    const { description, ...schema } = options;
    const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
    for (const t of types) {
      if (!(PARAM_TYPES as readonly string[]).includes(t)) throw bad(`type '${t}' is not one of ${PARAM_TYPES.join(', ')}`);
    }
    for (const key of ['minimum', 'maximum', 'minLength', 'maxLength'] as const) {
      const n = schema[key];
      if (n !== undefined && (typeof n !== 'number' || !Number.isFinite(n))) throw bad(`${key} must be a finite number, got ${safeJson(n)}`);
    }
    if (schema.enum !== undefined && !Array.isArray(schema.enum)) throw bad(`enum must be an array, got ${safeJson(schema.enum)}`);
    if (schema.pattern !== undefined) {
      try {
        new RegExp(schema.pattern);
      } catch (err) {
        throw bad(`pattern ${safeJson(schema.pattern)} is not a valid regular expression (${(err as Error).message})`);
      }
    }
    for (const key of ['description', 'title'] as const) {
      if (options[key] !== undefined && typeof options[key] !== 'string') throw bad(`${key} must be a string`);
    }
    this.description = description;
    this.schema = Object.fromEntries(Object.entries(schema).filter(([, v]) => v !== undefined));
  }
}

/** Brand check rather than instanceof, so Params from a second copy of this module still count. */
export function isParam(x: unknown): x is Param {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[PARAM_BRAND] === true;
}

/**
 * Turns `{ name: value | Param }` into the JSON form. `where` (e.g. "DAG 'etl'")
 * is put in error messages so the author knows which params are meant.
 */
export function serializeParams(params: Record<string, unknown>, where?: { dagId?: string; taskId?: string }): Record<string, SerializedParam> {
  const owner = where?.taskId ? `task '${where.taskId}' in DAG '${where.dagId}': ` : where?.dagId ? `DAG '${where.dagId}': ` : '';
  const out: Record<string, SerializedParam> = {};
  for (const [name, raw] of Object.entries(params)) {
    const check = (value: unknown, what: string) => {
      const problem = jsonProblem(value, what);
      if (problem) throw new DagDefinitionError(`${owner}param '${name}' is not JSON-safe: ${problem}`, where?.dagId, where?.taskId);
    };
    if (!isParam(raw)) check(raw, 'value');
    const param = isParam(raw) ? raw : new Param(raw);
    if (param.value !== undefined) check(param.value, 'default');
    check(param.schema, 'schema');
    out[name] = {
      ...(param.value !== undefined ? { default: param.value } : {}),
      ...(param.description !== undefined ? { description: param.description } : {}),
      schema: param.schema,
    };
  }
  return out;
}

/**
 * Describes the first part of `value` that would not survive a JSON round
 * trip (undefined, functions, Dates, class instances, NaN, cycles), or
 * returns null when the value is plain JSON.
 */
export function jsonProblem(value: unknown, path = 'value', ancestors: object[] = []): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${path} is ${value}, which JSON cannot hold`;
  if (typeof value !== 'object') return `${path} is ${typeof value === 'function' ? 'a function' : String(value)}, which JSON cannot hold`;
  if (ancestors.includes(value)) return `${path} refers back to itself (a cycle)`;
  if (value instanceof Date) return `${path} is a Date; pass date.toISOString() instead`;
  const proto: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    return `${path} is a ${value.constructor?.name ?? 'class instance'}; only plain objects, arrays, strings, finite numbers, booleans and null are allowed`;
  }
  const inner = [...ancestors, value];
  const entries = Array.isArray(value)
    ? value.map((v, i) => [`${path}[${i}]`, v] as const)
    : Object.entries(value).map(([k, v]) => [`${path}.${k}`, v] as const);
  for (const [p, v] of entries) {
    const problem = jsonProblem(v, p, inner);
    if (problem) return problem;
  }
  return null;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
