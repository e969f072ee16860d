import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import type { ResolvedConfig } from '../../config/schema.ts';
import type { Logger } from '../../core/logger.ts';
import { childProcessEnv } from '../../config/childProcessEnv.ts';
import { DagCallbackRunner } from './dagCallbackRunner.ts';
import { DagFileParser } from './dagFileParser.ts';
import { DagFileProcessor } from './dagFileProcessor.ts';

/** The example DAGs shipped with this installation. */
export const EXAMPLES_FOLDER = fileURLToPath(new URL('../../dags', import.meta.url));

/** The folders to scan: the dags folder, plus the examples when core.loadExamples is on (once if they are the same). */
export function dagFolders(config: ResolvedConfig): string[] {
  const folders = [config.core.dagsFolder, ...(config.core.loadExamples ? [EXAMPLES_FOLDER] : [])].map(canonical);
  return [...new Set(folders)];
}

export function createDagFileProcessor(config: ResolvedConfig, knex: Knex, logger: Logger, now?: () => Date): DagFileProcessor {
  const scoped = logger.child({ component: 'dag-processor' });
  return new DagFileProcessor({
    knex,
    folders: dagFolders(config),
    parser: new DagFileParser({ timeoutMs: config.core.dagbagImportTimeout * 1000, concurrency: config.scheduler.parsingProcesses, logger: scoped }),
    logger: scoped,
    pausedAtCreation: config.core.dagsArePausedAtCreation,
    catchupByDefault: config.scheduler.catchupByDefault,
    safeMode: config.core.dagDiscoverySafeMode,
    rescanIntervalMs: config.scheduler.dagDirListInterval * 1000,
    now,
  });
}

/**
 * The DAG processor's callback runner (DAG-level onSuccessCallback / onFailureCallback, ADR 0022): its
 * processes get this process's home, database and Fernet key, and as long as a DAG file's import plus a minute.
 */
export function createDagCallbackRunner(config: ResolvedConfig, knex: Knex, databaseUrl: string | null, logger: Logger): DagCallbackRunner {
  return new DagCallbackRunner({
    knex,
    env: childProcessEnv(config, databaseUrl),
    timeoutMs: config.core.dagbagImportTimeout * 1000 + 60_000,
    logger: logger.child({ component: 'dag-processor' }),
  });
}

function canonical(folder: string): string {
  try {
    return realpathSync(folder);
  } catch {
    return folder; // not created yet: watch it by its configured name
  }
}
