/**
 * Dynamic task mapping (Airflow's expand()): what a mapped task expands over,
 * as written in the serialized DAG, and the pure rules the scheduler applies
 * when it expands one (ADR 0016). The scheduler never runs user code: it only
 * needs lengths, of literal lists from the DAG file or of upstream tasks'
 * XComs; the values an instance gets are worked out by its worker.
 */
import { FINISHED_TI_STATES, type TaskInstanceState, type TiState } from './state.ts';

/** An upstream task's XCom. */
export interface XComRef {
  taskId: string;
  key: string;
}

/**
 * A list a mapped task maps over. `map` (XComArg.map) keeps its source's length: the function runs in
 * the worker. `zip` is as long as its shortest source, or its longest when `fillValue` is present;
 * `concat` as long as its sources together.
 */
export type SerializedMapSource =
  | { literal: unknown[] }
  | { xcomArg: XComRef }
  | { map: SerializedMapSource }
  | { zip: SerializedMapSource[]; fillValue?: unknown }
  | { concat: SerializedMapSource[] };

/**
 * A mapped task's input. A bare source: TaskFlow's expand(), one element per instance. `product`: a classic
 * operator's expand({ a, b }), one instance per combination, the first field varying slowest (Airflow's
 * order); an array because a JSON object's key order does not survive jsonb. `kwargs`: expandKwargs(), one
 * option object per instance; `args`: TaskFlow's expandArgs(), one argument list per instance.
 */
export type SerializedExpandInput =
  SerializedMapSource | { product: { field: string; source: SerializedMapSource }[] } | { kwargs: SerializedMapSource } | { args: SerializedMapSource };

/** Airflow's default core.max_map_length. */
export const DEFAULT_MAX_MAP_LENGTH = 1024;

export type Expansion = { to: 'expand'; length: number } | { to: 'skipped' | 'failed'; reason: string };

/** Every upstream XCom the input's length depends on, each once. */
export function xcomRefsOf(input: SerializedExpandInput | SerializedMapSource): XComRef[] {
  const refs = new Map<string, XComRef>();
  const walk = (s: SerializedMapSource): void => {
    if ('xcomArg' in s) refs.set(xcomRefKey(s.xcomArg), s.xcomArg);
    else if ('map' in s) walk(s.map);
    else if ('zip' in s) s.zip.forEach(walk);
    else if ('concat' in s) s.concat.forEach(walk);
  };
  sourcesOf(input).forEach((s) => walk(s.source));
  return [...refs.values()];
}

export function xcomRefKey(ref: XComRef): string {
  return `${ref.taskId}\u0000${ref.key}`;
}

/**
 * What to do with an unexpanded mapped task, given the value of each XCom it depends on
 * (`valueOf`; undefined: no XCom was pushed).
 */
export function expansionOf(taskId: string, input: SerializedExpandInput, valueOf: (ref: XComRef) => unknown, maxMapLength: number): Expansion {
  const sources = sourcesOf(input);
  let length = 1;
  for (const { field, source } of sources) {
    const from = field === null ? describe(source) : `field '${field}' (${describe(source)})`;
    const n = lengthOf(source, valueOf);
    if (typeof n === 'string') return { to: 'failed', reason: `cannot expand mapped task '${taskId}': ${field === null ? '' : `field '${field}': `}${n}` };
    if (n === 0) return { to: 'skipped', reason: `mapped task '${taskId}' skipped: ${from} is empty` };
    length *= n;
  }
  if (length > maxMapLength) {
    const from = sources.length === 1 ? describe(sources[0]!.source) : `the product of ${sources.map((s) => `'${s.field}'`).join(' × ')}`;
    return { to: 'failed', reason: `cannot expand mapped task '${taskId}': ${from} has ${length} elements, over core.maxMapLength (${maxMapLength})` };
  }
  return { to: 'expand', length };
}

/** The lists an input multiplies (one, but for a product), with the field each stands for. */
function sourcesOf(input: SerializedExpandInput): { field: string | null; source: SerializedMapSource }[] {
  if ('product' in input) return input.product;
  if ('kwargs' in input) return [{ field: null, source: input.kwargs }];
  if ('args' in input) return [{ field: null, source: input.args }];
  return [{ field: null, source: input }];
}

/** The source's length, or why it has none (an XCom that is not a list). */
function lengthOf(source: SerializedMapSource, valueOf: (ref: XComRef) => unknown): number | string {
  if ('literal' in source) return source.literal.length;
  if ('xcomArg' in source) {
    const value = valueOf(source.xcomArg);
    if (Array.isArray(value)) return value.length;
    const got = value === undefined ? 'nothing (no XCom was pushed)' : value === null ? 'null' : typeof value;
    return `${describe(source)} must be a list, got ${got}`;
  }
  if ('map' in source) return lengthOf(source.map, valueOf);
  const parts = 'zip' in source ? source.zip : source.concat;
  const lengths: number[] = [];
  for (const part of parts) {
    const n = lengthOf(part, valueOf);
    if (typeof n === 'string') return n;
    lengths.push(n);
  }
  if ('concat' in source) return lengths.reduce((a, b) => a + b, 0);
  return 'fillValue' in source ? Math.max(0, ...lengths) : Math.min(...lengths);
}

/** How a reason names a source: 'its literal list', "the output of task 'list'", ... */
function describe(source: SerializedMapSource): string {
  if ('literal' in source) return 'its literal list';
  if ('xcomArg' in source) {
    const key = source.xcomArg.key === 'return_value' ? '' : ` (key '${source.xcomArg.key}')`;
    return `the output of task '${source.xcomArg.taskId}'${key}`;
  }
  if ('map' in source) return describe(source.map);
  if ('zip' in source) return `the zip of ${source.zip.map(describe).join(' and ')}`;
  return `the concatenation of ${source.concat.map(describe).join(' and ')}`;
}

const MOVING_ORDER: readonly TiState[] = ['running', 'queued', 'scheduled', 'up_for_retry', 'up_for_reschedule', 'deferred', 'restarting', null];

/**
 * One state standing for all instances of an expanded task, for what looks at
 * a task as a whole (the run's outcome, deadlock): unfinished while any
 * instance is, then failed > upstream_failed > success > skipped.
 */
export function aggregateMappedState(states: readonly TiState[]): TiState {
  const unfinished = states.filter((s) => !FINISHED_TI_STATES.has(s as TaskInstanceState));
  if (unfinished.length > 0) return MOVING_ORDER.find((s) => unfinished.includes(s)) ?? unfinished[0]!;
  for (const s of ['failed', 'upstream_failed', 'success', 'removed'] as const) if (states.includes(s)) return s;
  return 'skipped';
}
