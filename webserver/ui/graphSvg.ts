import dagre, { type Edge, type Point } from '@dagrejs/dagre';
import type { SerializedDag } from '../../core/serialize.ts';
import { collapsedOwner, isVisible, type GroupInfo } from './taskGroups.ts';

/**
 * The DAG as boxes and arrows, laid out on the server with dagre (left to
 * right, as Airflow's graph view). This module only computes geometry; the
 * view (views/dag/graph.ejs) writes the SVG with every text escaped by ejs.
 * An open task group is a dagre compound node (a box around its tasks and
 * nested groups); a closed one is a single node that takes the edges of its
 * tasks, merged, as Airflow's graph draws it.
 */

export interface GraphNode {
  taskId: string;
  operator: string;
  /** A mapped task: its label is followed by its instance count in the shown run ("[8]", "[ ]" before it expands). */
  mapped: boolean;
  /** Top-left corner and size. */
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A task group: a box around its members when open, a node like a task's when closed. */
export interface GraphGroup {
  groupId: string;
  label: string;
  tooltip: string;
  collapsed: boolean;
  /** Every task inside, for the closed node's state counts. */
  taskIds: string[];
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphEdge {
  /** Task or (closed) group ids. */
  from: string;
  to: string;
  /** SVG path data ("M x y L x y ..."), ending at the target box's border. */
  d: string;
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: GraphNode[];
  /** Open groups outermost first (so inner boxes are drawn over outer ones), then closed groups. */
  groups: GraphGroup[];
  edges: GraphEdge[];
}

const NODE_HEIGHT = 54;
const CHAR_WIDTH = 7.2;
const PADDING = 16;
const MARGIN = 12;

/** Room after a mapped task's label for its count, up to ' [10000]'. */
const MAPPED_MARK_CHARS = 8;

/** Text width estimate for the 12-13 px sans-serif labels (no font metrics on the server). */
function nodeWidth(taskId: string, operator: string, mapped = false): number {
  // Third line: the state, at most 'up_for_reschedule' (17 characters).
  const label = taskId.length + (mapped ? MAPPED_MARK_CHARS : 0);
  return Math.ceil(Math.max(120, label * CHAR_WIDTH + 2 * PADDING, Math.max(operator.length, 17) * 6.2 + 2 * PADDING));
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Room for the closed group's counts line at 10 px ('1 failed · 1 success · 1 upstream_failed'). */
const GROUP_NODE_MIN_WIDTH = 260;

export function layoutGraph(dag: Pick<SerializedDag, 'tasks'>, groups: readonly GroupInfo[] = [], expanded: ReadonlySet<string> = new Set()): GraphLayout {
  const visibleGroups = groups.filter((gr) => isVisible(gr, expanded));
  // An empty group (no tasks yet) has nothing to draw a box around: it is drawn closed.
  const isOpen = (gr: GroupInfo) => expanded.has(gr.groupId) && gr.taskIds.length > 0;
  const open = visibleGroups.filter(isOpen);
  const closed = visibleGroups.filter((gr) => !isOpen(gr));
  const owner = collapsedOwner(groups, expanded);
  // A task's innermost group; groups are listed parents first, so the last match is the innermost.
  const parentOf = new Map<string, string>();
  for (const gr of groups) for (const id of gr.taskIds) parentOf.set(id, gr.groupId);
  const groupParent = new Map(groups.map((gr) => [gr.groupId, gr.ancestors.at(-1)]));

  const grouped = open.length > 0;
  const g = new dagre.graphlib.Graph({ compound: grouped });
  // dagre keeps a group's border (nodesep + edgesep) / 2 from its tasks and edgesep from a nested group's
  // border: with groups open both leave room for the group's label above its members.
  g.setGraph({ rankdir: 'LR', nodesep: grouped ? 28 : 18, ranksep: 48, edgesep: grouped ? 20 : 10, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const gr of open) {
    g.setNode(gr.groupId, {});
    const parent = groupParent.get(gr.groupId);
    if (parent) g.setParent(gr.groupId, parent);
  }
  for (const gr of closed) {
    g.setNode(gr.groupId, { width: Math.max(GROUP_NODE_MIN_WIDTH, nodeWidth(gr.label, '')), height: NODE_HEIGHT });
    const parent = groupParent.get(gr.groupId);
    if (parent) g.setParent(gr.groupId, parent);
  }
  const shown = dag.tasks.filter((t) => !owner.has(t.taskId));
  for (const t of shown) {
    g.setNode(t.taskId, { width: nodeWidth(t.taskId, t.operator, Boolean(t.expandInput)), height: NODE_HEIGHT });
    const parent = parentOf.get(t.taskId);
    if (parent && grouped) g.setParent(t.taskId, parent);
  }
  // Edges into and out of a closed group become one edge per neighbour; edges inside it vanish.
  const known = new Set(dag.tasks.map((t) => t.taskId));
  const end = (taskId: string) => owner.get(taskId) ?? taskId;
  for (const t of dag.tasks) {
    for (const down of t.downstreamTaskIds) {
      if (!known.has(down)) continue;
      const [from, to] = [end(t.taskId), end(down)];
      if (from !== to) g.setEdge(from, to);
    }
  }
  dagre.layout(g);
  const box = (id: string) => {
    const n = g.node(id);
    return { x: round(n.x - n.width / 2), y: round(n.y - n.height / 2), width: round(n.width), height: round(n.height) };
  };
  const nodes = shown.map((t) => ({ taskId: t.taskId, operator: t.operator, mapped: Boolean(t.expandInput), ...box(t.taskId) }));
  const groupBoxes = [...open, ...closed].map((gr) => ({
    groupId: gr.groupId,
    label: gr.label,
    tooltip: gr.tooltip,
    collapsed: !isOpen(gr),
    taskIds: gr.taskIds,
    ...box(gr.groupId),
  }));
  const edges = g.edges().map((e: Edge) => {
    const points: Point[] = g.edge(e)?.points ?? [];
    const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${round(p.x)} ${round(p.y)}`).join(' ');
    return { from: e.v, to: e.w, d };
  });
  const graph = g.graph();
  return { width: Math.ceil(graph.width ?? 0), height: Math.ceil(graph.height ?? 0), nodes, groups: groupBoxes, edges };
}

/** A closed group's line of state counts for one run, most frequent first ('3 success · 1 failed'). */
export function stateCounts(taskIds: readonly string[], states: Readonly<Record<string, string>>): [string, number][] {
  const counts = new Map<string, number>();
  for (const id of taskIds) {
    const state = states[id] ?? 'no instance';
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
