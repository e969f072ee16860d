/**
 * Triggers (Airflow's BaseTrigger): the small async waits a deferred task hands to the triggerer. A trigger
 * is written down as its `classpath` and JSON `kwargs` (the `trigger` row); the triggerer builds it again
 * with `createTrigger()` from the registry and awaits `run()`, which resolves with the event that resumes
 * the task (Airflow keeps only a task trigger's first event too). Kwargs are stored as they are: carry
 * connection ids, never a password (the runner refuses kwargs holding a secret it knows).
 */
import { UnknownTriggerError } from './errors.ts';
import type { DagRunClient } from './dagRunClient.ts';
import type { ConnectionInfo } from './taskContext.ts';

/** next_method of a task instance whose trigger failed or timed out: its resumed try fails (Airflow's "__fail__"). */
export const FAIL_METHOD = '__fail__';
/** next_kwargs.error of a deferral past its timeout (Airflow's wording; the resumed try raises TaskDeferralTimeout). */
export const TRIGGER_TIMEOUT_ERROR = 'Trigger/execution timeout';

/** JSON, as a trigger's kwargs and an event's payload are stored. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** What a trigger's run() resolves with (Airflow's TriggerEvent): the payload the task's method receives. */
export class TriggerEvent {
  constructor(readonly payload: Json) {}
}

/** What the triggerer gives a running trigger. */
export interface TriggerContext {
  /** Aborted when the trigger is no longer ours to run (its task was cleared, timed out, taken by another triggerer, or we stop). */
  signal: AbortSignal;
  /** Lines in the triggerer's log, prefixed with the trigger's id. */
  log: { info(message: string): void; warn(message: string): void; error(message: string): void };
  /** A connection by id, decrypted (undefined when it does not exist). Read it when needed: it may change while the trigger waits. */
  connection(connId: string): Promise<ConnectionInfo | undefined>;
  /** Other DAGs' run and task states (DAG-state triggers: deferrable ExternalTaskSensor and TriggerDagRunOperator). */
  dagRuns: Pick<DagRunClient, 'runState' | 'runStatesAt' | 'taskStatesAt'>;
}

export abstract class BaseTrigger<K extends Record<string, Json> = Record<string, Json>> {
  /** The name the registry knows the class by, Airflow's dotted classpath where Airflow has one. */
  static readonly classpath: string;

  readonly kwargs: K;

  constructor(kwargs: K) {
    const classpath = (this.constructor as TriggerClass).classpath;
    const copy = JSON.parse(JSON.stringify(kwargs ?? {})) as K;
    // What is stored is what the triggerer gets back: a Date, undefined or function would not survive.
    if (JSON.stringify(copy) !== JSON.stringify(kwargs) || !isJson(kwargs))
      throw new TypeError(`${classpath ?? this.constructor.name}: kwargs must be plain JSON (dates as ISO strings), got ${describe(kwargs)}`);
    this.kwargs = copy;
  }

  get classpath(): string {
    return (this.constructor as TriggerClass).classpath;
  }

  /** What is stored in the trigger row (Airflow's serialize()). */
  serialize(): { classpath: string; kwargs: K } {
    return { classpath: this.classpath, kwargs: this.kwargs };
  }

  /** Waits for the condition and resolves with the event; throws to fail the task (the error goes to its log). Honour `context.signal`. */
  abstract run(context: TriggerContext): Promise<TriggerEvent>;
}

export interface TriggerClass {
  readonly classpath: string;
  new (kwargs: never): BaseTrigger;
}

const registry = new Map<string, TriggerClass>();

/** Adds a trigger class under its classpath; a second class with the same classpath is an error. */
export function registerTrigger(cls: TriggerClass): void {
  if (!cls.classpath) throw new TypeError(`trigger class ${cls.name} has no static classpath`);
  const known = registry.get(cls.classpath);
  if (known && known !== cls) throw new TypeError(`trigger classpath ${cls.classpath} is taken by another class`);
  registry.set(cls.classpath, cls);
}

/** Builds a stored trigger again (Airflow's deserialization); an unknown classpath is an error naming it. */
export function createTrigger(classpath: string, kwargs: Record<string, Json>): BaseTrigger {
  const cls = registry.get(classpath);
  if (!cls) throw new UnknownTriggerError(classpath, [...registry.keys()]);
  return new cls(kwargs as never);
}

function isJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value as object).every(isJson);
  return false;
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}
