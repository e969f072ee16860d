import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Which processes use the embedded Postgres: one file per live process in
 * `<cluster>/users/<pid>.json`, holding its pid and start time. The last live
 * user stops the server (ADR 0009). Counting connections instead would miss a
 * process whose pool happens to be idle; a file can be left behind by kill -9,
 * so a registration counts only while its process lives with the same start
 * time (a reused pid is another process).
 */
export interface ClusterUser {
  pid: number;
  /** Kernel start time of the process (clock ticks since boot, /proc/<pid>/stat field 22); null where unknown. */
  startTime: string | null;
}

const usersFolder = (clusterDir: string) => path.join(clusterDir, 'users');

/** Records this process as a user; returns the function that removes the record. */
export function registerClusterUser(clusterDir: string): () => void {
  const folder = usersFolder(clusterDir);
  mkdirSync(folder, { recursive: true, mode: 0o755 });
  const file = path.join(folder, `${process.pid}.json`);
  const me: ClusterUser = { pid: process.pid, startTime: processStartTime(process.pid) };
  writeFileSync(file, JSON.stringify(me));
  return () => rmSync(file, { force: true });
}

/** The other processes registered as users that are still alive; records of dead ones are removed. */
export function otherLiveClusterUsers(clusterDir: string): ClusterUser[] {
  const folder = usersFolder(clusterDir);
  let names: string[];
  try {
    names = readdirSync(folder).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const live: ClusterUser[] = [];
  for (const name of names) {
    const file = path.join(folder, name);
    let user: ClusterUser;
    try {
      user = JSON.parse(readFileSync(file, 'utf8')) as ClusterUser;
    } catch {
      continue; // being written or removed right now
    }
    if (user.pid === process.pid) continue;
    if (isAlive(user)) live.push(user);
    else rmSync(file, { force: true });
  }
  return live;
}

function isAlive(user: ClusterUser): boolean {
  return processAlive(user.pid) && (user.startTime === null || processStartTime(user.pid) === user.startTime);
}

/** Whether a process exists and is not a zombie (a killed child its parent has not reaped yet). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return procStatFields(pid)?.[0] !== 'Z';
}

/** The process's start time from /proc (Linux); null elsewhere or when it is gone. */
function processStartTime(pid: number): string | null {
  return procStatFields(pid)?.[19] ?? null;
}

/** /proc/<pid>/stat from field 3 ("state") on; null where there is no /proc. */
function procStatFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: cut after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
