import type { Knex } from 'knex';
import { writeChainDag, writeParseDags } from '../generateDags.ts';
import type { Scenario } from '../scenario.ts';
import { sleep } from '../schedulerProcess.ts';

const FILES = 1000;
const both = ['LocalExecutor', 'SequentialExecutor'] as const;

/**
 * 1,000 DAG files of 10 tasks each: how long the scheduler takes from its
 * start to having every DAG serialized, how long one edited file takes to
 * be re-serialized, and the scheduler's resident memory with them loaded.
 */
export const parse1000: Scenario = {
  name: 'parse1000',
  description: `${FILES} generated DAG files of 10 tasks each`,
  metrics: [
    { key: 'all_serialized_s', label: 'scheduler spawn → all serialized', unit: 's', target: { op: '<=', value: 15, executors: both } },
    { key: 'change_reflected_ms', label: 'file rewritten → re-serialized', unit: 'ms', target: { op: '<=', value: 1000, executors: both } },
    { key: 'scheduler_rss_mb', label: 'scheduler RSS, 1,000 DAGs', unit: 'MiB', target: { op: '<=', value: 200, executors: both } },
    { key: 'children_rss_mb', label: 'its child processes RSS (parser, workers)', unit: 'MiB' },
  ],
  plan: () => ({ parallelism: 32, params: { files: FILES, tasksPerDag: 10 } }),
  async run(context) {
    const { knex } = context.db;
    const dags = writeParseDags(context.dagsFolder, FILES);
    // The scheduler is "up" once its initial parse of the whole folder is recorded.
    const scheduler = await context.startScheduler({ readyTimeoutMs: 15 * 60_000 });
    const all = await serializedSummary(knex);
    if (all.count !== FILES) {
      const errors = await knex('import_error').limit(1).pluck('message');
      throw new Error(`${all.count} of ${FILES} DAGs serialized${errors.length ? `; first import error: ${errors[0]}` : ''}`);
    }

    const edited = dags[FILES / 2]!;
    const before = await knex('serialized_dag').where('dag_id', edited.dagId).first('dag_hash');
    const writtenAt = Date.now();
    writeChainDag(context.dagsFolder, edited.dagId, 11, 10); // one task more: a new hash
    const deadline = Date.now() + 60_000;
    let updatedAt: number | null = null;
    while (updatedAt === null) {
      const row = await knex('serialized_dag')
        .where('dag_id', edited.dagId)
        .first('dag_hash', knex.raw('(extract(epoch from last_updated) * 1000)::text AS updated_ms'));
      if (row.dag_hash !== before.dag_hash) updatedAt = Number(row.updated_ms);
      else if (Date.now() > deadline) throw new Error(`${edited.file} was not re-serialized within 60 s of being rewritten`);
      else await sleep(50); // the figure is last_updated, not when we noticed
    }

    return {
      all_serialized_s: (all.lastUpdated - scheduler.spawnedAt) / 1000,
      change_reflected_ms: updatedAt - writtenAt,
      scheduler_rss_mb: scheduler.rssMb(),
      children_rss_mb: scheduler.childrenRssMb(),
    };
  },
};

async function serializedSummary(knex: Knex): Promise<{ count: number; lastUpdated: number }> {
  const row = await knex('serialized_dag').first(
    knex.raw('count(*)::int AS count'),
    knex.raw('(extract(epoch from max(last_updated)) * 1000)::text AS last_ms'),
  );
  return { count: row.count, lastUpdated: Number(row.last_ms) };
}
