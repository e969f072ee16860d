import type { Knex } from 'knex';
import { DagRunNotFoundError } from '../core/errors.ts';
import type { DateRange } from '../db/models/base.ts';
import { dagRunDatesInRange, findDagRun } from '../db/models/dagRun.ts';

/**
 * What an Airflow clear covers (REST clearTaskInstances, `airflow tasks
 * clear`): which runs, and which states. services/clearTaskInstances.ts does
 * the clearing.
 */

/** As Airflow: only_failed keeps failed and upstream_failed, only_running keeps running; both keep nothing; neither, every state. */
export function onlyStates(options: { onlyFailed: boolean; onlyRunning: boolean }): string[] | undefined {
  if (options.onlyFailed && options.onlyRunning) return [];
  if (options.onlyFailed) return ['failed', 'upstream_failed'];
  return options.onlyRunning ? ['running'] : undefined;
}

/**
 * The runs a clear covers, with their logical dates: the named run (or the
 * runs from `start` to `end`), widened to every earlier run by `includePast`
 * and every later one by `includeFuture`. Throws DagRunNotFoundError for a
 * named run that does not exist.
 */
export async function runsToClear(
  knex: Knex,
  dagId: string,
  scope: { runId?: string | null; start?: Date; end?: Date; includePast: boolean; includeFuture: boolean },
): Promise<Map<string, Date>> {
  let range: DateRange = { gte: scope.start, lte: scope.end };
  if (scope.runId) {
    const run = await findDagRun(knex, dagId, scope.runId);
    if (!run) throw new DagRunNotFoundError(dagId, scope.runId);
    range = { gte: run.logical_date, lte: run.logical_date };
  }
  if (scope.includePast) range.gte = undefined;
  if (scope.includeFuture) range.lte = undefined;
  const runs = await dagRunDatesInRange(knex, dagId, range);
  return new Map(runs.map((r) => [r.run_id, r.logical_date]));
}
