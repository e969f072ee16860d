import type { Logger } from '../core/logger.ts';
import { isDatabaseUnavailable } from './pgErrors.ts';

/**
 * Runs `write` again, with capped exponential backoff, while it fails because
 * the database is unavailable (a restart, a kill -9 of the postmaster, a
 * network cut), for up to `giveUpAfterMs`; any other error, or the last one,
 * is thrown. Only for work that is safe to repeat: a write that names the
 * state it leaves (ADR 0002) changes nothing the second time.
 */
export async function retryWhileUnavailable<T>(
  what: string,
  write: () => Promise<T>,
  options: { logger: Logger; giveUpAfterMs: number; sleep?: (ms: number) => Promise<void> },
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const giveUpAt = Date.now() + options.giveUpAfterMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await write();
      if (attempt > 0) options.logger.info(`${what}: done after ${attempt} retr${attempt === 1 ? 'y' : 'ies'}; the database is back`);
      return result;
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() >= giveUpAt) throw error;
      const delay = Math.min(5_000, 250 * 2 ** attempt, Math.max(0, giveUpAt - Date.now()));
      options.logger.warn(`${what}: the database is unavailable (${error instanceof Error ? error.message : String(error)}); trying again in ${delay} ms`);
      await sleep(delay);
    }
  }
}
