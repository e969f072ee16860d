/**
 * FileSensor: waits for a file or folder (Airflow's FileSensor). `filepath` (templated) may hold glob
 * wildcards; a relative one is taken under the `path` in the extra of the `fs` connection `fsConnId`
 * (Airflow's FSHook). Done when a matching file exists, or a matching folder holds a file at any depth.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { taskFail } from '../../core/baseOperator.ts';
import { AirflowFailException } from '../../core/errors.ts';
import type { TaskContext } from '../../core/taskContext.ts';
import { BaseSensorOperator, type BaseSensorOperatorOptions } from './baseSensorOperator.ts';

export interface FileSensorOptions extends BaseSensorOperatorOptions {
  /** File or folder, relative to the connection's path; glob wildcards allowed. Templated. */
  filepath: string;
  /** An `fs` connection whose extra holds { "path": base folder }; default 'fs_default' (when it does not exist: base '/', as Airflow's). */
  fsConnId?: string;
  /** Let `**` match folders at any depth (Python glob's recursive); otherwise it matches one level, as `*`. */
  recursive?: boolean;
}

export const DEFAULT_FS_CONN_ID = 'fs_default';

export class FileSensor extends BaseSensorOperator {
  static override readonly templateFields: readonly string[] = ['filepath'];

  readonly filepath: string;
  readonly fsConnId: string;
  readonly recursive: boolean;

  constructor(options: FileSensorOptions) {
    const fail = (message: string): never => taskFail(options?.dag?.dagId, options?.taskId, message);
    const { filepath, fsConnId = DEFAULT_FS_CONN_ID, recursive = false } = options ?? ({} as FileSensorOptions);
    if (typeof filepath !== 'string' || filepath.trim() === '') fail(`filepath must be a non-empty string, got ${JSON.stringify(filepath)}`);
    if (typeof fsConnId !== 'string' || fsConnId === '') fail(`fsConnId must be a connection id, got ${JSON.stringify(fsConnId)}`);
    if (typeof recursive !== 'boolean') fail(`recursive must be true or false, got ${JSON.stringify(recursive)}`);
    super(options);
    this.filepath = filepath;
    this.fsConnId = fsConnId;
    this.recursive = recursive;
  }

  override serializeFields(): Record<string, unknown> {
    return { ...super.serializeFields(), filepath: this.filepath, fsConnId: this.fsConnId, recursive: this.recursive };
  }

  async poke(context: TaskContext, rendered: Record<string, unknown>): Promise<boolean> {
    const full = path.resolve(this.basePath(context), String(rendered.filepath));
    context.log.info(`Poking for file ${full}`);
    const pattern = this.recursive ? full : full.replace(/\*\*+/g, '*');
    const matches = await glob(pattern, { absolute: true, onlyFiles: false, expandDirectories: false });
    for (const match of matches.sort()) {
      const info = await stat(match).catch(() => null);
      if (info?.isFile()) {
        context.log.info(`Found file ${match} last modified: ${info.mtime.toISOString()}`);
        return true;
      }
      if (info?.isDirectory() && (await holdsAFile(match))) {
        context.log.info(`Found a file under folder ${match}`);
        return true;
      }
    }
    return false;
  }

  /** The connection's extra.path (Airflow's FSHook.get_path); a missing fs_default is '/', as Airflow's default one. */
  private basePath(context: TaskContext): string {
    const connection = context.conn.get(this.fsConnId);
    if (!connection) {
      if (this.fsConnId === DEFAULT_FS_CONN_ID) return '/'; // Airflow's fs_default: { "path": "/" }
      throw new AirflowFailException(
        `FileSensor '${this.taskId}': connection '${this.fsConnId}' does not exist; create an fs connection with extra {"path": "/base/folder"}`,
      );
    }
    const base = connection.extra.path;
    if (base === undefined || base === null || base === '') return '/';
    if (typeof base !== 'string') throw new AirflowFailException(`connection '${this.fsConnId}': extra.path must be a string, got ${JSON.stringify(base)}`);
    return base;
  }
}

async function holdsAFile(folder: string): Promise<boolean> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.some((entry) => entry.isFile());
}
