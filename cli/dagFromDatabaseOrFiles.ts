import type { SerializedDag } from '../core/serialize.ts';
import { DagNotFoundError } from '../core/errors.ts';
import { listImportErrors } from '../db/models/importError.ts';
import { getSerializedDag } from '../db/models/serializedDag.ts';
import { refreshFromFiles } from './refreshFromFiles.ts';
import type { Runtime } from './runtime.ts';

/**
 * A DAG for a CLI command that needs it in the database (`dags backfill`,
 * `dags show`, `tasks list`): when no scheduler has parsed it yet, the dags
 * folder is parsed first (Airflow's CLI reads DAGs from the files).
 * `parseFirst` always parses (`dags test` runs the file as it is now). Parsing
 * runs in the parser processes; the CLI never imports a DAG file itself.
 */
export async function dagFromDatabaseOrFiles(runtime: Runtime, dagId: string, { parseFirst = false } = {}): Promise<SerializedDag> {
  const { knex } = await runtime.db();
  const known = parseFirst ? null : await getSerializedDag(knex, dagId).catch(unlessNotFound);
  if (known) return known;
  await refreshFromFiles(runtime);
  const parsed = await getSerializedDag(knex, dagId).catch(unlessNotFound);
  if (parsed) return parsed;
  // Not in any file that loads: say which files did not load, and where.
  const errors = await listImportErrors(knex);
  if (errors.length === 0) throw new DagNotFoundError(dagId);
  const where = errors.map((e) => `  ${e.filename}${e.line === null ? '' : `:${e.line}`}: ${e.message}`).join('\n');
  throw new DagNotFoundError(dagId, `DAG '${dagId}' is in no DAG file that loads; ${errors.length} file(s) in the dags folder failed to import:\n${where}`);
}

function unlessNotFound(err: unknown): null {
  if (err instanceof DagNotFoundError) return null;
  throw err;
}
