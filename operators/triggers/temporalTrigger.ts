/**
 * Time triggers (Airflow's airflow.triggers.temporal): DateTimeTrigger fires at `moment` with the moment
 * as its event; TimeDeltaTrigger is a DateTimeTrigger `delta` from now (stored as one, as in Airflow).
 */
import { durationMs } from '../../core/definitionChecks.ts';
import type { Duration } from '../../core/duration.ts';
import { BaseTrigger, registerTrigger, TriggerEvent, type TriggerContext } from '../../core/trigger.ts';

/** setTimeout's longest wait; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class DateTimeTrigger extends BaseTrigger<{ moment: string }> {
  static override readonly classpath = 'airflow.triggers.temporal.DateTimeTrigger';

  /** `moment`: a Date or an ISO 8601 string with its offset. */
  constructor(kwargs: { moment: Date | string }) {
    const moment = kwargs?.moment instanceof Date ? kwargs.moment : new Date(String(kwargs?.moment));
    if (Number.isNaN(moment.getTime()))
      throw new TypeError(`DateTimeTrigger: moment must be a Date or an ISO 8601 string, got ${JSON.stringify(kwargs?.moment)}`);
    super({ moment: moment.toISOString() });
  }

  get moment(): Date {
    return new Date(this.kwargs.moment);
  }

  async run(context: TriggerContext): Promise<TriggerEvent> {
    for (;;) {
      const leftMs = this.moment.getTime() - Date.now();
      if (leftMs <= 0) return new TriggerEvent(this.kwargs.moment);
      await sleep(Math.min(leftMs, MAX_TIMER_MS), context.signal);
    }
  }
}

export class TimeDeltaTrigger extends DateTimeTrigger {
  constructor(kwargs: { delta: Duration } | { moment: Date | string }) {
    if (kwargs && 'delta' in kwargs) {
      const ms = durationMs(kwargs.delta, 'delta', (message) => {
        throw new TypeError(`TimeDeltaTrigger: ${message}`);
      });
      super({ moment: new Date(Date.now() + ms) });
    } else super(kwargs);
  }
}

/** Waits `ms`, or rejects with the signal's reason as soon as it is aborted. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

registerTrigger(DateTimeTrigger);
