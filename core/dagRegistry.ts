/**
 * The DAGs a DAG file constructed, as Airflow's DagContext.autoregistered_dags:
 * every `new DAG()` registers itself, and the DAG file parser takes the list
 * after importing a file.
 */
import type { DAG } from './dag.ts';

const CREATED_DAGS = Symbol.for('airflow-ts.createdDags');

/** Called by the DAG constructor. */
export function registerCreatedDag(dag: DAG): void {
  createdDags().push(dag);
}

/** Returns, and forgets, the DAGs constructed since the last call (used by the DAG file parser). */
export function takeCreatedDags(): DAG[] {
  const list = createdDags();
  return list.splice(0, list.length);
}

// On globalThis so that every copy of this module shares one list.
function createdDags(): DAG[] {
  const g = globalThis as Record<symbol, unknown>;
  return (g[CREATED_DAGS] ??= []) as DAG[];
}
