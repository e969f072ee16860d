/**
 * The scheduler's verdict for the one fake node: node selector, required node
 * affinity and cpu requests. Cpu is checked per pod, not summed over the pods
 * already on the node, so nothing ever waits for room.
 */
import type { PodJson } from './types.ts';

/** "500m" -> 0.5, "2" -> 2. */
export function parseCpu(quantity: string): number {
  const milli = /^(\d+(?:\.\d+)?)m$/.exec(quantity);
  if (milli) return Number(milli[1]) / 1000;
  const value = Number(quantity);
  if (Number.isNaN(value)) throw new Error(`bad cpu quantity ${quantity}`);
  return value;
}

/** Why the node cannot take this pod, or undefined when it fits. */
export function unschedulable(pod: PodJson, node: { labels: Record<string, string>; cpu: string }): string | undefined {
  const labels = node.labels;
  const selectorFits = Object.entries(pod.spec.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
  const terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const affinityFits =
    !terms ||
    terms.some((term) =>
      (term.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
        const has = Object.hasOwn(labels, key);
        switch (operator) {
          case 'In':
            return has && values.includes(labels[key]!);
          case 'NotIn':
            return !has || !values.includes(labels[key]!);
          case 'Exists':
            return has;
          case 'DoesNotExist':
            return !has;
          case 'Gt':
            return has && Number(labels[key]) > Number(values[0]);
          case 'Lt':
            return has && Number(labels[key]) < Number(values[0]);
          default:
            return false;
        }
      }),
    );
  if (!selectorFits || !affinityFits) return "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.";
  // A container without a cpu request but with a limit requests its limit.
  const cpu = pod.spec.containers.reduce((sum, c) => sum + parseCpu(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu ?? '0'), 0);
  if (cpu > parseCpu(node.cpu)) return '0/1 nodes are available: 1 Insufficient cpu.';
  return undefined;
}
