import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { clusterKnex, embeddedHome, postmasterOf, spawnAirflow, type AirflowProcess } from '../helpers/embeddedHome.ts';
import { eventually } from '../helpers/eventually.ts';

// ADR 0007: every live airflow-ts process of an AIRFLOW_HOME keeps the embedded server up, whoever started it.
const PASSWORD = 'correct horse battery';

async function prepared() {
  const setup = embeddedHome();
  expect((await runCli(['db', 'migrate'], { env: setup.env, timeoutMs: 120_000 })).code).toBe(0);
  const created = await runCli(['users', 'create', '-u', 'admin', '-p', PASSWORD, '-r', 'Admin'], { env: setup.env, timeoutMs: 60_000 });
  expect(created.code, created.stderr).toBe(0);
  return setup;
}

async function startWebserver(env: Record<string, string>): Promise<{ process: AirflowProcess; url: string }> {
  const webserver = spawnAirflow(['webserver', '-p', '0', '-H', '127.0.0.1'], env);
  const [, url] = await webserver.waitFor(/webserver listening on (http:\/\/\S+?) /);
  return { process: webserver, url: url! };
}

/** The health endpoint's view of the database, and the status of an authenticated API call. */
async function answers(url: string): Promise<{ metadatabase: string; dags: number }> {
  const health = (await (await fetch(`${url}/api/v1/health`)).json()) as { metadatabase: { status: string } };
  const dags = await fetch(`${url}/api/v1/dags`, { headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` } });
  return { metadatabase: health.metadatabase.status, dags: dags.status };
}

describe('the embedded server under several processes', () => {
  it('a SIGTERMed scheduler leaves the server up for a running webserver; the last process out stops it', { timeout: 240_000 }, async () => {
    const { home, env } = await prepared();
    const webserver = await startWebserver(env);
    const server = postmasterOf(home)!;
    expect(await answers(webserver.url)).toEqual({ metadatabase: 'healthy', dags: 200 });
    // knex closes idle connections after 30 s: a webserver nobody calls holds none, which is when
    // counting connections (the old rule) let a scheduler stop the server under it.
    const knex = clusterKnex(home);
    await eventually(
      'the webserver pool to be idle',
      async () => (await knex.raw(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'airflow-ts'`)).rows[0].n === 0,
      60_000,
    );

    const scheduler = spawnAirflow(['scheduler'], env);
    await scheduler.waitFor(/scheduler started/);
    expect(await scheduler.stop('SIGTERM')).toBe(0);

    expect(postmasterOf(home)).toEqual(server);
    expect(await answers(webserver.url)).toEqual({ metadatabase: 'healthy', dags: 200 });
    expect(await webserver.process.stop('SIGTERM')).toBe(0);
    expect(postmasterOf(home)).toBeNull();
  });

  it('a webserver re-attaches when the server comes back on a new port (its old port taken)', { timeout: 240_000 }, async () => {
    const { home, env } = await prepared();
    const webserver = await startWebserver(env);
    const before = postmasterOf(home)!;
    expect(await answers(webserver.url)).toEqual({ metadatabase: 'healthy', dags: 200 });

    process.kill(before.pid, 'SIGKILL');
    // Someone else takes the port at once, before anyone can restart Postgres on it.
    const squatter = net.createServer();
    await eventually(
      'the old port to be taken',
      () =>
        new Promise<boolean>((resolve) => {
          squatter.once('error', () => resolve(false));
          squatter.listen(before.port, '127.0.0.1', () => resolve(true));
        }),
    );
    try {
      // A new postmaster: the killed one can look alive for a moment after its port is free (exiting, not yet a zombie).
      const after = await eventually('the server to come back', () => (postmasterOf(home)?.pid ?? before.pid) !== before.pid && postmasterOf(home), 30_000);
      expect(after.port).not.toBe(before.port);
      await eventually(
        'the webserver to answer again',
        async () => {
          const now = await answers(webserver.url);
          return now.metadatabase === 'healthy' && now.dags === 200;
        },
        30_000,
      );
      expect(await webserver.process.stop('SIGTERM')).toBe(0);
      expect(postmasterOf(home)).toBeNull();
    } finally {
      squatter.close();
    }
  });
});
