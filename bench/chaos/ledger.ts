import { readFileSync } from 'node:fs';

/** One task body's run as the body itself wrote it down. */
export interface Body {
  runId: string;
  taskId: string;
  tryNumber: number;
  pid: number;
  start: number;
  /** null: the body never finished (its process was killed). */
  end: number | null;
}

/**
 * Reads the ledger the chaos DAG's bodies append to. Lines are short single
 * appends (atomic under O_APPEND), so they never interleave.
 */
export function readLedger(file: string): Body[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const bodies: Body[] = [];
  const open = new Map<string, Body>(); // key: run task try pid
  for (const raw of text.split('\n')) {
    const [event, runId, taskId, tryNumber, pid, at] = raw.trim().split(' ');
    if (!event || !runId || !taskId || !at) continue;
    const key = `${runId} ${taskId} ${tryNumber} ${pid}`;
    if (event === 'start') {
      const body = { runId, taskId, tryNumber: Number(tryNumber), pid: Number(pid), start: Number(at), end: null };
      bodies.push(body);
      open.set(key, body);
    } else if (event === 'end') {
      const body = open.get(key);
      if (body) {
        body.end = Number(at);
        open.delete(key);
      }
    }
  }
  return bodies;
}

/** Bodies that started before `at` and had not ended by then. */
export function runningAt(bodies: Body[], at: number): Body[] {
  return bodies.filter((b) => b.start <= at && (b.end === null || b.end > at));
}

export interface LedgerCounts {
  bodies: number;
  /** Extra body starts within one try of one task instance (a try must run its body once). */
  ranTwiceInOneTry: number;
  /** Pairs of different tries of one task instance whose bodies were running at the same time. */
  overlappingTries: number;
  /** Bodies that never wrote their end line (killed mid-body, then retried). */
  interrupted: number;
}

export function countLedger(bodies: Body[]): LedgerCounts {
  const byTry = new Map<string, Body[]>();
  const byTask = new Map<string, Body[]>();
  for (const body of bodies) {
    const task = `${body.runId} ${body.taskId}`;
    byTry.set(`${task} ${body.tryNumber}`, [...(byTry.get(`${task} ${body.tryNumber}`) ?? []), body]);
    byTask.set(task, [...(byTask.get(task) ?? []), body]);
  }
  let overlappingTries = 0;
  for (const runs of byTask.values()) {
    for (const a of runs) {
      for (const b of runs) {
        // b started while a (an earlier try) was still running; an unfinished a never ended, so only
        // a later end line (a body that outlived its kill) can show an overlap.
        if (a.tryNumber < b.tryNumber && a.start <= b.start && a.end !== null && a.end > b.start) overlappingTries++;
      }
    }
  }
  return {
    bodies: bodies.length,
    ranTwiceInOneTry: [...byTry.values()].reduce((sum, runs) => sum + runs.length - 1, 0),
    overlappingTries,
    interrupted: bodies.filter((b) => b.end === null).length,
  };
}
