import { createHash } from 'node:crypto';
import type { TaskWorkload } from '../db/taskWorkload.ts';

/**
 * How a task pod is named and labelled, and how a pod leads back to its task
 * instance. Labels (for selecting) use Airflow's names so existing dashboards
 * and `kubectl get pods -l dag_id=…` habits carry over; values are made safe
 * for Kubernetes and may be hashed. Annotations carry the exact ids.
 */

export const LABEL_EXECUTOR = 'kubernetes_executor';
export const LABEL_SCHEDULER = 'airflow-worker';
const ANNOTATION_TI_ID = 'airflow-ts/ti-id';

/** The identity of one try, as carried on its pod. */
export interface PodKey {
  tiId: number;
  tryNumber: number;
}

export const keyOf = (w: PodKey): string => `${w.tiId}.${w.tryNumber}`;

const MAX_LABEL = 63;

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * A valid label value: at most 63 characters of [A-Za-z0-9._-], starting and
 * ending alphanumeric. A value that had to change (characters dropped, cut
 * short) gets a hash of the original, so two different ids never share one.
 */
export function safeLabelValue(value: string): string {
  if (value.length <= MAX_LABEL && /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value)) return value;
  const cleaned = value
    .replace(/[^-A-Za-z0-9_.]/g, '')
    .slice(0, MAX_LABEL - 11)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return `${cleaned ? `${cleaned}-` : ''}h${shortHash(value, 9)}`;
}

/** Lower-case letters, digits and single dashes, as a DNS label wants. */
function dnsPart(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * `<dag>-<task>-<hash>-<try>`: a valid DNS label (the pod's hostname), at most
 * 63 characters, the same for the same try and different for any other task
 * instance or try. Being deterministic, a second create of the same try is
 * refused by the API server (409) instead of starting a duplicate pod.
 */
export function podName(w: Pick<TaskWorkload, 'dagId' | 'taskId' | 'runId' | 'mapIndex' | 'tryNumber'>): string {
  const suffix = `${shortHash(JSON.stringify([w.dagId, w.taskId, w.runId, w.mapIndex]), 10)}-${w.tryNumber}`;
  const readable = dnsPart(`${dnsPart(w.dagId)}-${dnsPart(w.taskId)}`)
    .slice(0, MAX_LABEL - suffix.length - 1)
    .replace(/-+$/, '');
  return readable ? `${readable}-${suffix}` : `task-${suffix}`;
}

/** Labels of a task pod; `schedulerJobId` is the scheduler that watches it. */
export function podLabels(w: TaskWorkload, schedulerJobId: number | null): Record<string, string> {
  return {
    [LABEL_EXECUTOR]: 'True',
    [LABEL_SCHEDULER]: String(schedulerJobId ?? 'none'),
    dag_id: safeLabelValue(w.dagId),
    task_id: safeLabelValue(w.taskId),
    run_id: safeLabelValue(w.runId),
    try_number: String(w.tryNumber),
    ...(w.mapIndex >= 0 ? { map_index: String(w.mapIndex) } : {}),
  };
}

/** The label selector of one try's pod (for reading its log): one mapped instance's, or (no map_index label) an unmapped one's. */
export function podSelector(ti: { dagId: string; taskId: string; runId: string; mapIndex: number; tryNumber: number }): string {
  return [
    `${LABEL_EXECUTOR}=True`,
    `dag_id=${safeLabelValue(ti.dagId)}`,
    `task_id=${safeLabelValue(ti.taskId)}`,
    `run_id=${safeLabelValue(ti.runId)}`,
    `try_number=${ti.tryNumber}`,
    ti.mapIndex >= 0 ? `map_index=${ti.mapIndex}` : '!map_index',
  ].join(',');
}

export function podAnnotations(w: TaskWorkload): Record<string, string> {
  return {
    dag_id: w.dagId,
    task_id: w.taskId,
    run_id: w.runId,
    try_number: String(w.tryNumber),
    map_index: String(w.mapIndex),
    [ANNOTATION_TI_ID]: String(w.tiId),
  };
}

/** Which try a pod runs, from its annotations; null for a pod that is not a task pod. */
export function podKeyOf(pod: { metadata?: { annotations?: Record<string, string> } }): PodKey | null {
  const tiId = Number(pod.metadata?.annotations?.[ANNOTATION_TI_ID]);
  const tryNumber = Number(pod.metadata?.annotations?.try_number);
  return Number.isInteger(tiId) && Number.isInteger(tryNumber) ? { tiId, tryNumber } : null;
}

/** The exact task-instance ids of a pod, from its annotations. */
export function podTaskInstance(pod: {
  metadata?: { annotations?: Record<string, string> };
}): { dagId: string; taskId: string; runId: string; mapIndex: number } | null {
  const a = pod.metadata?.annotations;
  if (!a?.dag_id || !a.task_id || !a.run_id) return null;
  return { dagId: a.dag_id, taskId: a.task_id, runId: a.run_id, mapIndex: Number(a.map_index ?? -1) };
}
