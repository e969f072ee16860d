import type { SerializedDag } from '../core/serialize.ts';

/** A link an operator adds to its task instance (Airflow's operator extra links, e.g. "Triggered DAG"): on its UI page and in REST's `.../links`. */
export interface ExtraLink {
  name: string;
  href: string;
  /** What the link shows, e.g. the triggered DAG and run. */
  text: string;
}

/**
 * The extra links of a task instance, from what its last try left: a TriggerDagRunOperator's
 * `trigger_run_id` XCom and its rendered (else written) `triggerDagId` lead to the run it triggered.
 */
export function operatorExtraLinks(
  task: SerializedDag['tasks'][number] | null,
  xcoms: readonly { key: string; value: unknown }[],
  rendered: Record<string, unknown> | null,
): ExtraLink[] {
  if (task?.operator !== 'TriggerDagRunOperator') return [];
  const runId = xcoms.find((x) => x.key === 'trigger_run_id')?.value;
  const dagId = rendered?.triggerDagId ?? task.fields.triggerDagId;
  if (typeof runId !== 'string' || typeof dagId !== 'string') return [];
  return [{ name: 'Triggered DAG', href: `/dags/${encodeURIComponent(dagId)}/runs/${encodeURIComponent(runId)}`, text: `${dagId} · ${runId}` }];
}
