import { resolveConfig } from '../config/resolveConfig.ts';
import type { ResolvedConfig } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { schemaStatus } from '../db/migrate.ts';
import { SchemaVersionMismatchError } from '../core/errors.ts';
import { LATEST_MIGRATION } from '../db/migrate.ts';
import { createLogger } from '../logging/winstonLogger.ts';

/** What every CLI command gets: the resolved config, a logger, and the database on demand. */
export interface Runtime {
  config: ResolvedConfig;
  logger: Logger;
  /** Opens the metadata database once; with `migrated` (the default) it must be at the latest schema. */
  db(options?: { migrated?: boolean }): Promise<Database>;
}

export interface GlobalArgs {
  config?: string;
  verbose?: boolean;
}

/** Runs a command with a Runtime and closes the database (and embedded server) afterwards. */
export async function withRuntime<T>(args: GlobalArgs, fn: (runtime: Runtime) => Promise<T>, overrides?: Record<string, unknown>): Promise<T> {
  const config = await resolveConfig({ configFile: args.config, overrides });
  const logger = createLogger(args.verbose ? 'debug' : config.logging.level);
  const opened: { database?: Promise<Database> } = {};
  const runtime: Runtime = {
    config,
    logger,
    db: async ({ migrated = true } = {}) => {
      const db = await (opened.database ??= openDatabase(config, logger));
      if (migrated) await assertMigrated(db);
      return db;
    },
  };
  try {
    return await fn(runtime);
  } finally {
    if (opened.database) await (await opened.database.catch(() => null))?.close();
  }
}

async function assertMigrated(db: Database): Promise<void> {
  const status = await schemaStatus(db.knex);
  if (status.unknown.length > 0) throw new SchemaVersionMismatchError(status.applied.at(-1)!, LATEST_MIGRATION);
  if (status.pending.length > 0) {
    throw new Error(
      status.applied.length === 0
        ? 'The metadata database is empty: run `airflow db migrate` first'
        : `The metadata database needs ${status.pending.length} migration(s) (${status.pending.join(', ')}): run \`airflow db migrate\``,
    );
  }
}
