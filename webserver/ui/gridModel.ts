import type { Knex } from 'knex';
import type { SerializedDag } from '../../core/serialize.ts';
import type { DagRunState, TiState } from '../../core/state.ts';
import { latestDagRuns } from '../../db/models/dagRun.ts';
import { taskInstanceCellsOfRuns, type TiCellRow } from '../../db/models/taskInstance.ts';
import type { DagRunRow } from '../../db/rows.ts';

/**
 * The DAG page's grid: the latest runs as columns (oldest left, newest right)
 * and the DAG's tasks as rows in topological order. Two queries whatever the
 * size: the runs, then every task instance of those runs at once; the matrix
 * is built in memory.
 */

export const DEFAULT_NUM_RUNS = 25;
export const MAX_NUM_RUNS = 365;

export interface GridRun {
  runId: string;
  state: DagRunState;
  runType: DagRunRow['run_type'];
  logicalDate: Date;
  dataIntervalStart: Date | null;
  dataIntervalEnd: Date | null;
  startDate: Date | null;
  endDate: Date | null;
  /** Seconds; for a run still going, so far. */
  duration: number | null;
  conf: Record<string, unknown>;
}

export interface GridCell {
  state: TiState;
  tryNumber: number;
  duration: number | null;
}

export interface GridRow {
  taskId: string;
  operator: string;
  /** One per run, in the order of GridModel.runs; null where the run has no instance of the task. */
  cells: (GridCell | null)[];
}

export interface GridModel {
  runs: GridRun[];
  rows: GridRow[];
  /** A run is queued or running: the page keeps polling. */
  active: boolean;
  /** Longest run duration, for the header bars. */
  maxDuration: number;
}

/** ?num_runs= clamped to 1..MAX_NUM_RUNS (default 25). */
export function parseNumRuns(value: unknown): number {
  const n = typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : DEFAULT_NUM_RUNS;
  return Math.min(Math.max(n, 1), MAX_NUM_RUNS);
}

export function runDuration(run: Pick<DagRunRow, 'start_date' | 'end_date'>, now: Date): number | null {
  if (!run.start_date) return null;
  return Math.max(0, ((run.end_date ?? now).getTime() - run.start_date.getTime()) / 1000);
}

/** A run as the grid's header and the selected-run panel show it. */
export function gridRunOf(run: DagRunRow, now: Date): GridRun {
  return {
    runId: run.run_id,
    state: run.state,
    runType: run.run_type,
    logicalDate: run.logical_date,
    dataIntervalStart: run.data_interval_start,
    dataIntervalEnd: run.data_interval_end,
    startDate: run.start_date,
    endDate: run.end_date,
    duration: runDuration(run, now),
    conf: run.conf,
  };
}

export function isActiveRun(state: string): boolean {
  return state === 'queued' || state === 'running';
}

/** The latest `numRuns` runs of the DAG by logical date, oldest first. */
export async function latestRuns(knex: Knex, dagId: string, numRuns: number): Promise<DagRunRow[]> {
  return (await latestDagRuns(knex, dagId, numRuns)).reverse();
}

/**
 * The matrix, in memory: rows follow the serialized DAG's topological order;
 * tasks that only old runs know (removed from the DAG since) come last.
 */
export function buildGrid(dag: SerializedDag, runs: readonly DagRunRow[], tis: readonly TiCellRow[], now: Date): GridModel {
  const column = new Map(runs.map((r, i) => [r.run_id, i]));
  const rows: GridRow[] = dag.tasks.map((t) => ({ taskId: t.taskId, operator: t.operator, cells: new Array<GridCell | null>(runs.length).fill(null) }));
  const rowOf = new Map(rows.map((r) => [r.taskId, r]));
  for (const ti of tis) {
    const i = column.get(ti.run_id);
    if (i === undefined) continue;
    let row = rowOf.get(ti.task_id);
    if (!row) {
      row = { taskId: ti.task_id, operator: '', cells: new Array<GridCell | null>(runs.length).fill(null) };
      rowOf.set(ti.task_id, row);
      rows.push(row);
    }
    row.cells[i] = { state: ti.state, tryNumber: ti.try_number, duration: ti.duration };
  }
  const gridRuns = runs.map((r) => gridRunOf(r, now));
  return {
    runs: gridRuns,
    rows,
    active: runs.some((r) => isActiveRun(r.state)),
    maxDuration: Math.max(0, ...gridRuns.map((r) => r.duration ?? 0)),
  };
}

export async function loadGrid(knex: Knex, dag: SerializedDag, numRuns: number, now: Date): Promise<GridModel> {
  const runs = await latestRuns(knex, dag.dagId, numRuns);
  const tis = await taskInstanceCellsOfRuns(
    knex,
    dag.dagId,
    runs.map((r) => r.run_id),
  );
  return buildGrid(dag, runs, tis, now);
}

/** The JSON the page polls: run states and a compact [run index][task index] state matrix. */
export function gridJson(grid: GridModel) {
  return {
    active: grid.active,
    runs: grid.runs.map((r) => ({ run_id: r.runId, state: r.state })),
    tasks: grid.rows.map((r) => r.taskId),
    states: grid.runs.map((_, i) => grid.rows.map((row) => row.cells[i]?.state ?? (row.cells[i] ? 'none' : null))),
  };
}
