/**
 * DateTimeSensor: waits until a date and time (Airflow's DateTimeSensor). `targetTime` is a Date or a
 * templated ISO 8601 string, e.g. '{{ macros.ds_add(ds, 1) }}T06:00:00Z'.
 */
import { taskFail } from '../../core/baseOperator.ts';
import { AirflowFailException } from '../../core/errors.ts';
import type { TaskContext } from '../../core/taskContext.ts';
import { DateTimeTrigger } from '../triggers/temporalTrigger.ts';
import { BaseSensorOperator, type BaseSensorOperatorOptions } from './baseSensorOperator.ts';

export interface DateTimeSensorOptions extends BaseSensorOperatorOptions {
  /** A Date, or an ISO 8601 string (templated); without an offset it is read as UTC. */
  targetTime: Date | string;
}

export class DateTimeSensor extends BaseSensorOperator {
  static override readonly templateFields: readonly string[] = ['targetTime'];

  readonly targetTime: string;

  constructor(options: DateTimeSensorOptions) {
    const fail = (message: string): never => taskFail(options?.dag?.dagId, options?.taskId, message);
    const target = options?.targetTime;
    let targetTime = '';
    if (target instanceof Date) {
      if (Number.isNaN(target.getTime())) fail('targetTime is an invalid Date');
      targetTime = target.toISOString();
    } else if (typeof target === 'string' && target.trim() !== '') {
      if (!target.includes('{{') && parseTargetTime(target) === null) fail(`targetTime ${JSON.stringify(target)} is not an ISO 8601 date and time`);
      targetTime = target;
    } else fail(`targetTime must be a Date or an ISO 8601 string (templated), got ${JSON.stringify(target)}`);
    super(options);
    this.targetTime = targetTime;
  }

  override serializeFields(): Record<string, unknown> {
    return { ...super.serializeFields(), targetTime: this.targetTime };
  }

  /** Deferrable: defers to a DateTimeTrigger at the target time (Airflow's DateTimeSensorAsync), unless it has passed. */
  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    if (!this.deferrable) return super.execute(context, rendered);
    const target = renderedTarget(rendered);
    if (Date.now() >= target.getTime()) return this.executeComplete(context, target.toISOString());
    return this.defer({ trigger: new DateTimeTrigger({ moment: target }), method: 'executeComplete', timeout: this.timeoutMs });
  }

  poke(context: TaskContext, rendered: Record<string, unknown>): boolean {
    const target = renderedTarget(rendered);
    context.log.info(`Checking if the time (${target.toISOString()}) has come`);
    return Date.now() > target.getTime();
  }
}

function renderedTarget(rendered: Record<string, unknown>): Date {
  const text = String(rendered.targetTime);
  const target = parseTargetTime(text);
  if (target === null) throw new AirflowFailException(`targetTime rendered to ${JSON.stringify(text)}, which is not an ISO 8601 date and time`);
  return target;
}

/** An ISO 8601 date (and time); without an offset, UTC (as Airflow's timezone.parse in a UTC deployment). */
function parseTargetTime(text: string): Date | null {
  const trimmed = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(trimmed)) return null;
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/.test(trimmed) || !trimmed.includes(':') ? trimmed : `${trimmed}Z`;
  const date = new Date(withZone.includes('T') || !withZone.includes(' ') ? withZone : withZone.replace(' ', 'T'));
  return Number.isNaN(date.getTime()) ? null : date;
}
