import { existsSync } from 'node:fs';
import type { Knex } from 'knex';
import { nextDagRunColumns, nextDagRunInfo, timetableOf } from '../core/nextDagRun.ts';
import { dagHash, type SerializedDag } from '../core/serialize.ts';
import { saveSource } from './models/dagCode.ts';
import { lastAutomatedDataInterval } from './models/dagRun.ts';
import type { ImportProblemRow } from './models/importError.ts';

/**
 * What the DAG file processor writes: a file's DAGs, its import error, or its
 * removal. Each function is one transaction, so readers (webserver, scheduler)
 * never see a file half-recorded, and two processors writing the same file
 * converge on the same rows.
 */

/**
 * Records a successfully parsed file: upserts its DAGs, rewrites serialized_dag
 * only where the hash changed, deactivates DAGs the file no longer defines and
 * clears its import error. Returns the ids whose serialized form changed, or
 * an import problem if one of its DAG ids belongs to another existing file.
 */
export async function recordParsedFile(
  knex: Knex,
  args: { file: string; dags: SerializedDag[]; source: string; parsedAt: Date; pausedAtCreation: boolean; catchupByDefault: boolean },
): Promise<{ changed: string[]; problem: ImportProblemRow | null }> {
  const { file, dags, source, parsedAt, pausedAtCreation, catchupByDefault } = args;
  return knex.transaction(async (trx) => {
    const ids = dags.map((d) => d.dagId);
    const owners = await trx('dag').whereIn('dag_id', ids).andWhere('is_active', true).whereNot('fileloc', file).select('dag_id', 'fileloc');
    const clash = owners.find((o: { fileloc: string }) => existsSync(o.fileloc));
    if (clash) {
      const problem = {
        message: `DAG id '${clash.dag_id}' is already defined in ${clash.fileloc}; rename one of them (DAG ids must be unique across the dags folder)`,
        line: dags.find((d) => d.dagId === clash.dag_id)?.line ?? null,
        stacktrace: '',
      };
      problem.stacktrace = problem.message;
      await recordProblem(trx, file, source, parsedAt, problem);
      return { changed: [], problem };
    }

    const changed: string[] = [];
    for (const dag of dags) {
      await trx('dag')
        .insert({ ...dagColumns(dag, file, parsedAt), is_paused: dag.isPausedUponCreation ?? pausedAtCreation })
        .onConflict('dag_id')
        .merge(Object.keys(dagColumns(dag, file, parsedAt)));
      const hash = dagHash(dag);
      const written = await trx.raw(
        `INSERT INTO serialized_dag (dag_id, fileloc, data, dag_hash, last_updated) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (dag_id) DO UPDATE SET fileloc = EXCLUDED.fileloc, data = EXCLUDED.data, dag_hash = EXCLUDED.dag_hash, last_updated = EXCLUDED.last_updated
         WHERE serialized_dag.dag_hash <> EXCLUDED.dag_hash
         RETURNING dag_id`,
        [dag.dagId, file, JSON.stringify(dag), hash, parsedAt],
      );
      if (written.rows.length > 0) {
        changed.push(dag.dagId);
        // A new or changed schedule: recompute when the next run is due (Airflow does this while parsing too).
        const next = nextDagRunInfo(dag, await lastAutomatedDataInterval(trx, dag.dagId), parsedAt, catchupByDefault);
        await trx('dag').where('dag_id', dag.dagId).update(nextDagRunColumns(next));
      }
    }
    await trx('dag').where('fileloc', file).whereNotIn('dag_id', ids).update({ is_active: false });
    await trx('import_error').where('filename', file).delete();
    await saveSource(trx, file, source, parsedAt);
    return { changed, problem: null };
  });
}

/** Records (or replaces) the import error of a file; its DAGs keep their last good version. */
export async function recordImportError(knex: Knex, args: { file: string; source: string | null; parsedAt: Date; problem: ImportProblemRow }): Promise<void> {
  await knex.transaction((trx) => recordProblem(trx, args.file, args.source, args.parsedAt, args.problem));
}

async function recordProblem(trx: Knex.Transaction, file: string, source: string | null, parsedAt: Date, problem: ImportProblemRow): Promise<void> {
  await trx('import_error')
    .insert({ filename: file, timestamp: parsedAt, message: problem.message, line: problem.line, stacktrace: problem.stacktrace })
    .onConflict('filename')
    .merge();
  await trx('dag').where('fileloc', file).update({ has_import_errors: true, last_parsed_time: parsedAt });
  if (source !== null) await saveSource(trx, file, source, parsedAt);
}

/** A file that was deleted (or is no longer a DAG file): its DAGs become inactive, its error goes. */
export async function recordFileRemoved(knex: Knex, file: string): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx('dag').where('fileloc', file).update({ is_active: false });
    await trx('import_error').where('filename', file).delete();
    await trx('dag_code').where('fileloc', file).delete();
  });
}

/**
 * After a full scan: everything recorded for files outside `existing` (deleted
 * while nobody watched) is deactivated, under the scanned folders only.
 */
export async function recordMissingFiles(knex: Knex, folders: string[], existing: string[]): Promise<string[]> {
  const under = (column: string) => (qb: Knex.QueryBuilder) => {
    for (const folder of folders) qb.orWhere(column, 'like', `${folder.replace(/[\\%_]/g, '\\$&')}/%`);
  };
  const known = new Set(existing);
  const recorded = [
    ...((await knex('dag').where('is_active', true).where(under('fileloc')).distinct().pluck('fileloc')) as string[]),
    ...((await knex('import_error').where(under('filename')).pluck('filename')) as string[]),
  ];
  const missing = [...new Set(recorded.filter((f) => !known.has(f)))];
  for (const file of missing) await recordFileRemoved(knex, file);
  return missing;
}

function dagColumns(dag: SerializedDag, file: string, parsedAt: Date) {
  return {
    dag_id: dag.dagId,
    fileloc: file,
    is_active: true,
    has_import_errors: false,
    last_parsed_time: parsedAt,
    owners: dag.owners.join(', ') || 'airflow',
    description: dag.description,
    tags: dag.tags,
    schedule: JSON.stringify(dag.schedule),
    timetable_summary: timetableOf(dag).summary,
    timezone: dag.timezone,
    max_active_runs: dag.maxActiveRuns,
    max_active_tasks: dag.maxActiveTasks,
  };
}
