import { rootTaskGroup, type SerializedDag, type SerializedTaskGroup } from '../../core/serialize.ts';

/**
 * Which task groups the graph and the grid show open. The state travels in the URL
 * (`?expand=extract,transform.clean`, every open group listed; `?expand=` for none), so it works
 * without JavaScript and a link shows what its sender saw. Without the parameter: every group
 * is open when the DAG has at most EXPAND_ALL_MAX_TASKS tasks, every group closed otherwise (a
 * large DAG opens as one box per top-level group, as Airflow's graph does).
 */

export const EXPAND_ALL_MAX_TASKS = 30;

/** A group with everything the views need about it, found by walking the serialized tree. */
export interface GroupInfo {
  groupId: string;
  label: string;
  tooltip: string;
  /** Enclosing groups, outermost first. */
  ancestors: string[];
  /** Every task of the group and of its nested groups, in the DAG's topological order. */
  taskIds: string[];
}

/** Every group of the DAG, parents before their children. */
export function groupsOf(dag: SerializedDag): GroupInfo[] {
  const order = new Map(dag.tasks.map((t, i) => [t.taskId, i]));
  const out: GroupInfo[] = [];
  const walk = (group: SerializedTaskGroup, ancestors: string[]): string[] => {
    const own = [...group.taskIds];
    for (const child of group.groups) {
      const info: GroupInfo = { groupId: child.groupId!, label: child.label ?? child.groupId!, tooltip: child.tooltip, ancestors, taskIds: [] };
      out.push(info);
      info.taskIds = walk(child, [...ancestors, child.groupId!]).sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
      own.push(...info.taskIds);
    }
    return own;
  };
  walk(rootTaskGroup(dag), []);
  return out;
}

/** The open groups: those `?expand=` names (unknown ids ignored), else the default for the DAG's size. */
export function expandedGroups(dag: SerializedDag, groups: readonly GroupInfo[], expand: unknown): Set<string> {
  if (typeof expand === 'string') {
    const known = new Set(groups.map((g) => g.groupId));
    return new Set(expand.split(',').filter((id) => known.has(id)));
  }
  return new Set(dag.tasks.length <= EXPAND_ALL_MAX_TASKS ? groups.map((g) => g.groupId) : []);
}

/** A group is shown (as a box or a row) when every enclosing group is open. */
export function isVisible(group: GroupInfo, expanded: ReadonlySet<string>): boolean {
  return group.ancestors.every((id) => expanded.has(id));
}

/** The `expand` value after opening or closing one group (closing keeps the nested groups' own state). */
export function toggledExpand(expanded: ReadonlySet<string>, groupId: string): string {
  const next = new Set(expanded);
  if (next.has(groupId)) next.delete(groupId);
  else next.add(groupId);
  return [...next].sort().join(',');
}

/** Each task's outermost closed group, for the tasks hidden inside one. */
export function collapsedOwner(groups: readonly GroupInfo[], expanded: ReadonlySet<string>): Map<string, string> {
  const owner = new Map<string, string>();
  for (const g of groups) {
    if (expanded.has(g.groupId) || !isVisible(g, expanded)) continue;
    for (const taskId of g.taskIds) owner.set(taskId, g.groupId);
  }
  return owner;
}

/** `path?params&expand=...`: empty params left out, `expand` always written (empty means every group closed). */
export function expandHref(path: string, params: Record<string, string | number | null | undefined>, expand: string): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  q.set('expand', expand);
  return `${path}?${q.toString().replace(/%2C/g, ',')}`;
}
