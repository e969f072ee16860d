import dagre, { type Edge, type Point } from '@dagrejs/dagre';
import type { SerializedDag } from '../../core/serialize.ts';

/**
 * The DAG as boxes and arrows, laid out on the server with dagre (left to
 * right, as Airflow's graph view). This module only computes geometry; the
 * view (views/dag/graph.ejs) writes the SVG with every text escaped by ejs.
 */

export interface GraphNode {
  taskId: string;
  operator: string;
  /** Top-left corner and size. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** SVG path data ("M x y L x y ..."), ending at the target box's border. */
  d: string;
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const NODE_HEIGHT = 54;
const CHAR_WIDTH = 7.2;
const PADDING = 16;
const MARGIN = 12;

/** Text width estimate for the 12-13 px sans-serif labels (no font metrics on the server). */
function nodeWidth(taskId: string, operator: string): number {
  // Third line: the state, at most 'up_for_reschedule' (17 characters).
  return Math.ceil(Math.max(120, taskId.length * CHAR_WIDTH + 2 * PADDING, Math.max(operator.length, 17) * 6.2 + 2 * PADDING));
}

const round = (n: number) => Math.round(n * 10) / 10;

export function layoutGraph(dag: Pick<SerializedDag, 'tasks'>): GraphLayout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 48, edgesep: 10, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const t of dag.tasks) g.setNode(t.taskId, { width: nodeWidth(t.taskId, t.operator), height: NODE_HEIGHT });
  const known = new Set(dag.tasks.map((t) => t.taskId));
  for (const t of dag.tasks) for (const down of t.downstreamTaskIds) if (known.has(down)) g.setEdge(t.taskId, down);
  dagre.layout(g);
  const nodes = dag.tasks.map((t) => {
    const n = g.node(t.taskId);
    return { taskId: t.taskId, operator: t.operator, x: round(n.x - n.width / 2), y: round(n.y - n.height / 2), width: n.width, height: n.height };
  });
  const edges = g.edges().map((e: Edge) => {
    const points: Point[] = g.edge(e)?.points ?? [];
    const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${round(p.x)} ${round(p.y)}`).join(' ');
    return { from: e.v, to: e.w, d };
  });
  const graph = g.graph();
  return { width: Math.ceil(graph.width ?? 0), height: Math.ceil(graph.height ?? 0), nodes, edges };
}
