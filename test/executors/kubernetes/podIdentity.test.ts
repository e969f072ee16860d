import { describe, expect, it } from 'vitest';
import type { TaskWorkload } from '../../../db/taskWorkload.ts';
import { podAnnotations, podKeyOf, podLabels, podName, podSelector, podTaskInstance, safeLabelValue } from '../../../kubernetes/podIdentity.ts';
import { parseLabelSelector } from '../../kubernetes/fake/selectors.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function workload(overrides: Partial<TaskWorkload> = {}): TaskWorkload {
  return {
    tiId: 7,
    dagId: 'etl',
    taskId: 'extract',
    runId: 'manual__2025-01-01T00:00:00+00:00',
    mapIndex: -1,
    tryNumber: 1,
    queue: 'default',
    priorityWeight: 1,
    executorConfig: null,
    ...overrides,
  };
}

const ODD_IDS: Partial<TaskWorkload>[] = [
  { dagId: 'My_DAG.with.dots', taskId: 'Task_With_CAPS' },
  { dagId: '__leading_underscores__', taskId: '-dash-' },
  { dagId: 'dág_ünïcode', taskId: 'tâche' },
  { dagId: 'd'.repeat(250), taskId: 't'.repeat(250), runId: `scheduled__${'x'.repeat(240)}` },
  { dagId: '...', taskId: '___' },
  { dagId: 'a.b', taskId: 'c' },
  { dagId: 'a_b', taskId: 'c' },
  { dagId: 'A-B', taskId: 'c' },
  { runId: 'backfill__2025-03-30T01:30:00+02:00', mapIndex: 3 },
];

describe('pod names', () => {
  it.each(ODD_IDS.map((ids) => [JSON.stringify(ids).slice(0, 60), ids]))('is a DNS label of at most 63 characters for %s', (_name, ids) => {
    const name = podName(workload(ids));
    expect(name).toMatch(DNS_LABEL);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it('is the same for the same try and different for every other task instance or try', () => {
    const names = ODD_IDS.map((ids) => podName(workload(ids)));
    expect(new Set(names).size).toBe(names.length);
    expect(podName(workload())).toBe(podName(workload()));
    expect(podName(workload({ tryNumber: 2 }))).not.toBe(podName(workload({ tryNumber: 1 })));
    expect(podName(workload({ mapIndex: 0 }))).not.toBe(podName(workload({ mapIndex: 1 })));
    expect(podName(workload({ runId: 'manual__a' }))).not.toBe(podName(workload({ runId: 'manual__b' })));
  });

  it('keeps readable ids readable', () => {
    expect(podName(workload({ dagId: 'example_etl', taskId: 'load', tryNumber: 3 }))).toMatch(/^example-etl-load-[0-9a-f]{10}-3$/);
  });
});

describe('pod labels', () => {
  it.each(ODD_IDS.map((ids) => [JSON.stringify(ids).slice(0, 60), ids]))('are valid Kubernetes label values for %s', (_name, ids) => {
    for (const value of Object.values(podLabels(workload(ids), 12))) {
      expect(value).toMatch(LABEL_VALUE);
      expect(value.length).toBeLessThanOrEqual(63);
    }
  });

  it('keep valid values as they are and hash the ones that had to change, so different ids stay different', () => {
    expect(safeLabelValue('example_etl')).toBe('example_etl');
    expect(safeLabelValue('manual__2025-01-01T00:00:00+00:00')).toMatch(/^manual__2025-01-01T0000000000-h[0-9a-f]{9}$/);
    expect(safeLabelValue('a:b')).not.toBe(safeLabelValue('a+b'));
    expect(safeLabelValue('x'.repeat(64))).not.toBe(safeLabelValue('x'.repeat(65)));
    expect(safeLabelValue('')).toBe('');
  });

  it("carry the scheduler job, the try and the executor marker under Airflow's names", () => {
    const labels = podLabels(workload({ tryNumber: 2, mapIndex: 4 }), 12);
    expect(labels).toMatchObject({ kubernetes_executor: 'True', 'airflow-worker': '12', dag_id: 'etl', task_id: 'extract', try_number: '2', map_index: '4' });
  });

  it('round-trip the exact ids through the annotations', () => {
    const w = workload({ dagId: 'dág_ünïcode', runId: 'manual__2025-01-01T00:00:00+00:00', mapIndex: 2, tryNumber: 5, tiId: 99 });
    const pod = { metadata: { annotations: podAnnotations(w) } };
    expect(podKeyOf(pod)).toEqual({ tiId: 99, tryNumber: 5 });
    expect(podTaskInstance(pod)).toEqual({ dagId: 'dág_ünïcode', taskId: 'extract', runId: 'manual__2025-01-01T00:00:00+00:00', mapIndex: 2 });
    expect(podKeyOf({ metadata: { annotations: {} } })).toBeNull();
  });
});

describe("pod selector (reading a try's log from its pod)", () => {
  it("selects one mapped instance's pod among its task's, and an unmapped task's pod only", () => {
    const pods = [-1, 0, 1, 2].map((mapIndex) => ({ mapIndex, labels: podLabels(workload({ mapIndex }), 3) }));
    const selected = (mapIndex: number) => {
      const matches = parseLabelSelector(podSelector({ ...workload(), mapIndex }));
      return pods.filter((p) => matches(p.labels)).map((p) => p.mapIndex);
    };
    expect(selected(1)).toEqual([1]);
    expect(selected(2)).toEqual([2]);
    expect(selected(-1)).toEqual([-1]);
  });
});
