import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';

const AIRFLOW_BIN = fileURLToPath(new URL('../bin/airflow.js', import.meta.url));

export interface SchedulerOptions {
  /** AIRFLOW_HOME of this run (logs); also the working directory, so no airflow.config.ts is picked up. */
  home: string;
  dagsFolder: string;
  databaseUrl: string;
  /** The run's database, to see when the scheduler is up. */
  knex: Knex;
  executor: string;
  parallelism: number;
  /** How long the initial parse of the dags folder may take. */
  readyTimeoutMs?: number;
  /** More AIRFLOW__* settings a scenario needs (stated in its plan), e.g. a higher core.maxMapLength. */
  env?: Record<string, string>;
  /** The daemon: `airflow scheduler` (default) or `airflow triggerer` (up once its TriggererJob row is registered). */
  command?: 'scheduler' | 'triggerer';
}

export interface SchedulerProcess {
  pid: number;
  /** Epoch ms just before the process was spawned. */
  spawnedAt: number;
  /** Why it is gone, if it exited on its own; null while it runs. */
  exitReason(): string | null;
  /** Resident memory of the scheduler process itself (VmRSS), in MiB. */
  rssMb(): number;
  /** CPU time (user + system) the scheduler process itself has used so far, in ms; its children not included. */
  cpuMs(): number;
  /** Resident memory of its child processes (parsers, task runners), in MiB: they are separate processes. */
  childrenRssMb(): number;
  /** SIGTERM, then waits for the exit (SIGKILL after 60 s); returns the exit code. */
  stop(): Promise<number | null>;
}

const live = new Set<ChildProcess>();
const terminated = new WeakSet<ChildProcess>();

/** One SIGTERM per scheduler: a second one tells it to stop draining and exit at once. */
function terminate(child: ChildProcess): void {
  if (terminated.has(child)) return;
  terminated.add(child);
  child.kill('SIGTERM');
}

/** Stops every scheduler still running (the bench is being interrupted); resolves when they are gone. */
export async function stopAllSchedulers(): Promise<void> {
  await Promise.all(
    [...live].map((child) => {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      terminate(child);
      return gone;
    }),
  );
}

/** The scheduler exited before it was up; `message` is its own error line when it printed one. */
export class SchedulerStartError extends Error {}

/** True when the scheduler refused the executor itself (e.g. one not built yet): a ConfigError on core.executor. */
export function isExecutorUnavailable(error: unknown): error is SchedulerStartError {
  return error instanceof SchedulerStartError && /core\.executor/.test(error.message);
}

/**
 * Starts `airflow scheduler` as a child process, configured only through
 * the environment, and resolves once it is up: the initial parse of the dags
 * folder is recorded and its SchedulerJob row has heartbeated from the loop.
 */
export async function startScheduler(options: SchedulerOptions): Promise<SchedulerProcess> {
  const command = options.command ?? 'scheduler';
  const logFile = path.join(options.home, `${command}.log`);
  const logFd = openSync(logFile, 'a');
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [AIRFLOW_BIN, command], {
    cwd: options.home,
    // Only what the run needs: a stray AIRFLOW__* in the caller's environment must not change the figures.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AIRFLOW_HOME: options.home,
      AIRFLOW__DATABASE__URL: options.databaseUrl,
      AIRFLOW__CORE__DAGS_FOLDER: options.dagsFolder,
      AIRFLOW__CORE__LOAD_EXAMPLES: 'false',
      AIRFLOW__CORE__EXECUTOR: options.executor,
      AIRFLOW__CORE__PARALLELISM: String(options.parallelism),
      AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: 'false',
      AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '1', // the default, stated: we measure the real system
      ...options.env,
    },
    stdio: ['ignore', logFd, logFd],
    detached: true, // its own process group: a Ctrl-C reaches only the bench, which then stops it once
  });
  closeSync(logFd);
  live.add(child);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve((exitCode = code ?? (signal ? 128 : null)));
    }),
  );
  const pid = child.pid!;

  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (exitCode !== undefined) throw new SchedulerStartError(startFailure(logFile, exitCode));
    // Registered is not enough: the executor (warm workers) and the wake-up listener start after that.
    // Its first heartbeat comes from the loop, so by then the scheduler is fully up.
    const up =
      command === 'triggerer'
        ? await options.knex('job').where({ job_type: 'TriggererJob', state: 'running', pid }).first('id')
        : await options.knex('job').where({ job_type: 'SchedulerJob', state: 'running', pid }).whereRaw('latest_heartbeat > start_date').first('id');
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new SchedulerStartError(`the scheduler was not up within ${(options.readyTimeoutMs ?? 120_000) / 1000} s; see ${logFile}`);
    }
    await sleep(50);
  }

  return {
    pid,
    spawnedAt,
    exitReason: () => (exitCode === undefined ? null : `the scheduler exited with code ${exitCode}; see ${logFile}`),
    rssMb: () => rssKb(pid) / 1024,
    cpuMs: () => cpuMs(pid),
    childrenRssMb: () => descendants(pid).reduce((sum, p) => sum + rssKb(p), 0) / 1024,
    async stop() {
      if (exitCode !== undefined) return exitCode;
      terminate(child);
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function startFailure(logFile: string, code: number | null): string {
  const lines = readFileSync(logFile, 'utf8').trim().split('\n');
  // The CLI prints an expected failure as one "Error: ..." line; anything else as a stack, whose
  // first error line and the one after it (e.g. a TransformError and its file:line) say the most.
  const error = lines.findLast((l) => l.startsWith('Error:'));
  if (error) return error.replace(/^Error:\s*/, '');
  const first = lines.findIndex((l) => /\bError\b/.test(l));
  const detail = first >= 0 ? lines.slice(first, first + 2) : lines.slice(-3);
  return `the scheduler exited with code ${code}: ${detail.map((l) => l.trim()).join(' ')} (see ${logFile})`;
}

/** VmRSS from /proc/<pid>/status in KiB; 0 for a process that is gone. */
function rssKb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

let clockTicks: number | null = null;

/** utime + stime from /proc/<pid>/stat (in clock ticks, usually 10 ms each), as ms; NaN for a process that is gone. */
function cpuMs(pid: number): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name (in parentheses): state is field 3, utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return Number.NaN;
  }
}

/** Every live descendant of `root`, from the parent ids in /proc/<pid>/stat. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may contain spaces: state ppid ...
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
