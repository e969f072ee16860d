/**
 * EmptyOperator: does nothing; used to group or join branches (Airflow's
 * EmptyOperator, formerly DummyOperator).
 */
import { BaseOperator, type BaseOperatorOptions } from '../core/baseOperator.ts';

export class EmptyOperator extends BaseOperator {
  constructor(options: BaseOperatorOptions) {
    super(options);
  }

  serializeFields(): Record<string, unknown> {
    return {};
  }

  /** Nothing to do; the runner may even mark it success without calling this. */
  override async execute(): Promise<undefined> {
    return undefined;
  }
}
