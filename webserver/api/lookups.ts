import type { Knex } from 'knex';
import type { SerializedDag } from '../../core/serialize.ts';
import { dagExists } from '../../db/models/dag.ts';
import { dagRunExists, findDagRun } from '../../db/models/dagRun.ts';
import { getSerializedDag } from '../../db/models/serializedDag.ts';
import type { DagRunRow } from '../../db/rows.ts';
import { notFound } from './problems.ts';

/** 404 unless the DAG (when not `~`) and the run (when not `~`) exist. */
export async function checkDagAndRun(knex: Knex, dagId: string, runId: string): Promise<void> {
  if (dagId !== '~' && !(await dagExists(knex, dagId))) throw notFound(`DAG '${dagId}' not found`);
  if (runId === '~') return;
  if (!(await dagRunExists(knex, dagId === '~' ? undefined : dagId, runId)))
    throw notFound(dagId === '~' ? `No DAG has a run '${runId}'` : `DAG '${dagId}' has no run '${runId}'`);
}

/** The serialized DAG and its run; 404 for either. */
export async function dagAndRun(knex: Knex, dagId: string, runId: string): Promise<{ dag: SerializedDag; run: DagRunRow }> {
  const dag = await getSerializedDag(knex, dagId);
  const run = await findDagRun(knex, dagId, runId);
  if (!run) throw notFound(`DAG '${dagId}' has no run '${runId}'`);
  return { dag, run };
}
