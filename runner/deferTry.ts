import type { Knex } from 'knex';
import { AirflowFailException, type TaskDeferred } from '../core/errors.ts';
import { secretsMasker } from '../core/secretsMasker.ts';
import { deferTaskInstance } from '../db/models/trigger.ts';
import type { TaskInstanceRow } from '../db/rows.ts';
import type { TaskLog } from '../logging/fileTaskHandler.ts';

/**
 * Records a try that called `this.defer()` (TaskDeferred): its trigger row and the move to deferred, in one
 * transaction (ADR 0020). Returns 'deferred', 'discarded' when the task instance was no longer running, or the
 * error to fail the try with when the trigger's kwargs hold a secret the try knows (the row is stored as is:
 * triggers carry connection ids).
 */
export async function deferTry(knex: Knex, ti: TaskInstanceRow, deferral: TaskDeferred, at: Date, log: TaskLog): Promise<'deferred' | 'discarded' | Error> {
  const { classpath, kwargs } = deferral.trigger.serialize();
  if (JSON.stringify(secretsMasker.redact(kwargs)) !== JSON.stringify(kwargs))
    return new AirflowFailException(`defer(): the kwargs of ${classpath} hold a secret; pass a connection id instead`);
  const timeoutAt = deferral.timeoutMs === null ? null : new Date(at.getTime() + deferral.timeoutMs);
  const row = await knex.transaction((trx) =>
    deferTaskInstance(trx, ti, { classpath, kwargs, method: deferral.method, methodKwargs: deferral.kwargs, timeoutAt }, at),
  );
  if (!row) return 'discarded';
  log.info(
    `Pausing task as DEFERRED: ${classpath} ${JSON.stringify(kwargs)}; resumes in ${deferral.method}()` +
      (timeoutAt ? `; times out at ${timeoutAt.toISOString()}` : ''),
  );
  return 'deferred';
}
