/**
 * Airflow 2.10's xcom_pull shapes: what `ti.xcomPull({ taskIds, mapIndexes })`
 * returns, given the stored XComs that match its filters. Pure: the runner
 * reads the rows, this decides single value, list, order and default.
 */
import { AirflowError } from './errors.ts';

/** One stored XCom that matched a pull's task ids, key and map indexes. */
export interface PulledXCom {
  taskId: string;
  mapIndex: number;
  value: unknown;
}

/** Map indexes a pull asks for: one, a list, or every index (undefined). */
export type MapIndexes = number | readonly number[] | undefined;

/** The map indexes to filter on, as a list (undefined: every index); bad input is a clear error. */
export function mapIndexFilter(mapIndexes: MapIndexes): number[] | undefined {
  if (mapIndexes === undefined) return undefined;
  const list = typeof mapIndexes === 'number' ? [mapIndexes] : [...mapIndexes];
  for (const index of list) {
    if (!Number.isInteger(index) || index < -1) throw new AirflowError(`xcomPull: map index ${String(index)} is not an integer >= -1`);
  }
  return list;
}

/**
 * One task id and not a list of map indexes gives one value: that instance's
 * when a map index is given; without one, the unmapped task's value or, for a
 * mapped task, the list of its instances' values in map-index order. `fallback`
 * when nothing matches. A list of task ids or of map indexes gives the list of
 * matching values (missing ones left out), ordered by the task ids as given,
 * then by the map indexes as given (ascending when not given).
 */
export function xcomPullResult(rows: readonly PulledXCom[], taskIds: string | readonly string[], mapIndexes: MapIndexes, fallback?: unknown): unknown {
  if (typeof taskIds === 'string' && !Array.isArray(mapIndexes)) {
    const mine = rows.filter((r) => r.taskId === taskIds);
    if (mine.length === 0) return fallback;
    const unmapped = mine.find((r) => r.mapIndex === -1);
    if (typeof mapIndexes === 'number' || unmapped) return (unmapped ?? mine[0]!).value;
    return [...mine].sort((a, b) => a.mapIndex - b.mapIndex).map((r) => r.value);
  }
  const taskOrder = new Map((typeof taskIds === 'string' ? [taskIds] : taskIds).map((id, i) => [id, i]));
  const indexOrder = Array.isArray(mapIndexes) ? new Map((mapIndexes as readonly number[]).map((index, i) => [index, i])) : undefined;
  const rank = (r: PulledXCom) => indexOrder?.get(r.mapIndex) ?? r.mapIndex;
  return rows
    .filter((r) => taskOrder.has(r.taskId))
    .sort((a, b) => taskOrder.get(a.taskId)! - taskOrder.get(b.taskId)! || rank(a) - rank(b))
    .map((r) => r.value);
}
