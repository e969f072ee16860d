import { readdirSync, readFileSync } from 'node:fs';

/** What /proc says about the machine's processes; read afresh on every call. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  cmdline: string;
}

export function processes(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After the command name (in parentheses, may hold spaces): state ppid ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue; // a zombie is already dead
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      found.push({ pid: Number(entry), ppid: Number(fields[1]), cmdline });
    } catch {
      // exited while we looked
    }
  }
  return found;
}

export function isAlive(pid: number): boolean {
  return processes().some((p) => p.pid === pid);
}

/** Every live descendant of `root`. */
export function descendants(root: number, all = processes()): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  const walk = (pid: number) => {
    for (const child of all.filter((p) => p.ppid === pid)) {
      found.push(child);
      walk(child.pid);
    }
  };
  walk(root);
  return found;
}

/** Warm worker processes of the LocalExecutor under a scheduler. */
export function warmWorkers(schedulerPid: number, all = processes()): ProcessInfo[] {
  return descendants(schedulerPid, all).filter((p) => p.cmdline.includes('workerMain'));
}
