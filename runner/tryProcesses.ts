import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { TRY_MARK_ENV } from '../core/tryMark.ts';

/**
 * `<database>:<task instance id>:<try number>`. The database part keeps two
 * installations (or test databases) on one host apart: it is a hash of the
 * server address and database name, never of the credentials.
 */
export function tryMark(databaseUrl: string, tiId: number, tryNumber: number): string {
  return `${databaseTag(databaseUrl)}:${tiId}:${tryNumber}`;
}

function databaseTag(databaseUrl: string): string {
  let where = databaseUrl;
  try {
    const url = new URL(databaseUrl);
    where = `${url.hostname}:${url.port}${url.pathname}`;
  } catch {
    // not a URL: hash it whole
  }
  return createHash('sha256').update(where).digest('hex').slice(0, 12);
}

/**
 * The database a mark names: its URL, or for the embedded server the AIRFLOW_HOME, since a restart
 * may move that server to another port (ADR 0009) and task processes are given no URL for it.
 */
export function databaseIdentity(config: { database: { url: string }; airflowHome: string }): string {
  return config.database.url || `embedded:${config.airflowHome}`;
}

/** Sets the mark on this process (for its children) while `body` runs. The runner runs one try at a time. */
export async function withTryMark<T>(mark: string, body: () => Promise<T>): Promise<T> {
  const before = process.env[TRY_MARK_ENV];
  process.env[TRY_MARK_ENV] = mark;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env[TRY_MARK_ENV];
    else process.env[TRY_MARK_ENV] = before;
  }
}

/**
 * SIGKILLs every process on this host whose mark `matches`, and the process
 * group of each when the group is the try's too (its leader is marked or gone;
 * a live unmarked leader is a warm worker that moved on, and must live). Scans
 * again until nothing marked is left, so a child forked during a scan is
 * caught by the next one. Returns how many marked processes it killed. Reads
 * /proc: on a system without it there is nothing to find and it returns 0.
 */
export function killTryProcesses(matches: (mark: string) => boolean): number {
  const killed = new Set<number>();
  for (let round = 0; round < 20; round++) {
    const found = markedProcesses(matches);
    if (found.length === 0) break;
    for (const { pid, pgid } of found) {
      if (pgid > 1 && pgid !== process.pid && (found.some((p) => p.pid === pgid) || !exists(pgid))) signal(-pgid);
      signal(pid);
      killed.add(pid);
    }
  }
  return killed.size;
}

/** Matches the mark of one try. */
export function oneTry(databaseUrl: string, tiId: number, tryNumber: number): (mark: string) => boolean {
  const wanted = tryMark(databaseUrl, tiId, tryNumber);
  return (mark) => mark === wanted;
}

/** Matches the marks of `tiId`'s tries other than `tryNumber`: what an earlier try left running. */
export function otherTries(databaseUrl: string, tiId: number, tryNumber: number): (mark: string) => boolean {
  const prefix = `${databaseTag(databaseUrl)}:${tiId}:`;
  return (mark) => mark.startsWith(prefix) && mark !== `${prefix}${tryNumber}`;
}

function markedProcesses(matches: (mark: string) => boolean): { pid: number; pgid: number }[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: { pid: number; pgid: number }[] = [];
  const key = `${TRY_MARK_ENV}=`;
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1'); // empty for a zombie: it is dead already
    } catch {
      continue; // gone, or another user's
    }
    const at = environ.startsWith(key) ? 0 : environ.indexOf(`\0${key}`) + 1; // 0 again when absent
    if (at === 0 && !environ.startsWith(key)) continue;
    const end = environ.indexOf('\0', at);
    const mark = environ.slice(at + key.length, end < 0 ? undefined : end);
    if (!matches(mark)) continue;
    found.push({ pid, pgid: processGroup(pid) });
  }
  return found;
}

/** The process group from /proc/<pid>/stat ("pid (comm) state ppid pgrp …"; comm may hold spaces). */
function processGroup(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return 0;
  }
}

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
