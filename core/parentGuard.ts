import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { SignalToSchedulerRefusedError } from './errors.ts';

/**
 * Defence in depth for the scheduler's children that run user code (parser
 * processes and workers, each in its own session, so a signal to its own
 * process group reaches only itself): `process.kill` refuses the parent's pid,
 * the parent's process group and -1 (every process we may signal). User code
 * that shells out to `kill` is not stopped by this; see ADR 0012 for what
 * restarts the scheduler then. A process whose parent is init or none (pid 1
 * in a container) has nothing to protect.
 */
export function refuseSignalsToParent(): void {
  const parent = process.ppid;
  if (parent <= 1) return;
  const groups = new Set([parent, processGroupOf(parent)].filter((g): g is number => g !== null && g > 1));
  const kill = process.kill.bind(process);
  process.kill = ((pid: number, signal?: string | number) => {
    if (pid === parent || pid === -1 || (pid < -1 && groups.has(-pid))) throw new SignalToSchedulerRefusedError(pid);
    return kill(pid, signal);
  }) as typeof process.kill;
}

/** The process group of `pid` (Linux /proc), or null where it cannot be read. */
function processGroupOf(pid: number): number | null {
  try {
    // Fields after the parenthesised command name: state ppid pgrp ...
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return Number.isInteger(pgrp) ? pgrp : null;
  } catch {
    return null;
  }
}

/**
 * A parser child lives in its own session, so it no longer dies with the
 * scheduler's process group. A thread (which runs even while a DAG file keeps
 * the main thread busy forever) kills this process, and the process group it
 * leads (what a DAG file started), once the scheduler is gone.
 */
export function exitWhenParentDies(everyMs = 1_000): void {
  const watchdog = new Worker(
    `const { workerData } = require('node:worker_threads');
     const killAll = () => { try { process.kill(-process.pid, 'SIGKILL'); } catch { process.kill(process.pid, 'SIGKILL'); } };
     setInterval(() => { if (process.ppid !== workerData.parent) killAll(); }, workerData.everyMs);`,
    { eval: true, workerData: { parent: process.ppid, everyMs } },
  );
  watchdog.unref();
}
