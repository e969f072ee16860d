/**
 * XComArg: a reference to another task's XCom, written where its value is
 * wanted (Airflow's XComArg). Passing one to a TaskFlow task makes the
 * producer an upstream of the consumer; the value is pulled when the
 * consumer runs.
 */
import type { BaseOperator, TaskLike } from './baseOperator.ts';
import { DagDefinitionError } from './errors.ts';
import type { TaskInstanceHandle } from './taskContext.ts';

const XCOM_ARG_BRAND: unique symbol = Symbol.for('airflow-ts.xcomArg');
declare const VALUE_TYPE: unique symbol;

/** How an XComArg is written in serialized fields. */
export interface SerializedXComArg {
  xcomArg: { taskId: string; key: string };
}

/** `T`: the type of the value it stands for (a TaskFlow function's result), checked by expand(); unknown for classic operators. */
export class XComArg<T = unknown> {
  readonly [XCOM_ARG_BRAND] = true;
  /** Type only: carries `T`; never set. */
  declare readonly [VALUE_TYPE]?: T;

  constructor(
    readonly operator: BaseOperator,
    readonly key = 'return_value',
  ) {}

  get taskId(): string {
    return this.operator.taskId;
  }

  /** Like the operator's then(): `extract().then(notify)` runs notify after extract. */
  then<T extends TaskLike | readonly TaskLike[]>(next: T): T {
    if (typeof next === 'function') {
      // `await xcomArg` lands here: the value only exists when the task runs.
      throw new DagDefinitionError(
        `the XComArg of task '${this.taskId}' is not a promise: its value exists only when the task runs; do not await it`,
        this.operator.dag.dagId,
        this.taskId,
      );
    }
    return this.operator.then(next);
  }
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

/** The JSON form: each XComArg becomes `{ xcomArg: { taskId, key } }`. */
export function serializeXComArgs(value: unknown): unknown {
  return mapXComArgs(value, (arg): SerializedXComArg => ({ xcomArg: { taskId: arg.taskId, key: arg.key } }));
}

/** `value` with each XComArg replaced by the XCom it refers to, pulled through the running task's `ti`. */
export async function resolveXComArgs(value: unknown, ti: TaskInstanceHandle): Promise<unknown> {
  const args = findXComArgs(value);
  const values = await Promise.all(args.map((arg) => ti.xcomPull({ taskIds: arg.taskId, key: arg.key })));
  // A mapped task that pushed nothing (skipped for an empty input, or no results) stands for an empty list, as in Airflow.
  const resolved = new Map(args.map((arg, i) => [arg, values[i] === undefined && arg.operator.expandInput ? [] : values[i]]));
  return mapXComArgs(value, (arg) => resolved.get(arg));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
