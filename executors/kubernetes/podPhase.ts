import type { V1Pod } from '@kubernetes/client-node';

/**
 * What a pod's status means for its task try: still coming, running, or
 * over (with why). Kubernetes reports a pod that can never start as merely
 * Pending, so the reasons below are what turns such a pod into a failed try.
 */
export type PodOutcome =
  | { kind: 'pending'; unschedulable: string | null }
  | { kind: 'running' }
  | { kind: 'succeeded'; info: string }
  | { kind: 'failed'; info: string; neverStarted: boolean };

/** Container waiting reasons after which a pod will not start without someone changing something (Airflow's list, plus back-off). */
const FATAL_WAITING_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ImageInspectError',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

export function podOutcome(pod: V1Pod): PodOutcome {
  const name = pod.metadata?.name ?? '?';
  const phase = pod.status?.phase ?? 'Pending';
  const container = pod.status?.containerStatuses?.[0];
  const terminated = container?.state?.terminated;
  const ending = terminated
    ? `container ${container.name} exited with code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}${terminated.message ? `: ${terminated.message}` : ''}`
    : '';
  switch (phase) {
    case 'Succeeded':
      return { kind: 'succeeded', info: `pod ${name} succeeded${ending ? `: ${ending}` : ''}` };
    case 'Failed':
      return {
        kind: 'failed',
        info: `pod ${name} failed${ending ? `: ${ending}` : pod.status?.reason ? `: ${pod.status.reason} ${pod.status.message ?? ''}`.trimEnd() : ''}`,
        neverStarted: false,
      };
    case 'Running':
      return { kind: 'running' };
    case 'Unknown':
      return { kind: 'pending', unschedulable: null };
    default: {
      const waiting = pod.status?.containerStatuses?.map((c) => c.state?.waiting).find((w) => w?.reason && FATAL_WAITING_REASONS.has(w.reason));
      if (waiting)
        return { kind: 'failed', info: `pod ${name} cannot start: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`, neverStarted: true };
      const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
      const unschedulable =
        scheduled?.status === 'False' && scheduled.reason === 'Unschedulable'
          ? `pod ${name} is unschedulable: ${scheduled.message ?? 'no reason given'}`
          : null;
      return { kind: 'pending', unschedulable };
    }
  }
}
