import { describe, expect, it } from 'vitest';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { tempDagsFolder, writeDag } from '../helpers/dagsFolder.ts';
import { embeddedHome, spawnAirflow } from '../helpers/embeddedHome.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTcpProxy, throughProxy } from '../helpers/tcpProxy.ts';

// An external Postgres that goes away and comes back (here: a proxy cut in front of it): the scheduler
// backs off instead of spinning, stays up, re-establishes its LISTEN connection and carries on.
const db = await createTestDatabase();
const upstream = new URL(db.url);
const proxy = await startTcpProxy({ host: upstream.hostname, port: Number(upstream.port) });
const { env } = embeddedHome();
const dags = tempDagsFolder();
writeDag(
  dags,
  'after_outage.ts',
  `import { BashOperator, DAG } from 'airflow-ts';\nconst dag = new DAG({ dagId: 'after_outage', isPausedUponCreation: false });\nnew BashOperator({ dag, taskId: 'hello', bashCommand: 'echo hello' });\nexport default dag;\n`,
);

const listeners = async () =>
  (
    await db.knex.raw(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN %' AND pid <> pg_backend_pid()`,
    )
  ).rows[0].n as number;

describe('a scheduler on an external Postgres that goes away and comes back', () => {
  it('backs off (0.5 s doubling), stays up, listens again and schedules afterwards', { timeout: 120_000 }, async () => {
    const scheduler = spawnAirflow(['scheduler'], {
      ...env,
      AIRFLOW__DATABASE__URL: throughProxy(db.url, proxy.port),
      AIRFLOW__CORE__DAGS_FOLDER: dags,
      AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
      AIRFLOW__CORE__PARALLELISM: '1',
      AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: '1',
    });
    await scheduler.waitFor(/scheduler started/);
    await eventually('the DAG to be parsed', async () => (await db.knex('serialized_dag').where('dag_id', 'after_outage').first()) ?? undefined);
    await eventually('the scheduler to LISTEN', async () => (await listeners()) > 0);

    const from = scheduler.output().length;
    const cutAt = Date.now();
    await proxy.cut();
    let restored = false;
    try {
      await scheduler.waitFor(/scheduler loop retrying in 8 s/, 60_000);
      const outageS = (Date.now() - cutAt) / 1000;
      const during = scheduler.output().slice(from).split('\n');
      const waits = during
        .map((line) => /scheduler loop retrying in ([\d.]+) s/.exec(line)?.[1])
        .filter(Boolean)
        .map(Number);
      expect(waits).toEqual([0.5, 1, 2, 4, 8]);
      const complaints = during.filter((line) => / (WARN|ERROR) /.test(line)).length;

      await proxy.restore();
      restored = true;
      const restoredAt = Date.now();
      await scheduler.waitFor(/the database is back; the scheduler loop resumed/, 30_000);
      const resumedS = (Date.now() - restoredAt) / 1000;
      await eventually('the scheduler to LISTEN again', async () => (await listeners()) > 0, 30_000);
      const run = await triggerDagRun(db.knex, { dagId: 'after_outage', now: new Date() });
      await eventually(
        'the run triggered after the outage to succeed',
        async () => (await db.knex('dag_run').where({ dag_id: 'after_outage', run_id: run.run_id }).first('state'))?.state === 'success',
        30_000,
      );
      console.log(
        `external database away ${outageS.toFixed(1)} s: ${complaints} warning/error lines (${((complaints / outageS) * 60).toFixed(0)} per minute); scheduler resumed ${resumedS.toFixed(1)} s after it came back`,
      );
    } finally {
      // A failure mid-outage must not leave the next test a cut proxy.
      if (!restored) await proxy.restore();
    }
    expect(await scheduler.stop('SIGTERM')).toBe(0);
  });

  it('still stops on SIGTERM while the database is away, after a bounded wait for it', { timeout: 120_000 }, async () => {
    const scheduler = spawnAirflow(['scheduler'], {
      ...env,
      AIRFLOW__DATABASE__URL: throughProxy(db.url, proxy.port),
      AIRFLOW__CORE__DAGS_FOLDER: dags,
      AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
      AIRFLOW__CORE__PARALLELISM: '1',
    });
    await scheduler.waitFor(/scheduler started/);
    await proxy.cut();
    await scheduler.waitFor(/the database is unavailable/, 30_000);
    try {
      expect(await scheduler.stop('SIGTERM')).toBe(0);
      expect(scheduler.output()).toMatch(/the scheduler stopped without recording its executor's last events and its end/);
    } finally {
      await proxy.restore();
    }
  });
});
