import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { afterAll } from 'vitest';
import { AIRFLOW_BIN } from './cli.ts';

/**
 * An AIRFLOW_HOME with an embedded Postgres of its own (not the shared test
 * server), for tests that kill or stop the database under real processes.
 * Nothing here restarts the server: the test looks at it the way a person
 * would, through postmaster.pid, under its own application_name (so it never
 * counts as an airflow-ts process).
 */
export function embeddedHome(): { home: string; dags: string; env: Record<string, string> } {
  const home = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-embedded-'));
  chmodSync(home, 0o755); // as root, the postgres user must reach $AIRFLOW_HOME/postgres
  const dags = mkdtempSync(path.join(os.tmpdir(), 'airflow-ts-dags-'));
  const env = { AIRFLOW_HOME: home, AIRFLOW__CORE__DAGS_FOLDER: dags, AIRFLOW__CORE__LOAD_EXAMPLES: 'false' };
  homes.push(home);
  return { home, dags, env };
}

const homes: string[] = [];
const spawned: AirflowProcess[] = [];
const pools: Knex[] = [];
// Registered when a test file imports this helper, so it also covers homes made inside a test. Whatever
// happens to the test, nothing is left behind: the processes first, as they would restart the server.
afterAll(async () => {
  for (const started of spawned) await started.stop('SIGKILL');
  await Promise.all(pools.map((knex) => knex.destroy()));
  for (const home of homes) {
    const server = postmasterOf(home);
    if (server) process.kill(server.pid, 'SIGQUIT');
  }
});

/** The live postmaster of the home's cluster (pid and port from postmaster.pid), or null. */
export function postmasterOf(home: string): { pid: number; port: number } | null {
  let lines: string[];
  try {
    lines = readFileSync(path.join(home, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  return readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ') ? null : { pid, port };
}

/** A small pool on the home's `airflow` database that follows the server to whatever port it is on. */
export function clusterKnex(home: string): Knex {
  const { password } = JSON.parse(readFileSync(path.join(home, 'postgres', 'credentials.json'), 'utf8')) as { password: string };
  const knex = knexFactory({
    client: 'pg',
    connection: () => {
      const port = postmasterOf(home)?.port;
      return {
        connectionString: `postgresql://airflow:${encodeURIComponent(password)}@127.0.0.1:${port ?? 1}/airflow`,
        application_name: 'airflow-ts-test',
        expirationChecker: () => postmasterOf(home)?.port !== port,
      };
    },
    pool: { min: 0, max: 2 },
    log: { warn: () => {}, error: () => {}, deprecate: () => {}, debug: () => {} }, // the test expects connections to break
  });
  pools.push(knex);
  return knex;
}

export interface AirflowProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the first match of `pattern` in its output. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts a long-running `airflow …` command; it is killed after the test file (see embeddedHome) if still alive. */
export function spawnAirflow(args: string[], env: Record<string, string>): AirflowProcess {
  const child = spawn(process.execPath, [AIRFLOW_BIN, ...args], {
    cwd: env.AIRFLOW_HOME,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exitedYet = false;
  void exited.then(() => (exitedYet = true));
  const started: AirflowProcess = {
    child,
    exited,
    output: () => output,
    waitFor: (pattern, timeoutMs = 90_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (!match) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(match);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`airflow ${args.join(' ')} printed nothing matching ${pattern} within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => {
          if (!listeners.has(check)) return;
          listeners.delete(check);
          clearTimeout(timer);
          reject(new Error(`airflow ${args.join(' ')} exited before printing ${pattern}:\n${output}`));
        });
        check();
      }),
    stop: (signal = 'SIGTERM') => {
      if (!exitedYet) child.kill(signal);
      return exited;
    },
  };
  spawned.push(started);
  return started;
}
