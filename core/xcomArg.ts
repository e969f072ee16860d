/**
 * XComArg: a reference to another task's XCom, written where its value is
 * wanted (Airflow's XComArg). Passing one to a task makes the producer an
 * upstream of the consumer; the value is pulled when the consumer runs.
 * `.map(fn)`, `.zip(...)` and `.concat(...)` (Airflow 2.6+) derive new lists
 * from outputs; they are worked out in the consumer's worker, element by
 * element when the consumer is mapped over them. The scheduler only reads
 * their serialized form, for a length (ADR 0016).
 */
import type { BaseOperator, TaskLike } from './baseOperator.ts';
import { DagDefinitionError } from './errors.ts';
import type { SerializedMapSource } from './expandInput.ts';
import type { TaskInstanceHandle } from './taskContext.ts';

const XCOM_ARG_BRAND: unique symbol = Symbol.for('airflow-ts.xcomArg');
declare const VALUE_TYPE: unique symbol;

/** How an XComArg of one task's XCom is written in serialized fields. */
export interface SerializedXComArg {
  xcomArg: { taskId: string; key: string };
}

/** The element type of a list type; unknown for what is not known to be a list (a classic operator's output). */
export type ElementOf<T> = T extends readonly (infer E)[] ? E : unknown;

type ElementsOf<L extends readonly unknown[]> = { [K in keyof L]: L[K] extends XComArg<infer T> ? ElementOf<T> : never };

/**
 * `T`: the type of the value it stands for (a TaskFlow function's result), checked by expand(); unknown
 * for classic operators.
 */
export abstract class XComArg<T = unknown> {
  readonly [XCOM_ARG_BRAND] = true;
  /** Type only: carries `T`; never set. */
  declare readonly [VALUE_TYPE]?: T;

  /** The tasks whose XComs this stands for: upstreams of whoever takes it. */
  abstract get operators(): BaseOperator[];
  /** The JSON form, for the serialized DAG (expandInput and arguments). */
  abstract serialize(): SerializedMapSource;
  /** The whole value, pulled through the running task's `ti` (for a derived list: the list, worked out). */
  abstract resolve(ti: TaskInstanceHandle): Promise<unknown>;

  /** The length of the list this stands for (a map function is not run for it). */
  async length(ti: TaskInstanceHandle): Promise<number> {
    return listOf(await this.resolve(ti), this).length;
  }

  /** The element at `index` of the list this stands for; what a mapped instance gets. */
  async elementAt(ti: TaskInstanceHandle, index: number): Promise<unknown> {
    return elementOf(await this.resolve(ti), index, this);
  }

  /** Airflow's XComArg.map: each element transformed by `fn`, called in the consumer's worker (never the scheduler). */
  map<U>(fn: (element: ElementOf<T>) => U): XComArg<Awaited<U>[]> {
    if (typeof fn !== 'function') this.fail(`map() takes a function, got ${typeof fn}`);
    return new MapXComArg<Awaited<U>[]>(this, fn as (element: unknown) => unknown);
  }

  /**
   * Airflow's XComArg.zip: tuples of the elements at the same position, as long as the shortest list; with
   * `{ fillValue }` last, as long as the longest, shorter lists padded with it.
   */
  zip<L extends XComArg[]>(...others: L): XComArg<[ElementOf<T>, ...ElementsOf<L>][]>;
  zip<L extends XComArg[], F>(...args: [...others: L, options: { fillValue: F }]): XComArg<[ElementOf<T> | F, ...{ [K in keyof L]: ElementsOf<L>[K] | F }][]>;
  zip(...args: unknown[]): XComArg<unknown[][]> {
    const last = args[args.length - 1];
    const options =
      last !== undefined && !isXComArg(last) && typeof last === 'object' && last !== null && 'fillValue' in last
        ? (args.pop() as { fillValue: unknown })
        : null;
    return new ZipXComArg([this, ...this.others('zip', args)], options);
  }

  /** Airflow's XComArg.concat: this list, then each of the others'. */
  concat<L extends XComArg<readonly unknown[]>[]>(...others: L): XComArg<(ElementOf<T> | ElementsOf<L>[number])[]> {
    return new ConcatXComArg<(ElementOf<T> | ElementsOf<L>[number])[]>([this, ...this.others('concat', others)]);
  }

  /** Like the operator's then(): `extract().then(notify)` runs notify after extract. */
  then<N extends TaskLike | readonly TaskLike[]>(next: N): N {
    if (typeof next === 'function') {
      // `await xcomArg` lands here: the value only exists when the task runs.
      this.fail('is not a promise: its value exists only when the task runs; do not await it');
    }
    for (const op of this.operators) op.setDownstream(next);
    return next;
  }

  protected fail(message: string): never {
    const op = this.operators[0];
    throw new DagDefinitionError(`the XComArg of task '${op?.taskId}' ${message}`, op?.dag.dagId, op?.taskId);
  }

  private others(method: string, args: unknown[]): XComArg[] {
    for (const other of args) {
      if (!isXComArg(other)) this.fail(`${method}() takes task outputs (XComArgs), got ${Array.isArray(other) ? 'an array' : typeof other}`);
      for (const op of other.operators) {
        if (op.dag !== this.operators[0]?.dag) this.fail(`${method}() takes outputs of tasks in the same DAG; '${op.taskId}' is in DAG '${op.dag.dagId}'`);
      }
    }
    return args as XComArg[];
  }
}

/** One task's XCom (Airflow's PlainXComArg): what a task call or `operator.output` returns. */
export class PlainXComArg<T = unknown> extends XComArg<T> {
  constructor(
    readonly operator: BaseOperator,
    readonly key = 'return_value',
  ) {
    super();
  }

  get taskId(): string {
    return this.operator.taskId;
  }

  get operators(): BaseOperator[] {
    return [this.operator];
  }

  serialize(): SerializedXComArg {
    return { xcomArg: { taskId: this.taskId, key: this.key } };
  }

  async resolve(ti: TaskInstanceHandle): Promise<unknown> {
    const value = await ti.xcomPull({ taskIds: this.taskId, key: this.key });
    // A mapped task that pushed nothing (skipped for an empty input, or no results) stands for an empty list, as in Airflow.
    return value === undefined && this.operator.expandInput ? [] : value;
  }

  /** An unmapped task's list: only element `index` is read (the whole list when it is not one, for the same error). */
  override async elementAt(ti: TaskInstanceHandle, index: number): Promise<unknown> {
    if (!this.operator.expandInput && index >= 0) {
      const got = await ti.xcomListElement({ taskId: this.taskId, key: this.key, index });
      if (got && index < got.length) return got.element;
    }
    return super.elementAt(ti, index);
  }
}

/** `source.map(fn)`: fn runs per element, only for the element a mapped instance needs. */
class MapXComArg<T> extends XComArg<T> {
  constructor(
    readonly source: XComArg,
    readonly fn: (element: unknown) => unknown,
  ) {
    super();
  }

  get operators(): BaseOperator[] {
    return this.source.operators;
  }

  serialize(): SerializedMapSource {
    return { map: this.source.serialize() };
  }

  async resolve(ti: TaskInstanceHandle): Promise<unknown> {
    const list = listOf(await this.source.resolve(ti), this.source);
    const out: unknown[] = [];
    for (const element of list) out.push(await this.fn(element));
    return out;
  }

  override length(ti: TaskInstanceHandle): Promise<number> {
    return this.source.length(ti);
  }

  override async elementAt(ti: TaskInstanceHandle, index: number): Promise<unknown> {
    return this.fn(await this.source.elementAt(ti, index));
  }
}

class ZipXComArg extends XComArg<unknown[][]> {
  constructor(
    readonly sources: XComArg[],
    readonly fill: { fillValue: unknown } | null,
  ) {
    super();
  }

  get operators(): BaseOperator[] {
    return [...new Set(this.sources.flatMap((s) => s.operators))];
  }

  serialize(): SerializedMapSource {
    return { zip: this.sources.map((s) => s.serialize()), ...(this.fill ? { fillValue: this.fill.fillValue } : {}) };
  }

  async resolve(ti: TaskInstanceHandle): Promise<unknown> {
    const lists = await Promise.all(this.sources.map(async (s) => listOf(await s.resolve(ti), s)));
    const length = this.fill ? Math.max(0, ...lists.map((l) => l.length)) : Math.min(...lists.map((l) => l.length));
    return Array.from({ length }, (_, i) => lists.map((l) => (i < l.length ? l[i] : this.fill?.fillValue)));
  }
}

class ConcatXComArg<T> extends XComArg<T> {
  constructor(readonly sources: XComArg[]) {
    super();
  }

  get operators(): BaseOperator[] {
    return [...new Set(this.sources.flatMap((s) => s.operators))];
  }

  serialize(): SerializedMapSource {
    return { concat: this.sources.map((s) => s.serialize()) };
  }

  async resolve(ti: TaskInstanceHandle): Promise<unknown> {
    const lists = await Promise.all(this.sources.map(async (s) => listOf(await s.resolve(ti), s)));
    return lists.flat(1);
  }
}

function listOf(value: unknown, arg: XComArg): unknown[] {
  if (Array.isArray(value)) return value;
  const got = value === undefined ? 'nothing' : value === null ? 'null' : typeof value;
  throw new Error(`${describeArg(arg)} must be a list, got ${got}`);
}

function elementOf(value: unknown, index: number, arg: XComArg): unknown {
  const list = listOf(value, arg);
  if (index < 0 || index >= list.length) {
    throw new Error(`${describeArg(arg)} has no element at map index ${index} (the task was not expanded, or its input changed)`);
  }
  return list[index];
}

function describeArg(arg: XComArg): string {
  return `the output of ${arg.operators.map((op) => `'${op.taskId}'`).join(', ')}${arg instanceof PlainXComArg ? '' : ' (derived with map/zip/concat)'}`;
}

/** Brand check rather than instanceof, so XComArgs from a second copy of this module still count. */
export function isXComArg(x: unknown): x is XComArg {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[XCOM_ARG_BRAND] === true;
}

/** Every XComArg in `value`, at the top or nested in plain arrays and objects. */
export function findXComArgs(value: unknown): XComArg[] {
  if (isXComArg(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(findXComArgs);
  if (isPlainObject(value)) return Object.values(value).flatMap(findXComArgs);
  return [];
}

/** `value` with each XComArg replaced by `replace(arg)`; plain arrays and objects are copied, the rest kept. */
export function mapXComArgs(value: unknown, replace: (arg: XComArg) => unknown): unknown {
  if (isXComArg(value)) return replace(value);
  if (Array.isArray(value)) return value.map((v) => mapXComArgs(v, replace));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapXComArgs(v, replace)]));
  return value;
}

/** The JSON form: each XComArg becomes `{ xcomArg: { taskId, key } }` (or its map/zip/concat form). */
export function serializeXComArgs(value: unknown): unknown {
  return mapXComArgs(value, (arg) => arg.serialize());
}

/** `value` with each XComArg replaced by the value it stands for, pulled through the running task's `ti`. */
export async function resolveXComArgs(value: unknown, ti: TaskInstanceHandle): Promise<unknown> {
  const args = findXComArgs(value);
  const values = await Promise.all(args.map((arg) => arg.resolve(ti)));
  const resolved = new Map(args.map((arg, i) => [arg, values[i]]));
  return mapXComArgs(value, (arg) => resolved.get(arg));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
