import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../core/logger.ts';
import { connect } from '../../db/database.ts';
import { InProcessExecutor } from '../../executors/inProcessExecutor.ts';
import { runBackfillJob } from '../../scheduler/backfillJob.ts';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { eventually } from '../helpers/eventually.ts';
import { parseDags, testConfig } from '../helpers/runtime.ts';
import { startTcpProxy, throughProxy } from '../helpers/tcpProxy.ts';

// A task whose body finished while the database was away records its result when it is back,
// instead of failing and running again.
const db = await createTestDatabase();
const dags = tempDagsFolder();
const work = tempDagsFolder();
const bodies = path.join(work, 'bodies');
const started = path.join(work, 'started');
const gate = path.join(work, 'gate');
writeDag(
  dags,
  'outage.ts',
  `import { DAG, FunctionOperator } from 'airflow-ts';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
const dag = new DAG({ dagId: 'outage' });
new FunctionOperator({
  dag,
  taskId: 'body',
  retries: 2,
  retryDelay: 0,
  fn: async () => {
    appendFileSync(${JSON.stringify(bodies)}, 'ran\\n');
    writeFileSync(${JSON.stringify(started)}, '');
    while (existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 20));
    return 'done';
  },
});
export default dag;
`,
);
const config = await testConfig(dags, db.url);
await parseDags(config, db.knex);

describe('the task runner during a database outage', () => {
  it('retries the success write with backoff until the database is back: the body runs once and the try succeeds', async () => {
    const upstream = new URL(db.url);
    const proxy = await startTcpProxy({ host: upstream.hostname, port: Number(upstream.port) });
    const runnerDb = connect(throughProxy(db.url, proxy.port));
    const logger = memoryLogger();
    writeFileSync(gate, '');
    const run = await triggerDagRun(db.knex, { dagId: 'outage', now: new Date() });
    // The scheduling side uses the database directly; only the runner's connections go through the proxy.
    const finished = runBackfillJob({
      knex: db.knex,
      config,
      executor: new InProcessExecutor({ knex: runnerDb.knex, config, logger }),
      logger: memoryLogger(),
      dagId: 'outage',
      runIds: [run.run_id],
      ignorePause: true,
      pollMs: 20,
    });

    await eventually('the body to start', () => existsSync(started));
    await proxy.cut();
    rmSync(gate); // the body ends while the database is away
    await eventually(
      'the runner to find the database unavailable',
      () => logger.entries.some((e) => e.level === 'warn' && /recording its success: the database is unavailable/.test(e.message)),
      30_000,
    );
    await proxy.restore();

    const [result] = await finished;
    expect(result!.state).toBe('success');
    const ti = await db.knex('task_instance').where({ dag_id: 'outage', run_id: run.run_id }).first();
    expect(ti).toMatchObject({ state: 'success', try_number: 1 });
    expect(readFileSync(bodies, 'utf8')).toBe('ran\n');
    await runnerDb.close();
  });
});
