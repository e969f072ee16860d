import { triggerAndWait } from '../dagRuns.ts';
import { writeChainDag } from '../generateDags.ts';
import type { Metric, Scenario } from '../scenario.ts';
import { median, p95 } from '../stats.ts';

/**
 * One manually triggered DAG of `tasks` chained tasks, each computing
 * fibo(fiboN). Per run: trigger -> first start and -> last end, first
 * start -> last end, and the hand-off between consecutive tasks (start of
 * task i+1 minus end of task i): its median and p95 within the run.
 */
export function chainScenario(options: { name: string; tasks: number; fiboN: number; targets?: { hopMedianMs: number; spanMs: number } }): Scenario {
  const { name, tasks, fiboN, targets } = options;
  const local = ['LocalExecutor'] as const;
  const metrics: Metric[] = [
    { key: 'total_ms', label: 'trigger → last end', unit: 'ms' },
    { key: 'first_start_ms', label: 'trigger → first start', unit: 'ms' },
    { key: 'span_ms', label: 'first start → last end', unit: 'ms', ...(targets && { target: { op: '<=', value: targets.spanMs, executors: local } }) },
    {
      key: 'hop_median_ms',
      label: 'per-hop end→start, median',
      unit: 'ms',
      ...(targets && { target: { op: '<=', value: targets.hopMedianMs, executors: local } }),
    },
    { key: 'hop_p95_ms', label: 'per-hop end→start, p95', unit: 'ms' },
    { key: 'task_median_ms', label: 'task start→end, median', unit: 'ms' },
  ];
  return {
    name,
    description: `${tasks} chained tasks of fibo(${fiboN}), triggered manually`,
    metrics,
    plan: () => ({ parallelism: 32, params: { tasks, fibo: fiboN } }),
    async run(context) {
      const dag = writeChainDag(context.dagsFolder, name, tasks, fiboN);
      const scheduler = await context.startScheduler();
      const run = await triggerAndWait(context.db.knex, dag.dagId, scheduler, 30 * 60_000);
      const byId = new Map(run.tasks.map((t) => [t.taskId, t]));
      const ordered = dag.taskIds.map((id) => byId.get(id)!);
      const hops = ordered.slice(1).map((t, i) => t.start - ordered[i]!.end);
      const firstStart = Math.min(...ordered.map((t) => t.start));
      const lastEnd = Math.max(...ordered.map((t) => t.end));
      return {
        total_ms: lastEnd - run.triggeredAt,
        first_start_ms: firstStart - run.triggeredAt, // includes the scheduler noticing the run
        span_ms: lastEnd - firstStart,
        hop_median_ms: median(hops),
        hop_p95_ms: p95(hops),
        task_median_ms: median(ordered.map((t) => t.end - t.start)),
      };
    },
  };
}
