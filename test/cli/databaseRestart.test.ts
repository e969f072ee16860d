import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { triggerDagRun } from '../../services/triggerDagRun.ts';
import { runCli } from '../helpers/cli.ts';
import { writeDag } from '../helpers/dagsFolder.ts';
import { clusterKnex, embeddedHome, postmasterOf, spawnAirflow } from '../helpers/embeddedHome.ts';
import { eventually } from '../helpers/eventually.ts';

// kill -9 of the embedded postmaster under a running scheduler (ADR 0009): a live airflow-ts process
// restarts it, every process reconnects by itself, and no task body runs twice.
const { home, dags, env } = embeddedHome();
const out = path.join(home, 'bodies.txt');
const started = path.join(home, 'a.started');
const gate = path.join(home, 'a.gate');
afterAll(() => rmSync(gate, { force: true })); // a's bash loop ends even if the test failed before opening it
writeDag(
  dags,
  'restart.ts',
  `import { BashOperator, DAG } from 'airflow-ts';
const dag = new DAG({ dagId: 'restart', isPausedUponCreation: false });
// a's body waits for the test to open its gate, so it is mid-body when the database dies.
const a = new BashOperator({ dag, taskId: 'a', retries: 2, bashCommand: ${JSON.stringify(`touch ${started}; while [ -e ${gate} ]; do sleep 0.02; done; echo a >> ${out}`)} });
const b = new BashOperator({ dag, taskId: 'b', retries: 2, bashCommand: ${JSON.stringify(`echo b >> ${out}`)} });
const c = new BashOperator({ dag, taskId: 'c', retries: 2, bashCommand: ${JSON.stringify(`echo c >> ${out}`)} });
a.then(b).then(c);
export default dag;
`,
);

/** Pids of the postmasters serving `dataDir` (backends rename themselves "postgres: …"; the postmaster keeps its command line). */
function postmastersOn(dataDir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args[0]!.endsWith('/postgres') && args.includes(dataDir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Runs `check`, treating a database error (it is down) as "not yet". */
const whenUp =
  <T>(check: () => Promise<T>) =>
  () =>
    check().catch(() => undefined);

describe('the embedded postmaster killed with -9 under a running scheduler', () => {
  it('is restarted, the scheduler and its workers carry on, and every task body ran exactly once', { timeout: 240_000 }, async () => {
    expect((await runCli(['db', 'migrate'], { env, timeoutMs: 120_000 })).code).toBe(0);
    const scheduler = spawnAirflow(['scheduler'], {
      ...env,
      AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
      AIRFLOW__CORE__PARALLELISM: '2',
      AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: '1',
    });
    await scheduler.waitFor(/scheduler started/);
    const knex = clusterKnex(home);
    await eventually(
      'the DAG to be parsed',
      whenUp(async () => (await knex('serialized_dag').where('dag_id', 'restart').first()) ?? undefined),
    );
    writeFileSync(gate, '');
    const run = await triggerDagRun(knex, { dagId: 'restart', now: new Date() });
    await eventually('task a to be mid-body', () => existsSync(started));

    const before = postmasterOf(home)!;
    const outputBefore = scheduler.output().length;
    process.kill(before.pid, 'SIGKILL');
    const killedAt = Date.now();
    rmSync(gate); // a's body ends now, most likely while the database is still down

    await eventually('the postmaster to be restarted', () => (postmasterOf(home)?.pid ?? before.pid) !== before.pid, 30_000);
    const serverBackS = (Date.now() - killedAt) / 1000;
    // The scheduler and its workers all watch the server and may start a postmaster at the same moment;
    // Postgres's lock on the data folder lets one win, and the others exit within moments.
    let seen: number[] = [];
    await eventually(
      'one postmaster to serve the data folder',
      () => {
        seen = postmastersOn(path.join(home, 'postgres', 'data'));
        return seen.length === 1 && seen[0] === postmasterOf(home)?.pid;
      },
      10_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; postmasters on the data folder: ${seen.join(', ')}`);
    });
    await eventually(
      'the scheduler to heartbeat again',
      whenUp(async () => {
        const job = await knex('job').where({ job_type: 'SchedulerJob', state: 'running' }).first('latest_heartbeat');
        return job && job.latest_heartbeat.getTime() > killedAt;
      }),
      60_000,
    );
    const schedulerBackS = (Date.now() - killedAt) / 1000;
    const state = await eventually(
      'the run to finish',
      whenUp(async () => {
        const row = await knex('dag_run').where({ dag_id: 'restart', run_id: run.run_id }).first('state');
        return row && ['success', 'failed'].includes(row.state) ? (row.state as string) : undefined;
      }),
      90_000,
    );
    const outage = scheduler.output().slice(outputBefore);
    const complaints = outage.split('\n').filter((line) => / (WARN|ERROR) /.test(line));
    console.log(
      `postmaster killed: server back after ${serverBackS.toFixed(1)} s, scheduler heartbeating after ${schedulerBackS.toFixed(1)} s; ${complaints.length} warning/error line(s) from the scheduler meanwhile:\n${complaints.join('\n')}`,
    );

    expect(state).toBe('success');
    const tis = await knex('task_instance').where({ dag_id: 'restart', run_id: run.run_id }).orderBy('task_id').select('task_id', 'state', 'try_number');
    expect(tis).toEqual(['a', 'b', 'c'].map((task_id) => ({ task_id, state: 'success', try_number: 1 })));
    expect(readFileSync(out, 'utf8').trim().split('\n')).toEqual(['a', 'b', 'c']);

    expect(await scheduler.stop('SIGTERM')).toBe(0);
    await knex.destroy();
    await eventually('the last user to stop the server', () => postmasterOf(home) === null, 30_000);
  });

  it('under `airflow standalone`, which restarts it and answers the API again', { timeout: 180_000 }, async () => {
    // A home of its own: a scheduler left behind by a failed test above would keep the server up.
    const { home, env } = embeddedHome();
    const standalone = spawnAirflow(['standalone'], { ...env, AIRFLOW__WEBSERVER__PORT: '0', AIRFLOW__WEBSERVER__HOST: '127.0.0.1' });
    const [, url, password] = await standalone.waitFor(/standalone is ready: (http:\/\/\S+)[\s\S]*password: (\S+)/);
    const auth = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
    const dags = async () => (await fetch(`${url}/api/v1/dags`, { headers: auth })).status;
    expect(await dags()).toBe(200);

    const before = postmasterOf(home)!;
    process.kill(before.pid, 'SIGKILL');
    await eventually('the postmaster to be restarted', () => (postmasterOf(home)?.pid ?? before.pid) !== before.pid, 30_000);
    await eventually('the API to answer again', async () => (await dags()) === 200, 30_000);
    const health = (await (await fetch(`${url}/api/v1/health`)).json()) as { metadatabase: { status: string } };
    expect(health.metadatabase.status).toBe('healthy');
    expect(await standalone.stop('SIGINT')).toBe(0);
    expect(postmasterOf(home)).toBeNull();
  });
});
