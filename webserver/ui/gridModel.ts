import type { Knex } from 'knex';
import type { SerializedDag } from '../../core/serialize.ts';
import type { DagRunState, TiState } from '../../core/state.ts';
import { latestDagRuns } from '../../db/models/dagRun.ts';
import { taskInstanceCellsOfRuns, type TiCellRow } from '../../db/models/taskInstanceListing.ts';
import type { DagRunRow } from '../../db/rows.ts';
import { isVisible, type GroupInfo } from './taskGroups.ts';

/**
 * The DAG page's grid: the latest runs as columns (oldest left, newest right)
 * and the DAG's tasks as rows in topological order. Two queries whatever the
 * size: the runs, then every task instance of those runs at once; the matrix
 * is built in memory. A task group is a row of its own above its tasks, which
 * are indented under it and hidden while it is closed; its square per run
 * shows the worst state of its tasks there, as Airflow's grid does.
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
  /** Set on an expanded mapped task's cell: how many of its instances are in each state, most urgent first. */
  mapped?: { counts: { state: TiState; count: number }[]; total: number; text: string };
}

export interface GridRow {
  /** The task's id; a group row's group id. */
  taskId: string;
  operator: string;
  /** The task is mapped (expanded at run time into instances 0..N-1): one row for all its instances. */
  mapped?: boolean;
  /** One per run, in the order of GridModel.runs; null where the run has no instance of the task. */
  cells: (GridCell | null)[];
  /** How many groups enclose the row (0 at the DAG's top level). */
  depth: number;
  /** Set on a group's row. */
  group?: { label: string; tooltip: string; open: boolean; taskCount: number };
}

export interface GridModel {
  runs: GridRun[];
  rows: GridRow[];
  /** Tasks in the grid, shown or inside a closed group. */
  taskCount: number;
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
 * A group's state in one run: the most urgent of its tasks' states, in Airflow's order
 * (State.state_priority): failed first, success last; no state sits between restarting and removed.
 */
const STATE_PRIORITY: readonly TiState[] = [
  'failed',
  'upstream_failed',
  'up_for_retry',
  'up_for_reschedule',
  'queued',
  'scheduled',
  'deferred',
  'running',
  'restarting',
  null,
  'removed',
  'skipped',
  'success',
];

const rank = (state: TiState) => (STATE_PRIORITY.includes(state) ? STATE_PRIORITY.indexOf(state) : STATE_PRIORITY.indexOf(null));

/** The most urgent of one or more states (a state unknown to the list counts as no state). */
export function worstState(states: readonly [TiState, ...TiState[]]): TiState {
  return states.reduce((worst, state) => (rank(state) < rank(worst) ? state : worst));
}

/** A task's cell in one run from its rows (one per state); a mapped task's shows the worst state and the counts. */
function cellOf(rows: readonly TiCellRow[]): GridCell {
  if (rows.length === 1 && !rows[0]!.mapped) return { state: rows[0]!.state, tryNumber: rows[0]!.try_number, duration: rows[0]!.duration };
  const counts = rows.map((r) => ({ state: r.state, count: r.count })).sort((a, b) => rank(a.state) - rank(b.state));
  return {
    state: counts[0]!.state,
    tryNumber: Math.max(...rows.map((r) => r.try_number)),
    duration: null,
    // "3 success · 1 failed": the square's title and the polled JSON.
    mapped: { counts, total: counts.reduce((n, c) => n + c.count, 0), text: counts.map((c) => `${c.count} ${c.state ?? 'none'}`).join(' · ') },
  };
}

/** How the grid shows task groups; without it, every task is a row at the top level (the duration charts). */
export interface GridGroupView {
  groups: readonly GroupInfo[];
  expanded: ReadonlySet<string>;
}

/**
 * The matrix, in memory: rows follow the serialized DAG's topological order (a group where its
 * first task is, its members under it); tasks that only old runs know (removed from the DAG since) come last.
 */
export function buildGrid(dag: SerializedDag, runs: readonly DagRunRow[], tis: readonly TiCellRow[], now: Date, view?: GridGroupView): GridModel {
  const column = new Map(runs.map((r, i) => [r.run_id, i]));
  const emptyCells = () => new Array<GridCell | null>(runs.length).fill(null);
  const taskRows: GridRow[] = dag.tasks.map((t) => ({
    taskId: t.taskId,
    operator: t.operator,
    ...(t.expandInput ? { mapped: true } : {}),
    cells: emptyCells(),
    depth: 0,
  }));
  const rowOf = new Map(taskRows.map((r) => [r.taskId, r]));
  const cellRows = new Map<GridRow, TiCellRow[][]>(); // a task's rows per run (a mapped task has one per state)
  for (const ti of tis) {
    const i = column.get(ti.run_id);
    if (i === undefined) continue;
    let row = rowOf.get(ti.task_id);
    if (!row) {
      row = { taskId: ti.task_id, operator: '', cells: emptyCells(), depth: 0 };
      rowOf.set(ti.task_id, row);
      taskRows.push(row);
    }
    if (ti.mapped) row.mapped = true;
    if (!cellRows.has(row)) cellRows.set(row, []);
    (cellRows.get(row)![i] ??= []).push(ti);
  }
  for (const [row, perRun] of cellRows)
    perRun.forEach((rows, i) => {
      row.cells[i] = cellOf(rows); // forEach skips the runs without an instance
    });
  const gridRuns = runs.map((r) => gridRunOf(r, now));
  return {
    runs: gridRuns,
    rows: view && view.groups.length > 0 ? withGroupRows(taskRows, view, runs.length) : taskRows,
    taskCount: taskRows.length,
    active: runs.some((r) => isActiveRun(r.state)),
    maxDuration: Math.max(0, ...gridRuns.map((r) => r.duration ?? 0)),
  };
}

/** Task rows with a row per shown group above its members, indented by depth; members of a closed group left out. */
function withGroupRows(taskRows: readonly GridRow[], { groups, expanded }: GridGroupView, runCount: number): GridRow[] {
  const position = new Map(taskRows.map((r, i) => [r.taskId, i]));
  const innermost = new Map<string, GroupInfo>(); // groups are listed parents first: the last one wins
  for (const g of groups) for (const id of g.taskIds) innermost.set(id, g);
  type Item = { at: number; row: GridRow; group?: GroupInfo };
  const children = new Map<string | null, Item[]>();
  const add = (parent: string | null, item: Item) => children.set(parent, [...(children.get(parent) ?? []), item]);
  for (const row of taskRows) {
    const g = innermost.get(row.taskId);
    add(g?.groupId ?? null, { at: position.get(row.taskId)!, row: { ...row, depth: g ? g.ancestors.length + 1 : 0 } });
  }
  for (const g of groups) {
    const members = g.taskIds.flatMap((id) => (position.has(id) ? [taskRows[position.get(id)!]!] : []));
    const cells = Array.from({ length: runCount }, (_, i): GridCell | null => {
      const states = members.flatMap((m) => (m.cells[i] ? [m.cells[i].state] : []));
      return states.length ? { state: worstState(states as [TiState, ...TiState[]]), tryNumber: 0, duration: null } : null;
    });
    const row: GridRow = {
      taskId: g.groupId,
      operator: '',
      cells,
      depth: g.ancestors.length,
      group: { label: g.label, tooltip: g.tooltip, open: expanded.has(g.groupId), taskCount: g.taskIds.length },
    };
    add(g.ancestors.at(-1) ?? null, { at: Math.min(...g.taskIds.map((id) => position.get(id) ?? Infinity)), row, group: g });
  }
  const out: GridRow[] = [];
  const walk = (parent: string | null) => {
    for (const item of (children.get(parent) ?? []).sort((a, b) => a.at - b.at)) {
      out.push(item.row);
      if (item.group && expanded.has(item.group.groupId) && isVisible(item.group, expanded)) walk(item.group.groupId);
    }
  };
  walk(null);
  return out;
}

export async function loadGrid(knex: Knex, dag: SerializedDag, numRuns: number, now: Date, view?: GridGroupView): Promise<GridModel> {
  const runs = await latestRuns(knex, dag.dagId, numRuns);
  const tis = await taskInstanceCellsOfRuns(
    knex,
    dag.dagId,
    runs.map((r) => r.run_id),
  );
  return buildGrid(dag, runs, tis, now, view);
}

/** The JSON the page polls: run states and a compact [run index][task index] state matrix. */
export function gridJson(grid: GridModel) {
  return {
    active: grid.active,
    runs: grid.runs.map((r) => ({ run_id: r.runId, state: r.state })),
    tasks: grid.rows.map((r) => r.taskId),
    states: grid.runs.map((_, i) => grid.rows.map((row) => row.cells[i]?.state ?? (row.cells[i] ? 'none' : null))),
    /** A mapped cell's counts ("3 success · 1 failed"), null elsewhere: the page keeps the squares' titles current. */
    counts: grid.runs.map((_, i) => grid.rows.map((row) => row.cells[i]?.mapped?.text ?? null)),
  };
}
