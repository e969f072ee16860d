import type { Knex } from 'knex';
import type { Logger } from '../core/logger.ts';
import { refreshTaskInstanceStatistics } from '../db/queries/refreshTaskInstanceStatistics.ts';

/** Task instances scheduled by one pass at or above which the planner's statistics are refreshed. */
export const REFRESH_STATISTICS_AT = 1000;

/**
 * Keeps task_instance's planner statistics in step with bulk scheduling (ADR 0023): after a pass
 * that scheduled REFRESH_STATISTICS_AT task instances or more, one ANALYZE runs in the background
 * (the loop does not wait for it; a second one is not started while it runs). A failure is logged
 * and changes nothing else: the statistics are only a planner's hint.
 */
export class PlannerStatistics {
  private running: Promise<void> | null = null;

  constructor(
    private readonly knex: Knex,
    private readonly logger: Logger,
  ) {}

  afterPass(scheduled: number): void {
    if (scheduled < REFRESH_STATISTICS_AT || this.running) return;
    this.running = refreshTaskInstanceStatistics(this.knex)
      .catch((error: unknown) =>
        this.logger.warn(`could not refresh task_instance's planner statistics: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => (this.running = null));
  }

  /** Waits for a refresh in flight (before the scheduler's connections close). */
  async settled(): Promise<void> {
    await this.running;
  }
}
