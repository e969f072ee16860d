/**
 * FileSensor: waits for a file or folder (Airflow's FileSensor). `filepath` (templated) may hold glob
 * wildcards; a relative one is taken under the `path` in the extra of the `fs` connection `fsConnId`
 * (Airflow's FSHook). Done when a matching file exists, or a matching folder holds a file at any depth.
 */
import path from 'node:path';
import { taskFail } from '../../core/baseOperator.ts';
import { AirflowFailException } from '../../core/errors.ts';
import type { TaskContext } from '../../core/taskContext.ts';
import { FileTrigger, firstMatch } from '../triggers/fileTrigger.ts';
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

  /** Deferrable: pokes once, then defers to a FileTrigger on the resolved path, polled every pokeInterval (Airflow's FileSensor(deferrable=True)). */
  override async execute(context: TaskContext, rendered: Record<string, unknown>): Promise<unknown> {
    if (!this.deferrable) return super.execute(context, rendered);
    if (await this.poke(context, rendered)) return undefined;
    const filepath = path.resolve(this.basePath(context), String(rendered.filepath));
    return this.defer({
      trigger: new FileTrigger({ filepath, recursive: this.recursive, pokeIntervalMs: this.pokeIntervalMs }),
      method: 'executeComplete',
      timeout: this.timeoutMs,
    });
  }

  async poke(context: TaskContext, rendered: Record<string, unknown>): Promise<boolean> {
    const full = path.resolve(this.basePath(context), String(rendered.filepath));
    context.log.info(`Poking for file ${full}`);
    const found = await firstMatch(full, this.recursive);
    if (!found) return false;
    context.log.info(
      found.kind === 'file' ? `Found file ${found.path} last modified: ${found.mtime.toISOString()}` : `Found a file under folder ${found.path}`,
    );
    return true;
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
