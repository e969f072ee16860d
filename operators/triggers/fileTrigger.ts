/**
 * FileTrigger (Airflow's airflow.triggers.file.FileTrigger): polls for a file matching `filepath` (an
 * absolute path, glob wildcards allowed) every `pokeIntervalMs`; the event is the path found. A matching
 * folder counts when it holds a file at any depth (as FileSensor). The sensor resolves its fs connection's
 * base folder before it defers, so the trigger carries a path, not a connection.
 */
import { readdir, stat } from 'node:fs/promises';
import { glob } from 'tinyglobby';
import { BaseTrigger, registerTrigger, TriggerEvent, type TriggerContext } from '../../core/trigger.ts';
import { sleep } from './temporalTrigger.ts';

export class FileTrigger extends BaseTrigger<{ filepath: string; recursive: boolean; pokeIntervalMs: number }> {
  static override readonly classpath = 'airflow.triggers.file.FileTrigger';

  constructor(kwargs: { filepath: string; recursive?: boolean; pokeIntervalMs?: number }) {
    const { filepath, recursive = false, pokeIntervalMs = 5_000 } = kwargs ?? ({} as { filepath: string });
    if (typeof filepath !== 'string' || !filepath.startsWith('/'))
      throw new TypeError(`FileTrigger: filepath must be an absolute path, got ${JSON.stringify(filepath)}`);
    if (typeof pokeIntervalMs !== 'number' || !(pokeIntervalMs > 0))
      throw new TypeError(`FileTrigger: pokeIntervalMs must be > 0, got ${JSON.stringify(pokeIntervalMs)}`);
    super({ filepath, recursive, pokeIntervalMs });
  }

  async run(context: TriggerContext): Promise<TriggerEvent> {
    for (;;) {
      const found = await firstMatch(this.kwargs.filepath, this.kwargs.recursive);
      if (found) {
        context.log.info(`Found ${found.path} (${found.kind})`);
        return new TriggerEvent(found.path);
      }
      await sleep(this.kwargs.pokeIntervalMs, context.signal);
    }
  }
}

/** The first file matching `pattern`, or folder matching it that holds a file; `recursive` lets `**` match folders at any depth. */
export async function firstMatch(pattern: string, recursive: boolean): Promise<{ path: string; kind: 'file' | 'folder'; mtime: Date } | null> {
  const matches = await glob(recursive ? pattern : pattern.replace(/\*\*+/g, '*'), { absolute: true, onlyFiles: false, expandDirectories: false });
  for (const match of matches.sort()) {
    const info = await stat(match).catch(() => null);
    if (info?.isFile()) return { path: match, kind: 'file', mtime: info.mtime };
    if (info?.isDirectory() && (await holdsAFile(match))) return { path: match, kind: 'folder', mtime: info.mtime };
  }
  return null;
}

async function holdsAFile(folder: string): Promise<boolean> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.some((entry) => entry.isFile());
}

registerTrigger(FileTrigger);
