/**
 * BaseNotifier (Airflow 2.6's BaseNotifier): a callback object that sends a message somewhere, with
 * template fields rendered against the callback's context first. Give one, or a list mixing notifiers and
 * functions, as any onSuccessCallback / onFailureCallback / onRetryCallback, of a task or a DAG.
 */
import type { TaskContext } from './taskContext.ts';
import { renderTemplateText } from './templating.ts';

const NOTIFIER_BRAND: unique symbol = Symbol.for('airflow-ts.notifier');

export abstract class BaseNotifier {
  /** Names of fields rendered as templates before notify(). */
  static readonly templateFields: readonly string[] = [];

  readonly [NOTIFIER_BRAND] = true;

  /** Sends the notification; `rendered` holds the template fields rendered with `context`. */
  abstract notify(context: TaskContext, rendered: Record<string, unknown>): Promise<void> | void;

  /** Renders the template fields (strings, also inside plain arrays and objects), then notifies. */
  async run(context: TaskContext): Promise<void> {
    const fields = (this.constructor as { templateFields?: readonly string[] }).templateFields ?? [];
    const own = this as unknown as Record<string, unknown>;
    const rendered = Object.fromEntries(fields.map((field) => [field, renderValue(own[field], context)]));
    await this.notify(context, rendered);
  }
}

/** Brand check rather than instanceof, so notifiers from a second copy of this module still count. */
export function isNotifier(x: unknown): x is BaseNotifier {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[NOTIFIER_BRAND] === true;
}

function renderValue(value: unknown, context: TaskContext): unknown {
  if (typeof value === 'string') return renderTemplateText(value, context);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, context));
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, context)]));
  }
  return value;
}
