import type { Knex } from 'knex';
import { DagNotFoundError } from '../../core/errors.ts';
import type { SerializedDag } from '../../core/serialize.ts';

/** The `serialized_dag` table: each DAG's JSON structure, as the DAG processor stored it. */

export async function getSerializedDag(knex: Knex, dagId: string): Promise<SerializedDag> {
  const row = await knex('serialized_dag').where('dag_id', dagId).first('data');
  if (!row) throw new DagNotFoundError(dagId);
  return row.data as SerializedDag;
}

/**
 * Serialized DAGs by hash. The scheduler and workers look DAGs up on every
 * pass or task; reading and parsing the JSON (large for big DAGs) only when
 * the hash changed keeps that cheap. One small query checks the hash.
 */
const cache = new Map<string, { hash: string; dag: SerializedDag }>();

export async function getSerializedDagCached(knex: Knex | Knex.Transaction, dagId: string, knownHash?: string): Promise<SerializedDag | null> {
  const hash = knownHash ?? (await knex('serialized_dag').where('dag_id', dagId).first('dag_hash'))?.dag_hash;
  if (!hash) return null;
  const cached = cache.get(dagId);
  if (cached && cached.hash === hash) return cached.dag;
  const row = await knex('serialized_dag').where('dag_id', dagId).first('data', 'dag_hash');
  if (!row) return null;
  cache.set(dagId, { hash: row.dag_hash, dag: row.data as SerializedDag });
  return row.data as SerializedDag;
}
