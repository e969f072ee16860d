import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { secretsMasker } from '../core/secretsMasker.ts';

/**
 * Airflow's FileTaskHandler: where a try's log file lives and how the runner (and the scheduler or an executor
 * adding why a try failed) writes it. taskLogReader.ts reads it back for the API and the UI.
 */

/**
 * Where a try's log lives, in Airflow's layout:
 * {baseLogFolder}/dag_id=D/run_id=R/task_id=T/[map_index=M/]attempt=N.log
 */
export function taskLogPath(baseLogFolder: string, ti: { dagId: string; runId: string; taskId: string; mapIndex: number; tryNumber: number }): string {
  const parts = [`dag_id=${ti.dagId}`, `run_id=${ti.runId}`, `task_id=${ti.taskId}`];
  if (ti.mapIndex >= 0) parts.push(`map_index=${ti.mapIndex}`);
  return path.join(baseLogFolder, ...parts.map(safeSegment), `attempt=${ti.tryNumber}.log`);
}

/**
 * Where the DAG-level callbacks of a run log (they run in the DAG processor, ADR 0022):
 * {baseLogFolder}/dag_id=D/run_id=R/dag_callbacks.log
 */
export function dagCallbackLogPath(baseLogFolder: string, run: { dagId: string; runId: string }): string {
  return path.join(baseLogFolder, safeSegment(`dag_id=${run.dagId}`), safeSegment(`run_id=${run.runId}`), 'dag_callbacks.log');
}

/** Run ids contain ':' and '+', which are fine on Linux; only path separators must go. */
function safeSegment(segment: string): string {
  return segment.replace(/[/\\]/g, '_');
}

/**
 * The log file of one try, resolved under the base log folder; null when the
 * ids would lead outside it (taskLogPath already neutralises separators, this
 * is the second fence).
 */
export function taskLogFile(baseLogFolder: string, ti: { dagId: string; runId: string; taskId: string; mapIndex: number; tryNumber: number }): string | null {
  const root = path.resolve(baseLogFolder);
  const file = path.resolve(taskLogPath(root, ti));
  return file.startsWith(root + path.sep) ? file : null;
}

/**
 * In a Kubernetes task pod every line also goes to stdout: that is the pod
 * log, which the UI reads while the pod runs when the log folder is not shared.
 */
const ECHO_TO_STDOUT = process.env.AIRFLOW_IS_K8S_EXECUTOR_POD === 'True';

/** Folders this process already created: a worker writes thousands of logs, mostly into known folders. */
const madeFolders = new Set<string>();

/**
 * A try's log file: timestamped lines, appended as they come. Writes are
 * synchronous so that a line is in the file the moment it is logged (a
 * reader following the log sees it, and a worker that exits loses nothing);
 * task logs are small, so the cost is a few microseconds a line.
 */
export class TaskLog {
  private fd: number | null;

  constructor(readonly file: string) {
    const folder = path.dirname(file);
    if (!madeFolders.has(folder)) {
      mkdirSync(folder, { recursive: true });
      madeFolders.add(folder);
    }
    this.fd = openSync(file, 'a');
  }

  write(level: 'INFO' | 'WARNING' | 'ERROR', source: string, message: string): void {
    const stamp = new Date().toISOString();
    this.append(
      message
        .split('\n')
        .map((line) => `[${stamp}] {${source}} ${level} - ${line}\n`)
        .join(''),
    );
  }

  /** A line already formatted by the task's own logger (timestamp and level included). */
  raw(line: string): void {
    this.append(`${line}\n`);
  }

  info(message: string): void {
    this.write('INFO', 'taskinstance', message);
  }

  error(message: string): void {
    this.write('ERROR', 'taskinstance', message);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Every line passes the secrets masker first: task output never reaches the file (or the pod log) with a secret the task read. */
  private append(raw: string): void {
    const text = secretsMasker.mask(raw);
    if (this.fd !== null) writeSync(this.fd, text);
    if (ECHO_TO_STDOUT) writeSync(1, text);
  }
}
