import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { ResolvedConfig } from '../config/schema.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { ensureEmbeddedPostgres } from './embeddedPostgres.ts';

// Return int8 (bigint ids, counts) as JS numbers: our ids stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** An open metadata database: the knex pool plus what is needed to close it. */
export interface Database {
  knex: Knex;
  /** The database's URL; for the embedded server, at its current port (read it when you connect, do not keep it). */
  readonly url: string;
  /** True when this database is the embedded Postgres. */
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * Opens the configured database: `database.url` if set, else the embedded
 * Postgres under $AIRFLOW_HOME (started if no other process runs it, and
 * restarted by this process if it dies while we use it).
 */
export async function openDatabase(config: ResolvedConfig, logger: Logger, options: { poolMax?: number } = {}): Promise<Database> {
  if (config.database.url) return connect(config.database.url, false, async () => {}, options.poolMax, logger);
  if (process.env.AIRFLOW_IS_K8S_EXECUTOR_POD === 'True') {
    // An embedded Postgres of the pod's own would record the task where no scheduler looks.
    throw new ConfigError(
      'database.url',
      '',
      'the URL of the shared metadata database: a task pod cannot use an embedded Postgres (set AIRFLOW__DATABASE__URL in kubernetes.env or the pod template)',
    );
  }
  const server = await ensureEmbeddedPostgres({ airflowHome: config.airflowHome, port: config.database.embeddedPort, logger });
  return connect(() => server.url, true, server.stop, options.poolMax, logger);
}

/**
 * A knex pool on `url`. A function `url` is asked again for every new
 * connection, so the pool follows a server that came back on another port.
 * Connections that break (a restart, a network cut) are dropped by the pool
 * (knex listens for their 'error' and 'end'), and the next query opens a new one.
 */
export function connect(
  url: string | (() => string),
  embedded = false,
  onClose: () => Promise<void> = async () => {},
  poolMax = 10,
  logger?: Logger,
): Database {
  const currentUrl = typeof url === 'function' ? url : () => url;
  const knex = knexFactory({
    client: 'pg',
    connection:
      typeof url === 'function'
        ? () => {
            const current = url();
            // Settings expire when the server moved: new connections then go to the new port.
            return { connectionString: current, application_name: 'airflow-ts', expirationChecker: () => url() !== current };
          }
        : { connectionString: url, application_name: 'airflow-ts' },
    pool: { min: 0, max: poolMax },
    // knex reports each broken connection it drops; a restart breaks them all: our log, at debug level.
    ...(logger
      ? {
          log: {
            warn: (m: unknown) => logger.debug(`knex: ${String(m)}`),
            error: (m: unknown) => logger.warn(`knex: ${String(m)}`),
            deprecate: () => {},
            debug: () => {},
          },
        }
      : {}),
  });
  let closing: Promise<void> | null = null;
  return {
    knex,
    get url() {
      return currentUrl();
    },
    embedded,
    close: () =>
      (closing ??= (async () => {
        await knex.destroy();
        await onClose();
      })()),
  };
}

/** Throws unless the database answers a query (`airflow db check`). */
export async function checkConnection(knex: Knex): Promise<void> {
  await knex.raw('SELECT 1');
}
