import { STATE_COLORS } from '../../core/state.ts';
import type { GridModel } from './gridModel.ts';
import { viewHelpers } from './viewHelpers.ts';

/**
 * Geometry of the durations tab's two charts (run durations as bars, each
 * task's duration per run as lines with points), computed here and written as
 * SVG by views/dag/durations.ejs (which escapes every text). Fixed viewBox
 * coordinates; the SVG scales to the width it is given.
 */

export const CHART_WIDTH = 1100;
const PLOT = { left: 72, right: 16, top: 14, bottom: 64 };

export interface AxisTick {
  y: number;
  label: string;
}

export interface XLabel {
  x: number;
  label: string;
}

export interface LegendItem {
  x: number;
  y: number;
  color: string;
  label: string;
}

export interface RunBar {
  runId: string;
  x: number;
  y: number;
  width: number;
  height: number;
  color: string;
  state: string;
  title: string;
}

export interface TaskLine {
  taskId: string;
  color: string;
  /** SVG points attribute for the polyline (runs without a duration are skipped). */
  points: string;
  dots: { x: number; y: number; title: string; runId: string }[];
}

interface Frame {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  yTicks: AxisTick[];
  xLabels: XLabel[];
  yTitle: string;
  legend: LegendItem[];
}

export type RunChart = Frame & { bars: RunBar[] };
export type TaskChart = Frame & { lines: TaskLine[] };

/** Distinct line colours (Tableau 10 + two), cycled when a DAG has more tasks. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#79706e', '#1f77b4', '#8c564b'];

/** A round axis maximum and step (1, 2 or 5 times a power of ten) covering `max` in about `count` steps. */
export function niceScale(max: number, count = 5): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 0.2 };
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  return { max: Math.ceil(max / step - 1e-9) * step, step };
}

const round = (n: number) => Math.round(n * 10) / 10;

/** 'MM-DD HH:mm' of a logical date (UTC). */
function shortDate(date: Date): string {
  return date.toISOString().slice(5, 16).replace('T', ' ');
}

function frame(
  grid: GridModel,
  height: number,
  maxValue: number,
  legendLabels: { color: string; label: string }[],
): Frame & { x: (i: number) => number; y: (v: number) => number; band: number } {
  const legend = legendLayout(legendLabels, PLOT.left, CHART_WIDTH - PLOT.right);
  const legendHeight = legend.length ? legend[legend.length - 1]!.y + 18 : 0;
  const plot = { left: PLOT.left, top: PLOT.top + legendHeight, right: CHART_WIDTH - PLOT.right, bottom: height + legendHeight - PLOT.bottom };
  const n = Math.max(grid.runs.length, 1);
  const band = (plot.right - plot.left) / n;
  const scale = niceScale(maxValue);
  const y = (v: number) => round(plot.bottom - (v / scale.max) * (plot.bottom - plot.top));
  const x = (i: number) => round(plot.left + band * (i + 0.5));
  const yTicks: AxisTick[] = [];
  for (let v = 0; v <= scale.max + 1e-9; v += scale.step) yTicks.push({ y: y(v), label: viewHelpers.duration(v) });
  // Label every k-th run so labels (about 80 px wide when rotated) do not overlap.
  const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor((plot.right - plot.left) / 28))));
  const xLabels = grid.runs.flatMap((r, i) => ((n - 1 - i) % every === 0 ? [{ x: x(i), label: shortDate(r.logicalDate) }] : []));
  return { width: CHART_WIDTH, height: height + legendHeight, plot, yTicks, xLabels, yTitle: 'duration', legend, x, y, band };
}

/** Legend items laid out left to right, wrapping at `right`. */
function legendLayout(items: { color: string; label: string }[], left: number, right: number): LegendItem[] {
  const out: LegendItem[] = [];
  let x = left;
  let y = 0;
  for (const item of items) {
    const width = 22 + Math.min(item.label.length, 40) * 6.6 + 14;
    if (x + width > right && x > left) {
      x = left;
      y += 18;
    }
    out.push({ x: round(x), y, color: item.color, label: item.label.length > 40 ? `${item.label.slice(0, 39)}…` : item.label });
    x += width;
  }
  return out;
}

/** One bar per run, its height the run's duration, coloured by the run's state. */
export function runDurationChart(grid: GridModel): RunChart {
  const states = [...new Set(grid.runs.map((r) => r.state))].sort();
  const legend = states.map((s) => ({ color: STATE_COLORS[s as keyof typeof STATE_COLORS] ?? STATE_COLORS.none, label: s }));
  const f = frame(grid, 250, Math.max(0, ...grid.runs.map((r) => r.duration ?? 0)), legend);
  const width = round(Math.min(40, Math.max(2, f.band * 0.7)));
  const bars = grid.runs.map((r, i) => {
    const top = f.y(r.duration ?? 0);
    return {
      runId: r.runId,
      x: round(f.x(i) - width / 2),
      y: top,
      width,
      height: round(Math.max(r.duration ? 1 : 0, f.plot.bottom - top)),
      color: STATE_COLORS[r.state as keyof typeof STATE_COLORS] ?? STATE_COLORS.none,
      state: r.state,
      title: `${r.runId} · ${r.state} · ${viewHelpers.duration(r.duration)}`,
    };
  });
  const { x: _x, y: _y, band: _band, ...rest } = f;
  return { ...rest, bars };
}

/** Each task's duration per run: a line through the runs where it has a duration, with a point per run. */
export function taskDurationChart(grid: GridModel): TaskChart {
  const legend = grid.rows.map((row, i) => ({ color: PALETTE[i % PALETTE.length]!, label: row.taskId }));
  const max = Math.max(0, ...grid.rows.flatMap((row) => row.cells.map((c) => c?.duration ?? 0)));
  const f = frame(grid, 300, max, legend);
  const lines = grid.rows.map((row, t) => {
    const dots = row.cells.flatMap((c, i) =>
      c && c.duration !== null
        ? [{ x: f.x(i), y: f.y(c.duration), runId: grid.runs[i]!.runId, title: `${row.taskId} · ${grid.runs[i]!.runId} · ${viewHelpers.duration(c.duration)}` }]
        : [],
    );
    return { taskId: row.taskId, color: PALETTE[t % PALETTE.length]!, points: dots.map((d) => `${d.x},${d.y}`).join(' '), dots };
  });
  const { x: _x, y: _y, band: _band, ...rest } = f;
  return { ...rest, lines };
}
