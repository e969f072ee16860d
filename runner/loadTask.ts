import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { BaseOperator } from '../core/baseOperator.ts';
import { isDag, type DAG } from '../core/dag.ts';
import { withoutDefinitionSites } from '../core/definitionSite.ts';
import { TaskNotLoadableError } from '../core/errors.ts';

/**
 * Imports a DAG file in the task runner (the one place besides the parser
 * children where user code runs) and returns the live DAG and task.
 *
 * A warm worker runs many tasks: the file is imported once per version (its
 * modification time goes into the module URL), so an edited DAG file is
 * picked up by the next task. Older versions stay in memory until the worker
 * is recycled (core.workerMaxTasks).
 */
const loaded = new Map<string, { version: number; mod: Record<string, unknown> }>();

export async function loadTask(fileloc: string, dagId: string, taskId: string): Promise<{ dag: DAG; task: BaseOperator }> {
  const mod = await loadDagFile(fileloc);
  const dag = Object.values(mod).find((value): value is DAG => isDag(value) && value.dagId === dagId);
  if (!dag) throw new TaskNotLoadableError(`${fileloc} no longer exports DAG '${dagId}'`);
  if (!dag.hasTask(taskId)) throw new TaskNotLoadableError(`DAG '${dagId}' in ${fileloc} has no task '${taskId}' any more`);
  return { dag, task: dag.getTask(taskId) as BaseOperator };
}

/** The DAG file's module, imported once per version. */
export async function loadDagFile(fileloc: string): Promise<Record<string, unknown>> {
  let mod: Record<string, unknown>;
  try {
    const version = statSync(fileloc).mtimeMs;
    const cached = loaded.get(fileloc);
    if (cached && cached.version === version) {
      mod = cached.mod;
    } else {
      // @ts-expect-error -- plain JS module without types; installs the 'airflow-ts' resolver once per process.
      await (await import('../bin/resolve-airflow-ts.js')).shareAirflowTs();
      // The first version loads under its plain URL; later versions get a query so the module is read anew.
      // A DAG file in a folder without "type": "module" is CommonJS, cached by file name whatever the query.
      if (cached) delete createRequire(import.meta.url).cache[fileloc];
      const url = cached ? `${pathToFileURL(fileloc).href}?v=${version}` : pathToFileURL(fileloc).href;
      mod = (await withoutDefinitionSites(() => import(url))) as Record<string, unknown>;
      loaded.set(fileloc, { version, mod });
    }
  } catch (error) {
    throw new TaskNotLoadableError(`Could not import ${fileloc}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return mod;
}
