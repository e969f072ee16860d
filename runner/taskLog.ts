import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';

/**
 * Where a try's log lives, in Airflow's layout:
 * {baseLogFolder}/dag_id=D/run_id=R/task_id=T/[map_index=M/]attempt=N.log
 */
export function taskLogPath(baseLogFolder: string, ti: { dagId: string; runId: string; taskId: string; mapIndex: number; tryNumber: number }): string {
  const parts = [`dag_id=${ti.dagId}`, `run_id=${ti.runId}`, `task_id=${ti.taskId}`];
  if (ti.mapIndex >= 0) parts.push(`map_index=${ti.mapIndex}`);
  return path.join(baseLogFolder, ...parts.map(safeSegment), `attempt=${ti.tryNumber}.log`);
}

/** Run ids contain ':' and '+', which are fine on Linux; only path separators must go. */
function safeSegment(segment: string): string {
  return segment.replace(/[/\\]/g, '_');
}

/** A try's log file: timestamped lines, appended as they come. */
export class TaskLog {
  private readonly stream: WriteStream;

  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.stream = createWriteStream(file, { flags: 'a' });
  }

  write(level: 'INFO' | 'WARNING' | 'ERROR', source: string, message: string): void {
    const stamp = new Date().toISOString();
    for (const line of message.split('\n')) this.stream.write(`[${stamp}] {${source}} ${level} - ${line}\n`);
  }

  /** A line already formatted by the task's own logger (timestamp and level included). */
  raw(line: string): void {
    this.stream.write(`${line}\n`);
  }

  info(message: string): void {
    this.write('INFO', 'taskinstance', message);
  }

  error(message: string): void {
    this.write('ERROR', 'taskinstance', message);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
