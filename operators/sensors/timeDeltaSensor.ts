/**
 * TimeDeltaSensor: waits until `delta` after the end of the run's data interval (Airflow's TimeDeltaSensor),
 * e.g. a daily run that should start its work two hours after its day is over.
 */
import { taskFail } from '../../core/baseOperator.ts';
import { durationMs } from '../../core/definitionChecks.ts';
import type { Duration } from '../../core/duration.ts';
import type { TaskContext } from '../../core/taskContext.ts';
import { DateTimeTrigger } from '../triggers/temporalTrigger.ts';
import { BaseSensorOperator, type BaseSensorOperatorOptions } from './baseSensorOperator.ts';

export interface TimeDeltaSensorOptions extends BaseSensorOperatorOptions {
  /** How long after data_interval_end to wait. */
  delta: Duration;
}

export class TimeDeltaSensor extends BaseSensorOperator {
  readonly deltaMs: number;

  constructor(options: TimeDeltaSensorOptions) {
    const fail = (message: string): never => taskFail(options?.dag?.dagId, options?.taskId, message);
    if (options?.delta === undefined) fail('delta is required, e.g. delta: { hours: 2 }');
    const deltaMs = durationMs(options.delta, 'delta', fail);
    super(options);
    this.deltaMs = deltaMs;
  }

  override serializeFields(): Record<string, unknown> {
    return { ...super.serializeFields(), deltaMs: this.deltaMs };
  }

  /** Deferrable: defers to a DateTimeTrigger at the target time (Airflow's TimeDeltaSensorAsync), unless it has passed. */
  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    if (!this.deferrable) return super.execute(context, rendered);
    const target = new Date(context.dataIntervalEnd.getTime() + this.deltaMs);
    if (Date.now() >= target.getTime()) return this.executeComplete(context, target.toISOString());
    return this.defer({ trigger: new DateTimeTrigger({ moment: target }), method: 'executeComplete', timeout: this.timeoutMs });
  }

  poke(context: TaskContext): boolean {
    const target = new Date(context.dataIntervalEnd.getTime() + this.deltaMs);
    context.log.info(`Checking if the time (${target.toISOString()}) has come`);
    return Date.now() > target.getTime();
  }
}
