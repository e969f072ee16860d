/**
 * Mapped classic operators (Airflow's `BashOperator.partial(...).expand(...)`):
 * partial() takes the options every instance shares, expand() the lists some
 * options map over (several: one instance per combination, the first field
 * varying slowest, as in Airflow), expandKwargs() a list of option objects.
 * The DAG holds one MappedOperator; the worker builds the real operator with
 * its map index's values (unmap()), so validation and templating apply to
 * mapped values as to written ones. The scheduler reads only the serialized
 * input, for a length (ADR 0016).
 *
 * This module must not import baseOperator.ts at run time (baseOperator.ts
 * imports it for partial()): the class is made on first use from the base
 * class baseOperator.ts hands over.
 */
import type { BaseOperator, BaseOperatorOptions } from './baseOperator.ts';
import { TASK_DEFAULT_KEYS } from './dagOptions.ts';
import { DagDefinitionError } from './errors.ts';
import type { SerializedExpandInput } from './expandInput.ts';
import { mapSourceElement, mapSourceProblem, serializeMapSource, type MapSource } from './mapSource.ts';
import type { TaskContext } from './taskContext.ts';
import { findXComArgs, isPlainObject, isXComArg, resolveXComArgs, serializeXComArgs, type XComArg } from './xcomArg.ts';

/** Options no instance may have of its own: they place the task, or the scheduler reads them per task (ADR 0016). */
const NOT_MAPPABLE: readonly string[] = ['dag', 'taskId', 'taskGroup', ...TASK_DEFAULT_KEYS];

/** A concrete operator class taking options `O`. */
export type OperatorClass<O> = new (options: O) => BaseOperator;

/** What partial() takes: the task's own options (dag and taskId required), and any of the operator's. */
export type PartialOptions<O extends BaseOperatorOptions> = BaseOperatorOptions & Partial<Omit<O, keyof BaseOperatorOptions>>;

/** The operator's options that partial() left open: the ones expand() and expandKwargs() may set. */
type Open<O, P> = Exclude<Exclude<keyof O, keyof BaseOperatorOptions>, keyof P>;
type Optional<O, K extends keyof O> = object extends Pick<O, K> ? K : never;
type Required<O, K extends keyof O> = object extends Pick<O, K> ? never : K;

/** A list to map over: literal, or a task output that is one. */
export type ExpandList<V> = readonly V[] | XComArg<readonly V[]>;

/** expand()'s argument: a list per open option; the operator's required options partial() left out must be here. */
export type ExpandFields<O, P> = { [K in Open<O, P> as Required<O, K>]: ExpandList<O[K]> } & {
  [K in Open<O, P> as Optional<O, K>]?: ExpandList<Exclude<O[K], undefined>>;
};

/** One element of expandKwargs()'s list: the open options of one instance. */
export type ExpandKwargs<O, P> = { [K in Open<O, P> as Required<O, K>]: O[K] } & { [K in Open<O, P> as Optional<O, K>]?: O[K] };

export interface OperatorPartial<O, P> {
  /** One task instance per element (per combination, for several options), the first option varying slowest. */
  expand(fields: ExpandFields<O, P>): BaseOperator;
  /** One task instance per option object of `items`. */
  expandKwargs(items: ExpandList<ExpandKwargs<O, P>>): BaseOperator;
}

type Expand = { product: [string, MapSource][] } | { kwargs: MapSource };
type MappedOperatorClass = new (partial: BaseOperatorOptions, operatorClass: OperatorClass<never>, expand: Expand) => BaseOperator;
/** What baseOperator.ts hands over: its class, and how to build an operator that is not added to its DAG. */
export interface Base {
  BaseOperator: abstract new (options: BaseOperatorOptions) => BaseOperator;
  detached: <T>(build: () => T) => T;
}

let mappedClass: MappedOperatorClass | undefined;

/** BaseOperator.partial(): `operatorClass` is the class it was called on. */
export function operatorPartial(base: Base, operatorClass: OperatorClass<never>, options: BaseOperatorOptions): OperatorPartial<never, never> {
  const fail = (message: string): never => {
    throw new DagDefinitionError(`task '${options?.taskId}' in DAG '${options?.dag?.dagId}': ${message}`, options?.dag?.dagId, options?.taskId);
  };
  if (!isPlainObject(options)) fail(`${operatorClass.name}.partial() needs an options object with dag and taskId`);
  const Mapped = (mappedClass ??= defineMappedOperator(base));
  /** Why option `key` cannot be mapped, or null. */
  const refused = (key: string): string | null =>
    NOT_MAPPABLE.includes(key)
      ? `option '${key}' cannot be mapped: it is the same for every instance of a task; give it to partial()`
      : key in options
        ? `option '${key}' is given to partial() and mapped; give it to one of them`
        : null;
  return {
    expand(fields: unknown) {
      if (!isPlainObject(fields) || Object.keys(fields).length === 0) fail('expand() takes an object of the options to map, each a list or a task output');
      const product: [string, MapSource][] = [];
      for (const [key, source] of Object.entries(fields as Record<string, unknown>)) {
        const problem = refused(key) ?? mapSourceProblem(source, `expand() option '${key}'`);
        if (problem) fail(problem);
        product.push([key, source as MapSource]);
      }
      return new Mapped(options, operatorClass, { product });
    },
    expandKwargs(items: unknown) {
      const problem = mapSourceProblem(items, 'expandKwargs()');
      if (problem) fail(problem);
      if (Array.isArray(items)) {
        items.forEach((item: unknown, i) => {
          if (!isPlainObject(item)) return fail(`expandKwargs() takes a list of option objects; element ${i} is ${JSON.stringify(item)}`);
          for (const key of Object.keys(item)) {
            const why = refused(key);
            if (why) fail(`expandKwargs() element ${i}: ${why}`);
          }
        });
      }
      return new Mapped(options, operatorClass, { kwargs: items as MapSource });
    },
  };
}

function defineMappedOperator({ BaseOperator, detached }: Base): MappedOperatorClass {
  return class MappedOperator extends BaseOperator {
    readonly #partial: BaseOperatorOptions;
    readonly #operatorClass: OperatorClass<never>;
    readonly #expand: Expand;

    constructor(partial: BaseOperatorOptions, operatorClass: OperatorClass<never>, expand: Expand) {
      const sources = 'product' in expand ? expand.product.map(([, s]) => s) : [expand.kwargs];
      const upstreams = findXComArgs([ownOptions(partial), sources]).flatMap((arg) => arg.operators);
      for (const up of upstreams) {
        if (up.dag !== partial.dag) {
          throw new DagDefinitionError(
            `task '${partial.taskId}' in DAG '${partial.dag?.dagId}': it maps over task '${up.taskId}' of DAG '${up.dag.dagId}'; tasks can only use outputs of tasks in the same DAG`,
            partial.dag?.dagId,
            partial.taskId,
          );
        }
      }
      super(partial);
      this.#partial = partial;
      this.#operatorClass = operatorClass;
      this.#expand = expand;
      this.setUpstream(upstreams);
    }

    override get operatorName(): string {
      return this.#operatorClass.name;
    }

    override get expandInput(): SerializedExpandInput {
      const expand = this.#expand;
      if ('kwargs' in expand) return { kwargs: serializeMapSource(expand.kwargs) };
      return { product: expand.product.map(([field, source]) => ({ field, source: serializeMapSource(source) })) };
    }

    /** The options partial() fixed (the operator's own; functions by name), as JSON. */
    serializeFields(): Record<string, unknown> {
      const fixed = Object.entries(ownOptions(this.#partial)).map(([k, v]) => [k, typeof v === 'function' ? `<function ${v.name || 'anonymous'}>` : v]);
      return { partialKwargs: serializeXComArgs(Object.fromEntries(fixed)) };
    }

    /** The operator this instance runs: the class partial() was called on, with the partial options and its map index's values. */
    override async unmap(context: TaskContext): Promise<{ operator: BaseOperator }> {
      const fail = (message: string): never => {
        throw new Error(`mapped task '${this.taskId}' (map index ${context.ti.mapIndex}): ${message}`);
      };
      let mapped: Record<string, unknown>;
      try {
        mapped = await this.mappedOptions(context);
      } catch (error) {
        return fail(error instanceof Error ? error.message : String(error));
      }
      const options = { ...this.#partial, ...((await resolveXComArgs(ownOptions(this.#partial), context.ti)) as object), ...mapped };
      let operator: BaseOperator;
      try {
        operator = detached(() => new this.#operatorClass(options as never));
      } catch (error) {
        return fail(`its values do not make a ${this.operatorName}: ${error instanceof Error ? error.message : String(error)}`);
      }
      // Branching operators skip by their downstream ids; the built operator has the mapped task's edges.
      for (const id of this.upstreamTaskIds) operator.upstreamTaskIds.add(id);
      for (const id of this.downstreamTaskIds) operator.downstreamTaskIds.add(id);
      return { operator };
    }

    /** The mapped options at this instance's map index: its combination of the product, or its option object. */
    private async mappedOptions(context: TaskContext): Promise<Record<string, unknown>> {
      const { ti } = context;
      const expand = this.#expand;
      if ('kwargs' in expand) {
        const item = await mapSourceElement(expand.kwargs, ti, ti.mapIndex);
        if (!isPlainObject(item)) throw new Error(`expandKwargs() needs an option object at map index ${ti.mapIndex}, got ${JSON.stringify(item)}`);
        for (const key of Object.keys(item)) {
          if (NOT_MAPPABLE.includes(key) || key in this.#partial)
            throw new Error(`expandKwargs() cannot set option '${key}' (it is not mappable, or given to partial())`);
        }
        return item;
      }
      // Map index -> one index per field, the last field varying fastest (Airflow's order).
      const lengths = await Promise.all(expand.product.map(([, source]) => sourceLength(source, context)));
      const options: Record<string, unknown> = {};
      let rest = ti.mapIndex;
      for (let i = expand.product.length - 1; i >= 0; i--) {
        const [field, source] = expand.product[i]!;
        options[field] = await mapSourceElement(source, ti, rest % lengths[i]!);
        rest = Math.floor(rest / lengths[i]!);
      }
      return options;
    }
  };
}

async function sourceLength(source: MapSource, context: TaskContext): Promise<number> {
  return isXComArg(source) ? source.length(context.ti) : source.length;
}

/** The options that are the operator's own (not BaseOperator's). */
function ownOptions(options: BaseOperatorOptions): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([key]) => !NOT_MAPPABLE.includes(key)));
}
