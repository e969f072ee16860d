/**
 * What an on*Callback option accepts (Airflow 2.6+): a function, a notifier, or a list of both, run in
 * order. One that throws does not stop the others; their errors are reported together, after the rest ran.
 */
import type { TaskCallback } from './baseOperator.ts';
import { AirflowError } from './errors.ts';
import { isNotifier, type BaseNotifier } from './notifier.ts';

export type CallbackSpec = TaskCallback | BaseNotifier | readonly (TaskCallback | BaseNotifier)[];

/** The callback `value` stands for, or null when unset; `fail` reports anything else. */
export function toCallback(value: unknown, what: string, fail: (message: string) => never): TaskCallback | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'function') return value as TaskCallback;
  const list: unknown[] = Array.isArray(value) ? value : [value];
  const bad = list.find((item) => typeof item !== 'function' && !isNotifier(item));
  if (bad !== undefined || list.length === 0) fail(`${what} must be a function, a notifier or a non-empty list of them, got ${describe(bad ?? value)}`);
  const callbacks = list.map((item) => (isNotifier(item) ? (context: Parameters<TaskCallback>[0]) => item.run(context) : (item as TaskCallback)));
  if (callbacks.length === 1) return callbacks[0]!;
  return async (context) => {
    const errors: string[] = [];
    for (const callback of callbacks) {
      try {
        await callback(context);
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    }
    if (errors.length === 1) throw new AirflowError(errors[0]!);
    if (errors.length > 1) throw new AirflowError(`${errors.length} callbacks failed: ${errors.join('; ')}`);
  };
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'an empty list' : value === null ? 'null' : typeof value;
}

/** A task's `email` option as a list of addresses (Airflow's get_email_address_list: ',' and ';' separate). */
export function toEmailList(value: unknown, fail: (m: string) => never): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? value.split(/[,;]/) : Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : null;
  if (!list) return fail(`email must be an address, a comma-separated list or an array of addresses, got ${JSON.stringify(value)}`);
  return list.map((address: string) => address.trim()).filter((address: string) => address !== '');
}
